"""Reliability drills over HTTP on Fabric (#18): a real `goldticket serve` on the Fabric ledger
under the mixed load of the local drills (tests/functional/web/mixed_load.py, retries under the
same Idempotency-Key), and kill -9 of the peer its gateway connection uses, or of the raft
leader, in the middle; the node is started again afterwards. Then the checks of every drill
(tests/functional/web/drills.py): no 5xx but the documented 503 (nothing written), every write
answered 2xx exactly once on the channel and nothing else, no key pending, `reindex` equal to the
live read model; and a write answers 201 after the node is back."""

from __future__ import annotations

import collections
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fabric_checks import kill, raft_leader, restart

from goldticket.ledger.fabric.profile import ConnectionProfile
from goldticket.settings import Settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "functional" / "web"))
import drills  # noqa: E402
import mixed_load  # noqa: E402
from apiclient import MATURITY, PASSWORD  # noqa: E402
from liveserver import Server, build_consortium, server_env  # noqa: E402
from support import TODAY  # noqa: E402

pytestmark = [pytest.mark.integration, pytest.mark.slow]
CLIENTS, SECONDS, KILL_AFTER, DOWN_FOR = 6, 20.0, 5.0, 5.0


def _env(settings: Settings) -> dict[str, str]:
    env = server_env(settings.data_dir)
    env.update(
        GOLDTICKET_LEDGER="fabric",
        GOLDTICKET_CHAINCODE=settings.chaincode,
        GOLDTICKET_FABRIC_PROFILE=str(settings.fabric_profile),
    )
    return env


def _drill(settings: Settings, tmp_path: Path, network: Any, victim: Callable[[], str]) -> dict[str, Any]:
    env = _env(settings)
    start = build_consortium(env)
    found: dict[str, mixed_load.Result] = {}
    with Server(env, tmp_path / "serve.log") as server:
        tokens = mixed_load.tokens(server.url, PASSWORD)

        def load() -> None:
            found["result"] = mixed_load.run(
                server.url,
                tokens,
                clients=CLIENTS,
                seconds=SECONDS,
                maturity=MATURITY.isoformat(),
                today=TODAY.isoformat(),
            )

        thread = threading.Thread(target=load)
        thread.start()
        name = ""
        try:
            time.sleep(KILL_AFTER)
            name = victim()
            kill(network.layout, name)
            time.sleep(DOWN_FOR)
        finally:
            if name:
                restart(network.layout, name)
            thread.join(timeout=SECONDS + mixed_load.RETRY_FOR + 120)
        assert not thread.is_alive()
        status, raw = drills.answers_a_write(server, tokens["bank.credit"], 1)
        assert status == 201, raw
    result = found["result"]
    summary = result.summary()
    refused = collections.Counter(
        (a.op, a.status, (a.error or "")[:80]) for a in result.attempts if a.status and a.status >= 400
    )
    print(f"\nkilled {name} for {DOWN_FOR:.0f} s: {summary}\nrefusals: {refused.most_common(8)}")
    assert not result.server_errors(), [vars(a) for a in result.server_errors()[:5]]
    assert not result.not_json(), [vars(a) for a in result.not_json()[:5]]
    assert not result.broken, result.broken[:5]
    assert summary["writes_acknowledged"] >= CLIENTS
    counts = drills.check_exactly_once(env, start, result)
    print(f"checked: {counts}")
    return summary


def test_kill_9_of_the_gateway_peer_under_http_load(
    settings: Settings, fabric_network: Any, tmp_path: Path
) -> None:
    assert settings.fabric_profile is not None
    first = ConnectionProfile.load(settings.fabric_profile).peers[0].name  # the server's gateway peer
    _drill(settings, tmp_path, fabric_network, lambda: first)


def test_kill_9_of_the_raft_leader_under_http_load(
    settings: Settings, fabric_network: Any, tmp_path: Path
) -> None:
    layout = fabric_network.layout
    if len(layout.orderers) < 3:
        pytest.skip("needs a raft cluster: ORDERERS=3")
    _drill(settings, tmp_path, fabric_network, lambda: raft_leader(layout))
