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

from . import lifecycle, membership, nodes
from .binaries import Binaries
from .errors import NetworkError
from .layout import CHAINCODE_VERSION, Layout, Peer
from .lifecycle import retry, run

SLOTS = range(1, 7)  # slot 0 is the package network-up installs


def slot_package(layout: Layout, slot: int, *, make: bool = True) -> Path:
    """The package of slot ``slot`` (made once, so its id never changes)."""
    if slot not in SLOTS:
        raise NetworkError(f"slot must be one of {SLOTS.start}..{SLOTS.stop - 1}")
    path = layout.package.with_name(f"{layout.chaincode}-slot{slot}.tar.gz")
    if make and not path.exists():
        lifecycle.write_package(
            path, f"{layout.chaincode}_{CHAINCODE_VERSION}_slot{slot}", f"127.0.0.1:{slot}"
        )
    return path


def server_name(peer: Peer, slot: int) -> str:
    return f"chaincode{slot}.{peer.org}"


def start_servers(layout: Layout, package_id: str, slot: int, peers: list[Peer] | None = None) -> None:
    """Each organisation's chaincode server for the new package, beside the running one (the
    network's organisations by default; ``peers``: the channel's members run from here)."""
    peers = list(layout.peers) if peers is None else peers
    for peer in peers:
        port = peer.chaincode_server_port + slot
        env = {**nodes.chaincode_env(peer, package_id), "CHAINCODE_SERVER_ADDRESS": f"{peer.host}:{port}"}
        nodes.start(
            layout,
            server_name(peer, slot),
            nodes.chaincode_command(),
            env,
            (port,),
            host=peer.host,
            # an organisation that joined later runs its nodes in its own namespace too
            netns=layout.netns(peer.msp_id),
        )
    for peer in peers:
        port = peer.chaincode_server_port + slot
        name = server_name(peer, slot)
        nodes.wait_until(
            lambda port=port, host=peer.host: nodes.listening(port, host),
            name,
            30,
            layout.logs / f"{name}.log",
            lambda name=name: nodes.running(layout, name) is not None,
        )


def restart_servers(layout: Layout, binaries: Binaries, peers: list[Peer]) -> list[int]:
    """After ``network-down``: the chaincode servers of every slot package made by an upgrade, for
    ``peers`` (the channel's members run from here), so the definition an upgrade committed runs
    again; returns the slots started."""
    slots = [slot for slot in SLOTS if slot_package(layout, slot, make=False).exists()]
    for slot in slots:
        start_servers(layout, lifecycle.package_id(layout, binaries, slot_package(layout, slot)), slot, peers)
    return slots


def committed_sequence(layout: Layout, binaries: Binaries, name: str) -> int:
    return int(lifecycle.committed_definition(layout, binaries, name)["sequence"])


def upgrade(layout: Layout, binaries: Binaries, name: str, slot: int) -> tuple[int, str]:
    """Install slot ``slot``'s package on the peer of every channel member run from here (an
    organisation that joined later included, as its own folder's admin), start its servers, have
    each of them approve the next sequence with it and commit it, endorsed by their peers once
    the committing peer sees all their approvals; returns (sequence, package id). A member run
    from another machine approves from there (``approve_command`` with the same arguments)."""
    package = slot_package(layout, slot)
    package_id = lifecycle.package_id(layout, binaries, package)
    members = membership.channel_members(layout, binaries, layout.root / "work" / "upgrade")
    start_servers(layout, package_id, slot, [member.peer for member in members])
    for member in members:
        lifecycle.install(layout, binaries, member.peer, package_id, package, env=member.env)
    sequence = committed_sequence(layout, binaries, name) + 1
    version = f"{CHAINCODE_VERSION}.{sequence}"
    approve = lifecycle.approve_command(layout, binaries, name, package_id, sequence, version)
    for member in members:
        what = f"{member.peer.msp_id} approving {name} #{sequence}"
        retry(lambda e=member.env, w=what: run(approve, e, w), "approve", timeout=60)
    membership.commit_definition(layout, binaries, name, sequence, version, members)
    return sequence, package_id
