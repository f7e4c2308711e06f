"""#19: ordering that no single orderer controls. Fabric v3's SmartBFT with four orderers
(3f+1, f = 1) keeps ordering with the view's leader frozen (kill -STOP: a silent or malicious
leader is replaced by a view change) and with another orderer killed; the killed one, restarted,
catches up to the same height. Its own network (ports from GOLDTICKET_TEST_BFT_PORT_BASE, default
21050) beside the session's raft network.

The four orderers belong to four organisations (OrdererMSP, Orderer1MSP, Orderer2MSP,
Orderer3MSP), each with its own CA and keys in its own folder: the channel's Orderer group lists
four organisations and no folder holds another's orderer key, so no party holds a quorum."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fabnet import binaries, lifecycle, membership, network, nodes, probe
from fabnet.layout import Layout
from fabric_checks import kill, restart

PORT_BASE = int(os.environ.get("GOLDTICKET_TEST_BFT_PORT_BASE") or 21050)


@pytest.fixture(scope="module")
def bft_network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Layout]:
    root = tmp_path_factory.mktemp("bft")
    layout = Layout.from_env(
        {
            "GOLDTICKET_DATA_DIR": str(root / "data"),
            "GOLDTICKET_ENV": "test",
            "GOLDTICKET_FABRIC_PORT_BASE": str(PORT_BASE),
            "GOLDTICKET_FABRIC_BATCH_TIMEOUT": "100ms",
            "GOLDTICKET_FABRIC_CONSENSUS": "BFT",
            "ORDERERS": "4",
        }
    )
    try:
        network.up(layout, say=lambda _: None, probe=lambda lay: probe.ping(lay) and None)
        yield layout
    finally:
        network.down(layout, say=lambda _: None)
        network.clean(layout, say=lambda _: None)


def _height(layout: Layout, name: str) -> int:
    orderer = next(o for o in layout.orderers if o.name == name)
    listed = lifecycle.run(
        lifecycle._osnadmin(layout, binaries.find_binaries(), orderer, "list", "--channelID", layout.channel),
        {"PATH": "/usr/bin:/bin"},
        f"osnadmin channel list on {name}",
    )
    return int(json.loads(listed[listed.index("{") :])["height"])


def _pings(layout: Layout, count: int) -> float:
    """``count`` Pings, each committed through the Gateway; the seconds they took."""
    start = time.monotonic()
    for _ in range(count):
        probe.ping(layout, timeout=60)
    return time.monotonic() - start


def test_the_four_orderers_are_four_organisations(bft_network: Layout, tmp_path: Path) -> None:
    layout = bft_network
    msp_ids = [o.msp_id for o in layout.orderers]
    assert msp_ids == ["OrdererMSP", "Orderer1MSP", "Orderer2MSP", "Orderer3MSP"]
    cas = {layout.ca_pem(msp_id).read_bytes() for msp_id in msp_ids}
    assert len(cas) == 4, "four organisations, four CAs"
    for orderer in layout.orderers:
        folder = layout.organisations / orderer.msp_id
        assert (folder / "nodes" / orderer.name / "msp" / "keystore" / "key.pem").exists()
        others = [o.name for o in layout.orderers if o.msp_id != orderer.msp_id]
        assert not any((folder / "nodes" / name).exists() for name in others)
    config = membership.channel_config(layout, binaries.find_binaries(), layout.peers[0], tmp_path)
    groups = config["channel_group"]["groups"]["Orderer"]["groups"]
    assert sorted(groups) == sorted(msp_ids)
    consenters = config["channel_group"]["groups"]["Orderer"]["values"]["Orderers"]["value"][
        "consenter_mapping"
    ]
    assert sorted(c["msp_id"] for c in consenters) == sorted(msp_ids)


def test_bft_orders_with_a_frozen_leader_and_a_killed_orderer(bft_network: Layout) -> None:
    layout = bft_network
    assert [o.name for o in layout.orderers] == ["orderer0", "orderer1", "orderer2", "orderer3"]
    # orderer0 (consenter 1) leads the first view: frozen, the others change view and go on
    leader = nodes.running(layout, "orderer0")
    assert leader is not None
    os.kill(leader, signal.SIGSTOP)
    try:
        took = _pings(layout, 3)
    finally:
        os.kill(leader, signal.SIGCONT)
    print(f"\nthree commits with the leader frozen: {took:.1f} s")
    assert took < 45
    # another orderer killed: still 3 of 4
    kill(layout, "orderer2")
    took = _pings(layout, 3)
    print(f"three commits with orderer2 killed: {took:.1f} s")
    # restarted, it catches up to the others' height
    restart(layout, "orderer2")
    _pings(layout, 1)
    deadline = time.monotonic() + 60
    while _height(layout, "orderer2") != _height(layout, "orderer1"):
        assert time.monotonic() < deadline, (_height(layout, "orderer2"), _height(layout, "orderer1"))
        time.sleep(0.5)
