"""#19: which mode a network runs in (each organisation in a network namespace, or all on
127.0.0.1) and where, without starting anything: the mode a network was made with is kept, an
explicit GOLDTICKET_FABRIC_NAMESPACES wins, and the port bases the test suite uses side by side
never share a subnet (a shared one would let one network's ``down`` remove the other's hosts)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fabric-network"))

from fabnet import netns, network  # noqa: E402
from fabnet.errors import NetworkError  # noqa: E402
from fabnet.layout import Layout, subnet_index  # noqa: E402


def env(tmp_path: Path, **more: str) -> dict[str, str]:
    return {"GOLDTICKET_DATA_DIR": str(tmp_path / "data"), "GOLDTICKET_FABRIC_PORT_BASE": "24050", **more}


def test_an_explicit_setting_wins(tmp_path: Path) -> None:
    for value, expected in (("1", True), ("0", False)):
        environ = env(tmp_path, GOLDTICKET_FABRIC_NAMESPACES=value)
        assert network.with_recorded_mode(Layout.from_env(environ), environ).namespaces is expected


def test_the_recorded_mode_is_kept(tmp_path: Path) -> None:
    environ = env(tmp_path)
    layout = Layout.from_env(environ)
    layout.root.mkdir(parents=True)
    (layout.root / network.MODE_FILE).write_text("1\n")
    assert network.with_recorded_mode(layout, environ).namespaces is True
    (layout.root / network.MODE_FILE).write_text("0\n")
    assert network.with_recorded_mode(layout, environ).namespaces is False


def test_a_network_made_before_the_mode_was_recorded_stays_on_loopback(tmp_path: Path) -> None:
    environ = env(tmp_path)
    layout = Layout.from_env(environ)
    layout.genesis_block.parent.mkdir(parents=True)
    layout.genesis_block.write_bytes(b"made earlier")
    assert network.with_recorded_mode(layout, environ).namespaces is False


def test_a_new_network_is_namespaced_where_it_can_be(tmp_path: Path) -> None:
    environ = env(tmp_path)
    chosen = network.with_recorded_mode(Layout.from_env(environ), environ)
    assert chosen.namespaces is (netns.available() is None)
    if chosen.namespaces:
        hosts = {p.host for p in chosen.peers} | {o.host for o in chosen.orderers}
        assert len(hosts) == 4 and all(h.startswith(f"10.77.{chosen.subnet}.") for h in hosts)


def test_up_refuses_to_switch_a_network_to_the_other_mode(tmp_path: Path) -> None:
    layout = Layout.from_env(env(tmp_path, GOLDTICKET_FABRIC_NAMESPACES="1"))
    layout.root.mkdir(parents=True)
    (layout.root / network.MODE_FILE).write_text("0\n")
    with pytest.raises(NetworkError, match="network-clean"):
        network.up(layout, say=lambda _: None)


def test_the_suites_port_bases_have_subnets_of_their_own() -> None:
    # CI's network, the test session's, membership (both modes), BFT, namespaces, org keys, benchmarks
    bases = [7050, 17050, 19050, 19350, 21050, 23050, 24050, 25050, 26050, 27050, 31050]
    assert len({subnet_index(base) for base in bases}) == len(bases)


def test_a_joining_organisation_gets_an_address_of_the_networks_own_subnet(tmp_path: Path) -> None:
    layout = Layout.from_env(env(tmp_path, GOLDTICKET_FABRIC_NAMESPACES="1"))
    subnet = layout.subnet
    assert layout.joined_host(f"10.77.{subnet}.30") == 30
    assert layout.veth("BankTwoMSP", 30) == f"gt{subnet}v30"
    assert layout.namespace("BankTwoMSP") == f"gt{subnet}-banktwo"
    refused = [
        f"10.77.{subnet}.13",  # the first bank's host: the network's own are below .30
        f"10.77.{subnet}.1",  # the bridge
        f"10.77.{subnet}.255",
        f"10.77.{subnet + 1}.30",  # another network's subnet
        "127.0.0.1",
        "10.0.3.13",
        f"10.77.{subnet}.3x",
    ]
    for address in refused:
        with pytest.raises(NetworkError, match="not an address for a joining organisation"):
            layout.joined_host(address)
