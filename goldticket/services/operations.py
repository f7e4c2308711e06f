"""The operations console's figures: every Fabric node (up, height, last block age, from its
operations service's /healthz and /metrics), the chain (tx/s, commit latency, endorsement and
MVCC failures over the last hour), the signing gateway (signatures/s, refusals, locked cards),
the web service (requests/s, 4xx/5xx, p95), the read model's lag, and the alerts.

A sample is taken at most once per interval (5 s) by whichever web worker is asked first and
kept for an hour in ``operations.sqlite`` (store.ops_history, shared by the host's workers);
rates are differences of counters between consecutive samples. The Fabric nodes come from the
connection profile's ``operations`` URLs (``make network-up`` writes them), never from a list
of our own. Every probe has a short timeout and the nodes are probed in parallel, so a node
that hangs costs one timeout, not one per node."""

from __future__ import annotations

import concurrent.futures
import dataclasses
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from typing import Any

from fabric_protos.common import common_pb2
from fabric_protos.peer import transaction_pb2
from prometheus_client.parser import text_string_to_metric_families

from goldticket.ledger import LedgerError
from goldticket.ledger.fabric.profile import OperationsEndpoint, operations_endpoints
from goldticket.settings import Settings
from goldticket.signing.errors import SigningError
from goldticket.store.ops_history import History

from .context import china_clock

PROBE_TIMEOUT = 1.5  # seconds for one node's /healthz or /metrics
INTERVAL = 5.0  # seconds between samples
WINDOW = 3600.0  # the history the console shows
MAX_BLOCKS_PER_SAMPLE = 500  # blocks read to count transactions in one sample
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
# Fabric's histograms of a peer's block commit (core/ledger/kvledger/metrics.go)
COMMIT_PHASES = (
    "ledger_block_processing_time",
    "ledger_blockstorage_and_pvtdata_commit_time",
    "ledger_statedb_commit_time",
)
MVCC = transaction_pb2.TxValidationCode.Value("MVCC_READ_CONFLICT")
PHANTOM = transaction_pb2.TxValidationCode.Value("PHANTOM_READ_CONFLICT")
POLICY = transaction_pb2.TxValidationCode.Value("ENDORSEMENT_POLICY_FAILURE")


