"""up, down, clean and status of one network, each step timed and printed.

``up`` is idempotent: every step first checks whether it is already done (crypto, genesis
block, running processes, channel membership, installed package, approvals, commit) and
returns only when a real transaction has committed through the Gateway.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from . import configtx, crypto, lifecycle, membership, netns, nodes, upgrade
from .binaries import Binaries, find_binaries
from .errors import NetworkError
from .layout import Layout

Say = Callable[[str], None]


class Steps:
    """Prints each step with its time."""

    def __init__(self, say: Say) -> None:
        self.say = say
        self.started = time.monotonic()

    def run(self, what: str, action: Callable[[], Any]) -> Any:
        start = time.monotonic()
        result = action()
        note = "" if result is None else (" (done before)" if result is False else "")
        self.say(f"  {what}{note}: {time.monotonic() - start:.2f} s")
        return result


def process_names(layout: Layout) -> list[str]:
    names = [o.name for o in layout.orderers]
    names += [p.name for p in layout.peers]
    names += [f"chaincode.{p.org}" for p in layout.peers]
    return names


def ports(layout: Layout) -> list[int]:
    """Every port the network's own nodes listen on, its upgrades' chaincode servers included."""
    found = [port for o in layout.orderers for port in (o.port, o.admin_port, o.operations_port)]
    for peer in layout.peers:
        found += [peer.port, peer.chaincode_port, peer.operations_port, peer.chaincode_server_port]
        found += [peer.chaincode_server_port + slot for slot in upgrade.SLOTS]
    return found


def _start_orderers(layout: Layout, binaries: Binaries) -> None:
    for orderer in layout.orderers:
        env = nodes.orderer_env(layout, binaries, orderer)
        ports = (orderer.port, orderer.admin_port, orderer.operations_port)
        nodes.start(
            layout,
            orderer.name,
            nodes.orderer_command(binaries),
            env,
            ports,
            host=orderer.host,
            netns=layout.netns(orderer.msp_id),
        )
    for orderer in layout.orderers:
        log = layout.logs / f"{orderer.name}.log"
        alive = lambda o=orderer: nodes.running(layout, o.name) is not None  # noqa: E731
        nodes.wait_until(
            lambda o=orderer: nodes.healthy(o.operations_port, o.host), orderer.name, 30, log, alive
        )
        nodes.wait_until(
            lambda o=orderer: nodes.listening(o.admin_port, o.host), f"{orderer.name} admin", 30, log
        )


def _start_peers(layout: Layout, binaries: Binaries) -> None:
    for peer in layout.peers:
        env = nodes.peer_env(layout, binaries, peer)
        ports = (peer.port, peer.chaincode_port, peer.operations_port)
        nodes.start(
            layout,
            peer.name,
            nodes.peer_command(binaries),
            env,
            ports,
            host=peer.host,
            netns=layout.netns(peer.msp_id),
        )
    for peer in layout.peers:
        log = layout.logs / f"{peer.name}.log"
        alive = lambda p=peer: nodes.running(layout, p.name) is not None  # noqa: E731
        nodes.wait_until(lambda p=peer: nodes.healthy(p.operations_port, p.host), peer.name, 30, log, alive)
        nodes.wait_until(lambda p=peer: nodes.listening(p.port, p.host), f"{peer.name} endpoint", 30, log)


def _start_chaincode_servers(layout: Layout, pkg_id: str) -> None:
    for peer in layout.peers:
        name = f"chaincode.{peer.org}"
        env = nodes.chaincode_env(peer, pkg_id)
        nodes.start(
            layout,
            name,
            nodes.chaincode_command(),
            env,
            (peer.chaincode_server_port,),
            host=peer.host,
            netns=layout.netns(peer.msp_id),
        )
    for peer in layout.peers:
        name = f"chaincode.{peer.org}"
        nodes.wait_until(
            lambda p=peer: nodes.listening(p.chaincode_server_port, p.host),
            name,
            30,
            layout.logs / f"{name}.log",
            lambda name=name: nodes.running(layout, name) is not None,
        )


def write_profile(layout: Layout) -> None:
    """The connection profile GoldTicket reads with GOLDTICKET_LEDGER=fabric; each node's
    ``operations`` URL (/healthz, /metrics) is what the operations console and Prometheus watch."""
    profile = {
        "channel": layout.channel,
        "chaincode": layout.chaincode,
        "peers": [
            {
                "name": peer.name,
                "msp_id": peer.msp_id,
                "address": peer.address,
                "tls_ca_pem": layout.ca_pem(peer.msp_id).read_text(),
                "operations": f"http://{peer.host}:{peer.operations_port}",
            }
            for peer in layout.peers
        ],
        "orderers": [
            {
                "name": o.name,
                "address": o.address,
                "tls_ca_pem": layout.ca_pem(o.msp_id).read_text(),
                "operations": f"http://{o.host}:{o.operations_port}",
            }
            for o in layout.orderers
        ],
    }
    crypto.write_file(layout.profile, json.dumps(profile, indent=1).encode())


def deploy_chaincode(layout: Layout, binaries: Binaries, name: str, pkg_id: str) -> bool:
    """Approve by every organisation and commit a definition ``name`` of the installed package.
    False when it was committed before."""
    if lifecycle.committed(layout, binaries, name):
        return False
    for peer in layout.peers:
        lifecycle.approve(layout, binaries, peer, name, pkg_id)
    return lifecycle.commit(layout, binaries, name)


MODE_FILE = "namespaces"


def with_recorded_mode(layout: Layout, environ: Mapping[str, str]) -> Layout:
    """The layout in the mode GOLDTICKET_FABRIC_NAMESPACES names; unset, in the mode the network
    was made with (recorded by ``up``), and a new network namespaced where it can be (root,
    iproute2). A network made before the mode was recorded stays on 127.0.0.1."""
    if environ.get("GOLDTICKET_FABRIC_NAMESPACES"):
        return layout
    recorded = layout.root / MODE_FILE
    if recorded.exists():
        wanted = recorded.read_text().strip() == "1"
    elif layout.genesis_block.exists():
        wanted = False
    else:
        wanted = netns.available() is None
    if wanted == layout.namespaces:
        return layout
    return Layout.from_env({**environ, "GOLDTICKET_FABRIC_NAMESPACES": "1" if wanted else "0"})


def up(layout: Layout, say: Say = print, probe: Callable[[Layout], None] | None = None) -> None:
    steps = Steps(say)
    nodes.check_ports(ports(layout), "network-up")
    say(f"network {layout.root} ({len(layout.orderers)} orderer(s), 3 peer organisations)")
    layout.root.mkdir(parents=True, exist_ok=True, mode=0o700)
    recorded = layout.root / MODE_FILE
    if recorded.exists() and (recorded.read_text().strip() == "1") != layout.namespaces:
        raise NetworkError(
            f"{layout.root} was made {'with' if recorded.read_text().strip() == '1' else 'without'} network"
            " namespaces; run `make network-clean` to make it afresh in the other mode"
        )
    if layout.genesis_block.exists() and not recorded.exists() and layout.namespaces:
        raise NetworkError(
            f"{layout.root} was made on 127.0.0.1; run `make network-clean` to make it with namespaces"
        )
    recorded.write_text("1\n" if layout.namespaces else "0\n")
    binaries = steps.run("Fabric binaries", lambda: find_binaries())
    if layout.namespaces:
        steps.run(
            f"network namespaces on {layout.bridge} (10.77.{layout.subnet}.0/24)",
            lambda: netns.create(layout),
        )
    steps.run("crypto material from the organisation CAs", lambda: crypto.ensure_crypto(layout))
    steps.run("channel genesis block", lambda: configtx.ensure_genesis_block(layout, binaries))
    steps.run("orderers started", lambda: _start_orderers(layout, binaries))
    steps.run(
        "orderers joined the channel",
        lambda: [lifecycle.join_orderer(layout, binaries, o) for o in layout.orderers],
    )
    steps.run("peers started", lambda: _start_peers(layout, binaries))
    steps.run(
        "peers joined the channel", lambda: [lifecycle.join_peer(layout, binaries, p) for p in layout.peers]
    )
    steps.run("chaincode package", lambda: lifecycle.ensure_package(layout))
    pkg_id = steps.run("package id", lambda: lifecycle.package_id(layout, binaries))
    steps.run("chaincode servers started", lambda: _start_chaincode_servers(layout, pkg_id))
    upgraded = any(upgrade.slot_package(layout, slot, make=False).exists() for slot in upgrade.SLOTS)
    if membership.joined_dir(layout).is_dir() or upgraded:
        # a network that lived on: organisations that joined later, and upgraded packages' servers
        members = steps.run(
            "joined organisations' peers started", lambda: membership.start_joined(layout, binaries, pkg_id)
        )
        peers = [member.peer for member in members]
        steps.run(
            "upgraded packages' servers started", lambda: upgrade.restart_servers(layout, binaries, peers)
        )
    steps.run(
        "package installed on every peer",
        lambda: [lifecycle.install(layout, binaries, p, pkg_id) for p in layout.peers],
    )
    steps.run(
        "chaincode definition approved and committed",
        lambda: deploy_chaincode(layout, binaries, layout.chaincode, pkg_id),
    )
    steps.run("connection profile", lambda: write_profile(layout))
    if probe is not None:
        steps.run("a transaction committed through the Gateway", lambda: probe(layout))
    say(f"network up in {time.monotonic() - steps.started:.1f} s; profile {layout.profile}")


def down(layout: Layout, say: Say = print) -> None:
    """Stop exactly the processes ``up`` started (every PID file, whatever ORDERERS says now);
    ledgers stay."""
    stopped = []
    names = process_names(layout)
    if layout.pids.exists():
        names += sorted(path.stem for path in layout.pids.glob("*.pid") if path.stem not in names)
    # chaincode servers and peers first, then orderers
    for name in sorted(names, key=lambda name: name.startswith("orderer")):
        if nodes.stop(layout, name):
            stopped.append(name)
    say(f"stopped {', '.join(stopped) if stopped else 'nothing (no process was running)'}")
    removed = netns.destroy(layout)
    if removed:
        say(f"removed the network namespaces and bridge {', '.join(removed)}")


def clean(layout: Layout, say: Say = print) -> None:
    """Stop the processes and remove the network's folder (ledgers, crypto, logs)."""
    down(layout, say)
    if layout.root.exists():
        shutil.rmtree(layout.root)
        say(f"removed {layout.root}")


def status(layout: Layout, say: Say = print) -> bool:
    """Print each process's state; True when all run."""
    all_up = True
    for name in process_names(layout):
        pid = nodes.running(layout, name)
        all_up &= pid is not None
        say(f"  {name:<20} {'running, pid ' + str(pid) if pid else 'stopped'}")
    say(f"profile: {layout.profile if layout.profile.exists() else 'none'}")
    return all_up


def layout_from(path: Path | None = None) -> Layout:
    return Layout.from_env() if path is None else Layout.create(path)
