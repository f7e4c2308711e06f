"""Request ids, one structured log line per request, and Prometheus metrics (request counts
and latencies, ledger height, follower lag). Logs carry the method, the route and the status,
never a body, a query string or a header: PINs, passwords and tokens stay out of them."""

from __future__ import annotations

import json
import logging
import os
import secrets
import time
from collections.abc import Iterator
from typing import Any

from flask import Flask, Response, current_app, g, request
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from goldticket.signing import metrics as signer_metrics

log = logging.getLogger("goldticket.web.requests")

REQUESTS = Counter("goldticket_http_requests", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "goldticket_http_request_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


class LedgerCollector(Collector):
    """Ledger height and follower lag, read when scraped."""

    def __init__(self, portal: Any) -> None:
        self.portal = portal

    def collect(self) -> Iterator[GaugeMetricFamily]:
        height = self.portal.platform.ledger.height()
        checkpoint = self.portal.follower.checkpoint()
        yield GaugeMetricFamily("goldticket_ledger_height", "Blocks on the ledger", value=height)
        yield GaugeMetricFamily(
            "goldticket_follower_lag_blocks",
            "Blocks not yet in the read model",
            value=max(0, height - checkpoint),
        )


def metrics_text(portal: Any) -> bytes:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        from prometheus_client import REGISTRY

        return generate_latest(REGISTRY) + generate_latest(_ledger_registry(portal))
    registry.register(LedgerCollector(portal))
    return generate_latest(registry)


class _SignerOnly(Collector):
    """The signing metrics of this process (or of every worker, in multiprocess mode) and the
    locked cards: the cards sign in the web workers when no gateway is configured."""

    def __init__(self, source: Any, card_registry: Any) -> None:
        self.source = source
        self.locked = signer_metrics.LockedCards(card_registry)

    def collect(self) -> Iterator[Any]:
        for family in self.source.collect():
            if family.name.startswith("goldticket_signer_"):
                yield family
        yield from self.locked.collect()


def signer_metrics_text(portal: Any) -> bytes:
    """The signing gateway's metrics for Prometheus, through this web service: fetched over the
    gateway's own socket (with the deployment secret) when it runs apart, so a gateway kept off
    the network (the systemd unit's PrivateNetwork) is still watched; this process's own when
    the cards sign here. Raises GatewayUnavailableError when the gateway does not answer."""
    gateway = portal.platform.gateway
    if gateway is not None:
        return str(gateway.metrics_text()).encode()
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        source: Any = CollectorRegistry()
        multiprocess.MultiProcessCollector(source)  # type: ignore[no-untyped-call]
    else:
        from prometheus_client import REGISTRY as source
    registry.register(_SignerOnly(source, portal.platform.cards.registry))
    return generate_latest(registry)


def _ledger_registry(portal: Any) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(LedgerCollector(portal))
    return registry


def init_app(app: Flask) -> None:
    @app.before_request
    def start() -> None:
        incoming = request.headers.get("X-Request-Id", "")
        g.request_id = incoming if 8 <= len(incoming) <= 64 and incoming.isalnum() else secrets.token_hex(8)
        g.started = time.perf_counter()

    @app.after_request
    def finish(response: Response) -> Response:
        elapsed = time.perf_counter() - g.get("started", time.perf_counter())
        route = request.url_rule.rule if request.url_rule else "unmatched"
        REQUESTS.labels(request.method, route, str(response.status_code)).inc()
        LATENCY.labels(request.method, route).observe(elapsed)
        response.headers["X-Request-Id"] = g.get("request_id", "")
        if current_app.config.get("LOG_REQUESTS", True):
            actor = g.get("actor")
            log.info(
                json.dumps(
                    {
                        "event": "request",
                        "request_id": g.get("request_id"),
                        "method": request.method,
                        "route": route,
                        "status": response.status_code,
                        "ms": round(elapsed * 1000, 1),
                        "user": actor.username if actor else None,
                    }
                )
            )
        return response
