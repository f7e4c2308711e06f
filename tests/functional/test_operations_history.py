"""The console's history and figures without a network: several workers (processes) sampling
at once keep one sample per slot, old samples go, a node that does not answer is down at once,
rates survive a counter reset, p95 comes from the histogram, and a node is only "behind" when
another has blocks it lacks."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path
from typing import Any

from support import free_port

from goldticket.ledger.fabric.profile import OperationsEndpoint
from goldticket.services import operations
from goldticket.settings import Settings
from goldticket.store.ops_history import History


def _add_from_worker(path: str, taken: float, worker: int, results: Any) -> None:
    history = History(Path(path))
    results.put(history.add({"taken": taken + worker * 0.01, "worker": worker}))


def test_workers_sampling_at_once_keep_one_sample_per_slot(tmp_path: Path) -> None:
    path = tmp_path / "operations.sqlite"
    History(path)
    taken = (time.time() // 5) * 5 + 0.5
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    workers = [
        context.Process(target=_add_from_worker, args=(str(path), taken, n, results)) for n in range(6)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    stored = [results.get(timeout=5) for _ in workers]
    assert stored.count(True) == 1, stored
    history = History(path)
    assert len(history.window(taken + 1)) == 1 and not history.due(taken + 1)
    assert history.due(taken + 5)
    assert path.stat().st_mode & 0o777 == 0o600
    history.add({"taken": taken + 3700})
    assert [s["taken"] for s in history.window(taken + 3700)] == [taken + 3700]  # the hour-old one went


def test_a_node_that_does_not_answer_is_down_at_once() -> None:
    port = free_port()  # nothing listens there
    started = time.monotonic()
    nodes = operations.probe_nodes(
        [OperationsEndpoint("peer0.x", "peer", f"http://127.0.0.1:{port}")] * 4, "goldticket"
    )
    assert time.monotonic() - started < operations.PROBE_TIMEOUT
    assert all(not node["up"] and node["problem"] == "connection refused" for node in nodes)


def test_fabric_counters_without_total_and_the_p95() -> None:
    text = (
        "# TYPE endorser_endorsement_failures counter\n"
        'endorser_endorsement_failures{channel="goldticket",chaincode="gt",chaincodeerror="false"} 3\n'
        "# TYPE goldticket_signer_signatures_total counter\n"
        'goldticket_signer_signatures_total{purpose="proposal"} 7\n'
    )
    parsed = operations.parse_metrics(text)
    assert operations._sum(parsed, "endorser_endorsement_failures", channel="goldticket") == 3  # noqa: SLF001
    assert operations._sum(parsed, "goldticket_signer_signatures_total") == 7  # noqa: SLF001
    buckets = {"0.1": 90.0, "0.25": 94.0, "0.5": 99.0, "+Inf": 100.0}
    assert operations.quantile(buckets, 0.95) == 0.5
    assert operations.quantile({"+Inf": 0.0}, 0.95) is None
    assert operations._grew(5.0, 9.0) == 5.0 and operations._grew(9.0, 5.0) == 4.0  # noqa: SLF001


def test_only_a_node_behind_the_others_alerts_on_its_age(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, ops_block_age_minutes=1)
    current = {"chain": {}, "follower": {"lag": 0}, "gateway": {"up": True}}
    old = 600.0

    def node(name: str, height: int) -> dict[str, Any]:
        return {"name": name, "up": True, "height": height, "block_age": old, "problem": None}

    quiet = operations.alerts(current, [node("a", 9), node("b", 9)], old, settings)
    assert [a["code"] for a in quiet] == ["block_old"]
    stuck = operations.alerts(current, [node("a", 9), node("b", 7)], old, settings)
    assert [(a["code"], a.get("node")) for a in stuck] == [("block_old", None), ("node_block_old", "b")]


def test_a_nodes_block_age_is_unknown_until_its_height_moves() -> None:
    def sample(height: int | None) -> dict[str, Any]:
        return {"nodes": [{"name": "peer0.core", "kind": "peer", "height": height}]}

    first, second, third, fourth = sample(5), sample(5), sample(6), sample(6)
    operations._carry_node_ages(first, None, 100.0)  # noqa: SLF001
    operations._carry_node_ages(second, first, 105.0)  # noqa: SLF001
    operations._carry_node_ages(third, second, 110.0)  # noqa: SLF001
    operations._carry_node_ages(fourth, third, 115.0)  # noqa: SLF001
    since = [s["nodes"][0]["height_since"] for s in (first, second, third, fourth)]
    assert since == [None, None, 110.0, 110.0]
    view = operations._node_view(fourth["nodes"][0] | {"url": "u", "up": True}, 130.0, 7, 3.0)  # noqa: SLF001
    assert view["block_age"] == 20.0  # behind the chain (7): its own age, not the chain's
    view = operations._node_view(fourth["nodes"][0] | {"url": "u", "up": True}, 130.0, 6, 3.0)  # noqa: SLF001
    assert view["block_age"] == 3.0  # it has the newest block: the block's own age
