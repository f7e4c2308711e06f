"""Killing Fabric nodes in the middle of a run of submissions (kill -9, then restart).

Each submission must either commit exactly once or end with a clear error; an acknowledged
write is never lost and nothing is applied twice.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from fabnet import nodes
from fabric_checks import committed_codes, kill, outcome, raft_leader, restart

from goldticket.ledger import LedgerError
from goldticket.services import Platform

pytestmark = pytest.mark.integration
RUN = 24


def _run(platform: Platform, prefix: str, killer: threading.Event) -> list[tuple[str, str, object]]:
    """Register RUN members one after another; after the fourth, tell the killer to strike."""
    results = []
    operator, pin = platform.actor("operator"), platform.settings.operator_pin
    for i in range(RUN):
        member_id = f"{prefix}{i:02d}"
        request = {"id": member_id, "name": member_id, "role": "supplier", "msp_id": "OperatorMSP"}
        kind, value = outcome(
            lambda request=request: platform.submit(operator, "RegisterMember", request, pin=pin)
        )
        results.append((member_id, kind, value))
        if i == 3:
            killer.set()
    return results


def _strike(
    platform: Platform, prefix: str, victim: object, network: object
) -> list[tuple[str, str, object]]:
    killer = threading.Event()
    killed: list[str] = []

    def strike() -> None:
        killer.wait(60)
        name = victim() if callable(victim) else str(victim)
        kill(network.layout, name)  # type: ignore[attr-defined]
        killed.append(name)

    thread = threading.Thread(target=strike)
    thread.start()
    start = platform.ledger.height()
    try:
        results = _run(platform, prefix, killer)
    finally:
        thread.join()
    _check(platform, results, start)
    errors = [value for _, kind, value in results if kind != "ok"]
    print(
        f"\nkilled {killed}: {RUN - len(errors)} committed, {len(errors)} clear errors {sorted({str(e)[:90] for e in errors})}"
    )
    for name in killed:
        restart(network.layout, name)  # type: ignore[attr-defined]
    return results


def _check(platform: Platform, results: list[tuple[str, str, object]], start: int) -> None:
    codes = committed_codes(platform, start)
    for member_id, kind, value in results:
        if kind == "ok":
            tx_id = value.tx_id  # type: ignore[attr-defined]
            assert codes[tx_id].count(0) == 1, f"{member_id} acknowledged but committed {codes[tx_id]}"
        else:
            assert isinstance(value, LedgerError | Exception) and str(value), (
                f"{member_id}: unclear {value!r}"
            )
    for tx_id, found in codes.items():
        assert found.count(0) <= 1, f"{tx_id} committed twice"
    acknowledged = {member_id for member_id, kind, _ in results if kind == "ok"}
    listed = {item["id"] for item in platform.evaluate("ListMembers", {})["items"]}
    assert acknowledged <= listed


@pytest.fixture
def network(fabric_network: object) -> Iterator[object]:
    yield fabric_network


def test_killing_the_gateway_peer_fails_over_to_another_organisation(
    platform: Platform, network: object
) -> None:
    gateway = platform.ledger.profile.peers[0].name  # type: ignore[attr-defined]
    results = _strike(platform, "gw", gateway, network)
    committed = [member_id for member_id, kind, _ in results if kind == "ok"]
    # after the failover every later submission commits through another organisation's gateway
    assert committed[-10:] == [f"gw{i:02d}" for i in range(RUN - 10, RUN)]


def test_killing_a_peer_that_is_not_the_gateway_interrupts_nothing(
    platform: Platform, network: object
) -> None:
    other = platform.ledger.profile.peers[-1].name  # type: ignore[attr-defined]
    results = _strike(platform, "np", other, network)
    failed = [(member_id, repr(value)[:300]) for member_id, kind, value in results if kind != "ok"]
    assert not failed, failed  # (CI saw writes fail once, from the fifth on: their messages say why)


def test_a_peer_killed_just_after_the_gateway_peer_restarted_interrupts_nothing(
    platform: Platform, network: object
) -> None:
    """The gateway's peer is killed and started again, and at once another organisation's peer
    is killed: the restarted peer may not know every peer yet (its gossip view grows after the
    restart), so its Gateway can find no layout of endorsers without the killed one; another
    organisation's gateway is asked then, and every write still commits."""
    peers = platform.ledger.profile.peers  # type: ignore[attr-defined]
    gateway, other = peers[0].name, peers[-1].name
    layout = network.layout  # type: ignore[attr-defined]
    killed = next(peer for peer in layout.peers if peer.name == gateway)
    kill(layout, gateway)
    nodes.wait_until(lambda: not nodes.listening(killed.port, killed.host), f"{gateway}'s port freed", 30)
    restart(layout, gateway)
    results = _strike(platform, "rs", other, network)
    failed = [(member_id, repr(value)[:600]) for member_id, kind, value in results if kind != "ok"]
    assert not failed, failed


def test_killing_the_raft_leader_loses_no_acknowledged_write(platform: Platform, network: object) -> None:
    layout = network.layout  # type: ignore[attr-defined]
    if len(layout.orderers) < 3:
        pytest.skip("needs a raft cluster: ORDERERS=3")
    results = _strike(platform, "rl", lambda: raft_leader(layout), network)
    assert sum(kind == "ok" for _, kind, _ in results) >= RUN // 2
    time.sleep(0.1)
