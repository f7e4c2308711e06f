"""The signing gateway's Prometheus metrics: signatures made, requests refused (by the error's
code) and cards locked. Labels carry a purpose or an error code from a fixed set, never a card
serial, a user, a PIN or any part of a message."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

PURPOSES = ("proposal", "transaction", "pin", "document")
REFUSAL_CODES = (
    "wrong_pin",
    "card_locked",
    "card_revoked",
    "not_found",
    "forbidden",
    "rate_limited",
    "invalid_input",
    "unauthenticated",
    "conflict",
    "audit_failed",
    "internal_error",
    "signing_failed",
)

SIGNATURES = Counter(
    "goldticket_signer_signatures", "Signatures the signing gateway made (pin: a PIN proved)", ["purpose"]
)
REFUSALS = Counter(
    "goldticket_signer_refusals", "Requests the signing gateway refused, by error code", ["code"]
)


def signed(purpose: str) -> None:
    SIGNATURES.labels(purpose if purpose in PURPOSES else "other").inc()


def refused(code: object) -> None:
    REFUSALS.labels(code if isinstance(code, str) and code in REFUSAL_CODES else "other").inc()


class LockedCards(Collector):
    """Cards locked after too many wrong PINs, counted in the card registry when scraped."""

    def __init__(self, registry: Any) -> None:
        self.registry = registry

    def collect(self) -> Iterator[GaugeMetricFamily]:
        locked = sum(1 for card in self.registry.all_cards() if card.locked)
        yield GaugeMetricFamily("goldticket_signer_locked_cards", "Cards locked by wrong PINs", value=locked)


class _Exposed(Collector):
    """This process's metrics and the locked cards."""

    def __init__(self, card_registry: Any) -> None:
        self.locked = LockedCards(card_registry)

    def collect(self) -> Iterator[Any]:
        yield from REGISTRY.collect()
        yield from self.locked.collect()


def registry_for(card_registry: Any) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Exposed(card_registry))
    return registry


def exposition(card_registry: Any) -> bytes:
    """This process's metrics and the locked cards, in Prometheus' text format."""
    return generate_latest(registry_for(card_registry))