# ----------------------------------------------------------------------- Prometheus text
def parse_metrics(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Prometheus text -> sample name -> [(labels, value)]. Counters appear under both their
    exposed name and without ``_total`` (Fabric's Go counters have no suffix)."""
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((dict(sample.labels), float(sample.value)))
            if sample.name.endswith("_total"):
                found.setdefault(sample.name.removesuffix("_total"), []).append(
                    (dict(sample.labels), float(sample.value))
                )
    return found


def _sum(metrics: dict[str, list[tuple[dict[str, str], float]]], name: str, **labels: str) -> float:
    return sum(
        value
        for found, value in metrics.get(name, [])
        if all(found.get(key) == wanted for key, wanted in labels.items())
    )


def _one(metrics: dict[str, list[tuple[dict[str, str], float]]], name: str, **labels: str) -> float | None:
    values = [
        value
        for found, value in metrics.get(name, [])
        if all(found.get(key) == wanted for key, wanted in labels.items())
    ]
    return max(values) if values else None


def _http(url: str, timeout: float) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"Accept": "text/plain"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - http(s) only
            return int(response.status), response.read(2_000_000).decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return int(error.code), error.read(64_000).decode("utf-8", "replace")


# ----------------------------------------------------------------------- one Fabric node
def probe_node(endpoint: OperationsEndpoint, channel: str, timeout: float = PROBE_TIMEOUT) -> dict[str, Any]:
    """One node's state: ``up`` when /healthz answers 200, its height on ``channel`` and the
    counters the console turns into rates."""
    node: dict[str, Any] = {"name": endpoint.name, "kind": endpoint.kind, "url": endpoint.url, "up": False}
    try:
        status, _ = _http(f"{endpoint.url}/healthz", timeout)
    except (OSError, ValueError) as error:
        node["problem"] = _reason(error)
        return node
    node["up"] = status == 200
    if status != 200:
        node["problem"] = f"/healthz answered {status}"
    try:
        status, text = _http(f"{endpoint.url}/metrics", timeout)
        if status != 200:
            node["metrics_problem"] = f"/metrics answered {status}"
            return node
        metrics = parse_metrics(text)
    except (OSError, ValueError) as error:
        node["metrics_problem"] = _reason(error)
        return node
    height = _one(metrics, "ledger_blockchain_height", channel=channel)
    node["height"] = int(height) if height is not None else None
    if endpoint.kind == "orderer":
        leader = _one(metrics, "consensus_etcdraft_is_leader", channel=channel)
        node["leader"] = None if leader is None else leader >= 1
    else:
        # a block's commit on the peer: validation and its ledger work, the block store, the state
        node["commit_sum"] = sum(_sum(metrics, f"{name}_sum", channel=channel) for name in COMMIT_PHASES)
        node["commit_count"] = _sum(metrics, "ledger_block_processing_time_count", channel=channel)
        node["endorse_failures"] = _sum(metrics, "endorser_endorsement_failures", channel=channel)
        node["proposals"] = _sum(metrics, "endorser_proposals_received")
    return node


def _reason(error: BaseException) -> str:
    if isinstance(error, urllib.error.URLError) and isinstance(error.reason, BaseException):
        error = error.reason
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, TimeoutError):
        return "no answer in time"
    return type(error).__name__


def probe_nodes(endpoints: Iterable[OperationsEndpoint], channel: str) -> list[dict[str, Any]]:
    endpoints = list(endpoints)
    if not endpoints:
        return []
    with concurrent.futures.ThreadPoolExecutor(max_workers=min(16, len(endpoints))) as pool:
        return list(pool.map(lambda endpoint: probe_node(endpoint, channel), endpoints))


# ----------------------------------------------------------------------- the sample
@dataclasses.dataclass
class Sources:
    """Where a sample's figures come from: the portal's pieces, and two callables for the
    metrics text of this web service and of the signing gateway."""

    settings: Settings
    ledger: Any
    follower: Any
    card_registry: Any
    web_metrics: Callable[[], str]
    gateway: Any  # a GatewayClient, or None when the cards sign in this process


def sources_of(portal: Any, web_metrics: Callable[[], str]) -> Sources:
    platform = portal.platform
    return Sources(
        platform.settings,
        platform.ledger,
        portal.follower,
        platform.cards.registry,
        web_metrics,
        platform.gateway,
    )


def endpoints_of(settings: Settings) -> tuple[OperationsEndpoint, ...]:
    if settings.ledger != "fabric":
        return ()
    return operations_endpoints(settings.fabric_profile_path)


def take_sample(
    sources: Sources, previous: dict[str, Any] | None, now: float | None = None
) -> dict[str, Any]:
    """Every figure now, with the counters' differences since ``previous``."""
    now = time.time() if now is None else now
    settings = sources.settings
    sample: dict[str, Any] = {"taken": now, "ledger_kind": settings.ledger}
    with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool:
        nodes_future = pool.submit(_nodes, settings)
        gateway_future = pool.submit(_gateway, sources)
        sample["chain"] = _chain(sources, previous)
        sample["web"] = _web(sources)
        sample["nodes"], sample["nodes_problem"] = nodes_future.result()
        sample["gateway"] = gateway_future.result()
    sample["follower"] = _follower(sources, sample["chain"].get("height"))
    _carry_node_ages(sample, previous, now)
    sample["delta"] = _delta(sample, previous)
    return sample


def _nodes(settings: Settings) -> tuple[list[dict[str, Any]], str | None]:
    try:
        endpoints = endpoints_of(settings)
    except LedgerError as error:
        return [], str(error)
    if settings.ledger == "fabric" and not endpoints:
        return [], (
            f"{settings.fabric_profile_path} names no operations endpoints: write the profile again"
            ' (make network-up) or add an "operations" URL to each peer and orderer'
        )
    return probe_nodes(endpoints, settings.channel), None


def _chain(sources: Sources, previous: dict[str, Any] | None) -> dict[str, Any]:
    """The ledger's height, its newest block's time, and the transactions (with their
    validation codes) of the blocks committed since the previous sample."""
    chain: dict[str, Any] = {"height": None, "last_block_time": None, "tx": 0, "mvcc": 0, "policy": 0}
    try:
        height = int(sources.ledger.height())
    except (LedgerError, OSError) as error:
        chain["problem"] = str(error)
        return chain
    chain["height"] = height
    before = (previous or {}).get("chain", {}).get("height")
    start = height - 1 if not isinstance(before, int) or before > height else before
    start = max(start, height - MAX_BLOCKS_PER_SAMPLE, 0)
    counting = isinstance(before, int) and before <= height
    try:
        for block in sources.ledger.blocks(start) if height else ():
            if block.number >= height:
                break
            if counting:
                chain["tx"] += len(block.validation_codes)
                chain["mvcc"] += sum(1 for code in block.validation_codes if code in (MVCC, PHANTOM))
                chain["policy"] += sum(1 for code in block.validation_codes if code == POLICY)
            if block.number == height - 1 and block.envelopes:
                chain["last_block_time"] = _envelope_time(block.envelopes[-1])
    except (LedgerError, OSError, ValueError) as error:
        chain["problem"] = str(error)
    if chain["last_block_time"] is None and previous and previous.get("chain", {}).get("height") == height:
        chain["last_block_time"] = previous["chain"].get("last_block_time")
    return chain


def _envelope_time(envelope: bytes) -> float | None:
    try:
        payload = common_pb2.Payload.FromString(common_pb2.Envelope.FromString(envelope).payload)
        header = common_pb2.ChannelHeader.FromString(payload.header.channel_header)
    except Exception:  # noqa: BLE001 - protobuf's DecodeError; a block we cannot date has no age
        return None
    if not header.timestamp.seconds:
        return None
    return header.timestamp.seconds + header.timestamp.nanos / 1e9


def _web(sources: Sources) -> dict[str, Any]:
    metrics = parse_metrics(sources.web_metrics())
    web: dict[str, Any] = {"requests": 0.0, "4xx": 0.0, "5xx": 0.0, "buckets": {}}
    for labels, value in metrics.get("goldticket_http_requests_total", []):
        web["requests"] += value
        status = labels.get("status", "")
        if status.startswith("4"):
            web["4xx"] += value
        elif status.startswith("5"):
            web["5xx"] += value
    for labels, value in metrics.get("goldticket_http_request_seconds_bucket", []):
        bound = labels.get("le", "")
        web["buckets"][bound] = web["buckets"].get(bound, 0.0) + value
    return web


def _gateway(sources: Sources) -> dict[str, Any]:
    gateway: dict[str, Any] = {"mode": "gateway" if sources.gateway is not None else "in_process"}
    try:
        if sources.gateway is not None:
            gateway["up"] = bool(sources.gateway.reachable(timeout=PROBE_TIMEOUT))
            text = sources.gateway.metrics_text(timeout=PROBE_TIMEOUT) if gateway["up"] else ""
        else:
            gateway["up"] = True
            text = sources.web_metrics()
    except SigningError as error:
        gateway.update(up=False, problem=str(error))
        text = ""
    metrics = parse_metrics(text) if text else {}
    gateway["signatures"] = _sum(metrics, "goldticket_signer_signatures_total")
    gateway["refusals"] = _sum(metrics, "goldticket_signer_refusals_total")
    gateway["wrong_pins"] = _sum(metrics, "goldticket_signer_refusals_total", code="wrong_pin")
    try:
        gateway["locked_cards"] = sum(1 for card in sources.card_registry.all_cards() if card.locked)
    except Exception as error:  # noqa: BLE001 - sqlite3 or the PKCS#11 registry: shown, not raised
        gateway["locked_cards"] = None
        gateway["locked_problem"] = type(error).__name__
    return gateway


def _follower(sources: Sources, height: int | None) -> dict[str, Any]:
    try:
        checkpoint = int(sources.follower.checkpoint())
    except Exception as error:  # noqa: BLE001 - the database may be down: shown as a problem
        return {"checkpoint": None, "lag": None, "problem": type(error).__name__}
    return {"checkpoint": checkpoint, "lag": None if height is None else max(0, height - checkpoint)}


def _carry_node_ages(sample: dict[str, Any], previous: dict[str, Any] | None, now: float) -> None:
    """Each node's ``height_since``: when this history first saw the node at its height."""
    before = {node["name"]: node for node in (previous or {}).get("nodes", [])}
    for node in sample["nodes"]:
        old = before.get(node["name"], {})
        if node.get("height") is None:
            node["height_since"] = None
        elif old.get("height") == node["height"]:
            node["height_since"] = old.get("height_since")  # None: unknown until the height moves
        else:
            node["height_since"] = now if old.get("height") is not None else None


def _grew(now: float | None, before: float | None) -> float:
    """A counter's increase; a counter that went down was restarted, so all of it is new."""
    if now is None:
        return 0.0
    if before is None or now < before:
        return now if before is not None else 0.0
    return now - before


def _delta(sample: dict[str, Any], previous: dict[str, Any] | None) -> dict[str, Any]:
    if previous is None:
        return {"seconds": 0.0}
    web, old_web = sample["web"], previous.get("web", {})
    gateway, old_gateway = sample["gateway"], previous.get("gateway", {})
    peers = {node["name"]: node for node in sample["nodes"] if node["kind"] == "peer"}
    old_peers = {node["name"]: node for node in previous.get("nodes", []) if node.get("kind") == "peer"}
    commit_sum = commit_count = endorse = 0.0
    for name, node in peers.items():
        old = old_peers.get(name, {})
        commit_sum += _grew(node.get("commit_sum"), old.get("commit_sum"))
        commit_count += _grew(node.get("commit_count"), old.get("commit_count"))
        endorse += _grew(node.get("endorse_failures"), old.get("endorse_failures"))
    buckets = {
        bound: _grew(value, old_web.get("buckets", {}).get(bound)) for bound, value in web["buckets"].items()
    }
    return {
        "seconds": max(0.0, sample["taken"] - previous["taken"]),
        "tx": sample["chain"]["tx"],
        "mvcc": sample["chain"]["mvcc"],
        "policy": sample["chain"]["policy"],
        "commit_sum": commit_sum,
        "commit_count": commit_count,
        "endorse_failures": endorse,
        "requests": _grew(web["requests"], old_web.get("requests")),
        "4xx": _grew(web["4xx"], old_web.get("4xx")),
        "5xx": _grew(web["5xx"], old_web.get("5xx")),
        "buckets": buckets,
        "signatures": _grew(gateway.get("signatures"), old_gateway.get("signatures")),
        "refusals": _grew(gateway.get("refusals"), old_gateway.get("refusals")),
    }


# ----------------------------------------------------------------------- the console
def history_of(settings: Settings) -> History:
    return History(settings.data_dir / "operations.sqlite", interval=INTERVAL, keep=WINDOW)


def sample_now(sources: Sources, history: History, now: float | None = None) -> dict[str, Any]:
    """The newest sample, taken now if this interval has none yet."""
    now = time.time() if now is None else now
    if history.due(now):
        sample = take_sample(sources, history.newest(), now)
        if history.add(sample):
            return sample
    newest = history.newest()
    assert newest is not None  # the slot was taken by another worker a moment ago
    return newest


def status(sources: Sources, history: History, now: float | None = None) -> dict[str, Any]:
    """What the console shows: the newest sample's state, the last hour's figures, the series
    for the charts and the alerts."""
    now = time.time() if now is None else now
    current = sample_now(sources, history, now)
    samples = history.window(now)
    settings = sources.settings
    hour = _hour(samples)
    chain = current["chain"]
    # transactions carry the platform's clock (a set date in dev and test): their age is read on it
    clock = china_clock(settings.today).timestamp() if settings.today else now
    last_block_age = (
        None if chain.get("last_block_time") is None else max(0.0, clock - chain["last_block_time"])
    )
    nodes = [_node_view(node, now, chain.get("height"), last_block_age) for node in current["nodes"]]
    return {
        "taken": current["taken"],
        "ledger": settings.ledger,
        "channel": settings.channel,
        "nodes": nodes,
        "nodes_problem": current.get("nodes_problem"),
        "chain": {
            "height": chain.get("height"),
            "last_block_age": last_block_age,
            "problem": chain.get("problem"),
            **hour["chain"],
        },
        "gateway": {**current["gateway"], **hour["gateway"]},
        "web": hour["web"],
        "follower": current["follower"],
        "series": _series(samples),
        "alerts": alerts(current, nodes, last_block_age, settings),
        "thresholds": {
            "block_age_minutes": settings.ops_block_age_minutes,
            "follower_lag_blocks": settings.ops_follower_lag_blocks,
        },
        "window_seconds": hour["seconds"],
        "samples": len(samples),
    }


def _node_view(
    node: dict[str, Any], now: float, chain_height: int | None, last_block_age: float | None
) -> dict[str, Any]:
    """A node's row: its newest block's age is the chain's newest block's when it has that block,
    else how long this history has seen it at its height."""
    since = node.get("height_since")
    if node.get("height") is not None and node["height"] == chain_height and last_block_age is not None:
        block_age: float | None = last_block_age
    else:
        block_age = None if since is None else max(0.0, now - since)
    return {
        "name": node["name"],
        "kind": node["kind"],
        "url": node["url"],
        "up": node["up"],
        "height": node.get("height"),
        "block_age": block_age,
        "leader": node.get("leader"),
        "problem": node.get("problem") or node.get("metrics_problem"),
    }


def _hour(samples: list[dict[str, Any]]) -> dict[str, Any]:
    deltas = [sample["delta"] for sample in samples if sample.get("delta", {}).get("seconds")]
    seconds = sum(delta["seconds"] for delta in deltas)

    def total(key: str) -> float:
        return sum(float(delta.get(key, 0.0)) for delta in deltas)

    def rate(key: str) -> float | None:
        return total(key) / seconds if seconds else None

    buckets: dict[str, float] = {}
    for delta in deltas:
        for bound, value in delta.get("buckets", {}).items():
            buckets[bound] = buckets.get(bound, 0.0) + value
    commit_count = total("commit_count")
    return {
        "seconds": seconds,
        "chain": {
            "tx_per_second": rate("tx"),
            "transactions": int(total("tx")),
            "mvcc_failures": int(total("mvcc")),
            "policy_failures": int(total("policy")),
            "endorsement_failures": int(total("endorse_failures")),
            "commit_seconds": total("commit_sum") / commit_count if commit_count else None,
        },
        "gateway": {
            "signatures_per_second": rate("signatures"),
            "signatures_hour": int(total("signatures")),
            "refusals_hour": int(total("refusals")),
        },
        "web": {
            "requests_per_second": rate("requests"),
            "requests_hour": int(total("requests")),
            "4xx_hour": int(total("4xx")),
            "5xx_hour": int(total("5xx")),
            "p95_seconds": quantile(buckets, 0.95),
        },
    }


def quantile(buckets: dict[str, float], q: float) -> float | None:
    """The upper bound of the histogram bucket holding the ``q`` quantile (cumulative buckets
    by their ``le``); None without observations, inf above the largest finite bound."""
    ordered = sorted(((float(bound), count) for bound, count in buckets.items()), key=lambda pair: pair[0])
    if not ordered or ordered[-1][1] <= 0:
        return None
    wanted = q * ordered[-1][1]
    for bound, count in ordered:
        if count >= wanted:
            return bound
    return ordered[-1][0]


def _series(samples: list[dict[str, Any]]) -> dict[str, list[tuple[float, float]]]:
    """Per-sample rates for the charts: (time, value)."""
    series: dict[str, list[tuple[float, float]]] = {
        "tx_per_second": [],
        "requests_per_second": [],
        "signatures_per_second": [],
        "errors_per_second": [],
        "height": [],
    }
    for sample in samples:
        delta, taken = sample.get("delta", {}), sample["taken"]
        if sample["chain"].get("height") is not None:
            series["height"].append((taken, float(sample["chain"]["height"])))
        seconds = delta.get("seconds")
        if not seconds:
            continue
        series["tx_per_second"].append((taken, delta["tx"] / seconds))
        series["requests_per_second"].append((taken, delta["requests"] / seconds))
        series["signatures_per_second"].append((taken, delta["signatures"] / seconds))
        series["errors_per_second"].append((taken, (delta["5xx"] + delta["refusals"]) / seconds))
    return series


def alerts(
    current: dict[str, Any], nodes: list[dict[str, Any]], last_block_age: float | None, settings: Settings
) -> list[dict[str, Any]]:
    """What needs the operator now: each a code, a severity and the figures to show."""
    found: list[dict[str, Any]] = []
    for node in nodes:
        if not node["up"]:
            found.append(
                {"code": "node_down", "severity": "critical", "node": node["name"], "detail": node["problem"]}
            )
    if current.get("nodes_problem"):
        found.append({"code": "nodes_unknown", "severity": "critical", "detail": current["nodes_problem"]})
    if current["chain"].get("problem"):
        found.append(
            {"code": "ledger_unreadable", "severity": "critical", "detail": current["chain"]["problem"]}
        )
    limit = settings.ops_block_age_minutes * 60
    if last_block_age is not None and last_block_age > limit:
        found.append(
            {
                "code": "block_old",
                "severity": "warning",
                "minutes": round(last_block_age / 60, 1),
                "limit": settings.ops_block_age_minutes,
            }
        )
    # a node stuck while the others move on (on a quiet chain every node waits: block_old says so)
    highest = max((node["height"] for node in nodes if node["height"] is not None), default=None)
    for node in nodes:
        behind = highest is not None and node["height"] is not None and node["height"] < highest
        if node["up"] and behind and node["block_age"] is not None and node["block_age"] > limit:
            found.append(
                {
                    "code": "node_block_old",
                    "severity": "warning",
                    "node": node["name"],
                    "minutes": round(node["block_age"] / 60, 1),
                    "limit": settings.ops_block_age_minutes,
                }
            )
    lag = current["follower"].get("lag")
    if lag is not None and lag > settings.ops_follower_lag_blocks:
        found.append(
            {
                "code": "follower_lag",
                "severity": "warning",
                "blocks": lag,
                "limit": settings.ops_follower_lag_blocks,
            }
        )
    if current["follower"].get("problem"):
        found.append(
            {"code": "follower_unknown", "severity": "critical", "detail": current["follower"]["problem"]}
        )
    if not current["gateway"].get("up"):
        found.append(
            {"code": "gateway_down", "severity": "critical", "detail": current["gateway"].get("problem")}
        )
    return found


# ----------------------------------------------------------------------- Prometheus
def prometheus_config(
    settings: Settings, *, web: str, signer_metrics: str | None = None, interval: str = "15s"
) -> dict[str, Any]:
    """A Prometheus configuration scraping this deployment: the web service's /metrics at
    ``web`` (host:port), the signing gateway's metrics (its own port ``signer_metrics``, else
    the web service's /metrics/signer), and every peer and orderer the connection profile names
    with its operations URL. Raises LedgerError for a bad profile."""
    jobs: list[dict[str, Any]] = [
        {"job_name": "goldticket-web", "metrics_path": "/metrics", "static_configs": [{"targets": [web]}]}
    ]
    if signer_metrics:  # the gateway's own --metrics-port
        jobs.append({"job_name": "goldticket-signer", "static_configs": [{"targets": [signer_metrics]}]})
    else:  # through the web service, which asks the gateway over its socket
        jobs.append(
            {
                "job_name": "goldticket-signer",
                "metrics_path": "/metrics/signer",
                "static_configs": [{"targets": [web]}],
            }
        )
    for kind in ("peer", "orderer"):
        nodes = [endpoint for endpoint in endpoints_of(settings) if endpoint.kind == kind]
        for scheme in ("http", "https"):
            chosen = [node for node in nodes if node.url.startswith(f"{scheme}://")]
            if not chosen:
                continue
            jobs.append(
                {
                    "job_name": f"fabric-{kind}s" + ("" if scheme == "http" else "-tls"),
                    "scheme": scheme,
                    "static_configs": [
                        {"targets": [node.url.split("://", 1)[1]], "labels": {"node": node.name}}
                        for node in chosen
                    ],
                }
            )
    return {
        "global": {"scrape_interval": interval, "evaluation_interval": interval},
        "rule_files": ["goldticket-alerts.yml"],
        "scrape_configs": jobs,
    }
