"""Upgrading a chaincode while clients write (#19): a new package, a new definition sequence
approved by the organisations and committed, with no write lost and the world state kept.

A chaincode name's state belongs to the name, not the package, so a new definition sequence of
the same name keeps every key. The new package names slot N ("127.0.0.1:N", see builder/bin/build):
each peer reaches it at its own organisation's chaincode server port plus N, where this module
starts the new code's servers beside the running ones before anything is approved. Peers switch
to the new package as they commit the block that holds the new definition; transactions endorsed
before that and validated after it are refused by validation (the client is told, nothing is
half-written), so a client retries them as after any refused write.
"""

from __future__ import annotations

from pathlib import Path

from . import lifecycle, nodes
from .binaries import Binaries
from .errors import NetworkError
from .layout import CHAINCODE_VERSION, Layout, Peer
from .lifecycle import retry, run
from .nodes import admin_env

SLOTS = range(1, 7)  # slot 0 is the package network-up installs


def slot_package(layout: Layout, slot: int) -> Path:
    """The package of slot ``slot`` (made once, so its id never changes)."""
    if slot not in SLOTS:
        raise NetworkError(f"slot must be one of {SLOTS.start}..{SLOTS.stop - 1}")
    path = layout.package.with_name(f"{layout.chaincode}-slot{slot}.tar.gz")
    if not path.exists():
        lifecycle.write_package(
            path, f"{layout.chaincode}_{CHAINCODE_VERSION}_slot{slot}", f"127.0.0.1:{slot}"
        )
    return path


def server_name(peer: Peer, slot: int) -> str:
    return f"chaincode{slot}.{peer.org}"


def start_servers(layout: Layout, package_id: str, slot: int) -> None:
    """Each organisation's chaincode server for the new package, beside the running one."""
    for peer in layout.peers:
        port = peer.chaincode_server_port + slot
        env = {**nodes.chaincode_env(peer, package_id), "CHAINCODE_SERVER_ADDRESS": f"{peer.host}:{port}"}
        nodes.start(
            layout,
            server_name(peer, slot),
            nodes.chaincode_command(),
            env,
            (port,),
            host=peer.host,
            netns=layout.netns(peer.msp_id),
        )
    for peer in layout.peers:
        port = peer.chaincode_server_port + slot
        nodes.wait_until(
            lambda port=port, host=peer.host: nodes.listening(port, host),
            server_name(peer, slot),
            30,
            layout.logs / f"{server_name(peer, slot)}.log",
        )


def committed_sequence(layout: Layout, binaries: Binaries, name: str) -> int:
    return int(lifecycle.committed_definition(layout, binaries, name)["sequence"])


def upgrade(layout: Layout, binaries: Binaries, name: str, slot: int) -> tuple[int, str]:
    """Install slot ``slot``'s package everywhere, start its servers, have every organisation
    approve the next sequence with it and commit it; returns (sequence, package id)."""
    package = slot_package(layout, slot)
    package_id = lifecycle.package_id(layout, binaries, package)
    start_servers(layout, package_id, slot)
    for peer in layout.peers:
        lifecycle.install(layout, binaries, peer, package_id, package)
    sequence = committed_sequence(layout, binaries, name) + 1
    version = f"{CHAINCODE_VERSION}.{sequence}"
    for peer in layout.peers:
        approve = lifecycle.approve_command(layout, binaries, name, package_id, sequence, version)
        env = admin_env(layout, binaries, peer)
        retry(
            lambda c=approve, e=env, p=peer: run(c, e, f"{p.msp_id} approving {name} #{sequence}"), "approve"
        )
    commit = lifecycle.commit_command(layout, binaries, name, sequence, version)
    env = admin_env(layout, binaries, layout.peers[0])
    retry(lambda: run(commit, env, f"committing {name} #{sequence}"), "commit")
    return sequence, package_id
