"""A node's port must never be one the kernel can hand to an outgoing connection.

CI's Fabric part failed once (stop 30) with "chaincode1.operator did not come up within 30 s":
the upgrade's new chaincode server, started mid-run, found its port (37154, inside the kernel's
ephemeral range 32768-60999) held by one of the many connections the organisation's peer had
opened meanwhile, failed to bind and exited, and the wait only noticed 30 s later without saying
why. Now no node starts on a port of that range, ``network-up`` refuses such a port base before
it makes anything, and a node that exits while being waited for is reported at once with the
last line of its log."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fabric-network"))

from fabnet import network, nodes, upgrade  # noqa: E402
from fabnet.errors import NetworkError  # noqa: E402
from fabnet.layout import Layout  # noqa: E402

SLEEPER = [sys.executable, "-c", "import time; time.sleep(30)"]


def ephemeral() -> range:
    low, high = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    return range(low, high + 1)


def test_the_range_is_read_from_the_kernel() -> None:
    assert nodes.ephemeral_ports() == ephemeral()


def test_no_node_starts_on_a_port_the_kernel_gives_outgoing_connections(tmp_path: Path) -> None:
    layout = Layout.create(tmp_path / "data", port_base=24050)
    port = ephemeral().start + 100
    try:
        with pytest.raises(NetworkError, match=r"port \d+ lies in .*ip_local_port_range"):
            nodes.start(layout, "chaincode9.operator", SLEEPER, {}, (24050, port))
        assert nodes.running(layout, "chaincode9.operator") is None
        assert not (layout.logs / "chaincode9.operator.log").exists()
    finally:
        nodes.stop(layout, "chaincode9.operator", timeout=2)


def test_network_up_refuses_such_a_port_base_before_making_anything(tmp_path: Path) -> None:
    base = (ephemeral().start // 50 + 20) * 50  # as CI's 37050 was
    layout = Layout.create(tmp_path / "data", port_base=base)
    with pytest.raises(NetworkError, match="GOLDTICKET_FABRIC_PORT_BASE"):
        network.up(layout, say=lambda _: None)
    assert not layout.root.exists()


def test_every_port_of_a_network_and_its_upgrade_slots_is_checked(tmp_path: Path) -> None:
    # the highest port: the last peer's slot-6 chaincode server, the only one in the range here
    low = ephemeral().start
    layout = Layout.create(tmp_path / "data", port_base=low - 125)
    assert layout.peers[-1].chaincode_server_port < low <= layout.peers[-1].chaincode_server_port + 6
    assert max(network.ports(layout)) == layout.peers[-1].chaincode_server_port + 6
    with pytest.raises(NetworkError, match="ip_local_port_range"):
        network.up(layout, say=lambda _: None)


def held_port(host: str) -> tuple[int, socket.socket, socket.socket, socket.socket]:
    """A port below the kernel's range, held as a peer's outgoing connection would hold it."""
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind((host, 0))
    server.listen()
    for port in range(ephemeral().start - 200, ephemeral().start - 2200, -1):
        client = socket.socket()
        try:
            client.bind((host, port))
        except OSError:
            client.close()
            continue
        client.connect(server.getsockname())
        accepted, _ = server.accept()
        return port, server, client, accepted
    raise AssertionError("no free port")


def test_an_upgrade_server_whose_port_a_connection_holds_is_reported_at_once(tmp_path: Path) -> None:
    """The failure CI met, on purpose: an outgoing connection holds the new chaincode server's
    address, the server cannot bind and exits; ``start_servers`` says so at once, with the
    reason, instead of waiting 30 s to say it did not come up."""
    port, *sockets = held_port("127.0.0.1")
    layout = Layout.create(tmp_path / "data", port_base=port - 104)  # the first peer's slot 1
    peer = layout.peers[0]
    assert peer.chaincode_server_port + 1 == port
    try:
        with pytest.raises(NetworkError, match=r"chaincode1\.\w+ exited: .*Failed to bind"):
            upgrade.start_servers(layout, "goldticket_1.0:slot1", 1, [peer])
    finally:
        nodes.stop(layout, upgrade.server_name(peer, 1), timeout=2)
        for sock in sockets:
            sock.close()


def test_the_reason_is_the_last_line_of_a_long_log(tmp_path: Path) -> None:
    log = tmp_path / "peer0.bank.log"
    log.write_text(
        "".join(f"2026-12-06 INFO line {n} {'x' * 80}\n" for n in range(20_000)) + "panic: bind\n\n"
    )
    with pytest.raises(NetworkError, match=r"^peer0\.bank exited: panic: bind; see "):
        nodes.wait_until(lambda: False, "peer0.bank", 5, log, lambda: False)
