"""Helpers for tests on a real Fabric network: reading what the channel committed, and killing
and restarting the network's processes."""

from __future__ import annotations

import collections
import os
import signal
import time
import urllib.request
from typing import Any

import fabric_network  # noqa: F401 - puts fabric-network/ on the path
from fabnet import binaries, nodes
from fabnet.layout import Layout

from goldticket import messages as m
from goldticket.services import Platform


def committed_codes(platform: Platform, start: int = 0) -> dict[str, list[int]]:
    """Validation codes of every transaction of the platform's chaincode, by transaction id."""
    codes: dict[str, list[int]] = collections.defaultdict(list)
    for block in platform.ledger.blocks(start):
        for envelope, code in zip(block.envelopes, block.validation_codes, strict=True):
            try:
                payload = m.decode_transaction(_payload(envelope))
            except m.MessageError:
                continue  # configuration and lifecycle transactions
            if payload.chaincode == platform.ledger.chaincode:
                codes[payload.tx_id].append(code)
    return codes


def _payload(envelope: bytes) -> bytes:
    from fabric_protos.common import common_pb2

    return bytes(common_pb2.Envelope.FromString(envelope).payload)


def kill(layout: Layout, name: str) -> None:
    pid = nodes.running(layout, name)
    assert pid is not None, f"{name} is not running"
    os.kill(pid, signal.SIGKILL)
    nodes.wait_until(lambda: nodes.running(layout, name) is None or _dead(pid), f"{name} dying", 10)


def _dead(pid: int) -> bool:
    return nodes._is_zombie(pid)


def restart(layout: Layout, name: str) -> None:
    """Start a killed peer or orderer again with the environment ``up`` gave it, and wait
    until it serves."""
    fabric = binaries.find_binaries()
    log = layout.logs / f"{name}.log"
    for peer in layout.peers:
        if peer.name == name:
            ports = (peer.port, peer.chaincode_port, peer.operations_port)
            nodes.start(
                layout,
                name,
                nodes.peer_command(fabric),
                nodes.peer_env(layout, fabric, peer),
                ports,
                host=peer.host,
                netns=layout.netns(peer.msp_id),
            )
            port, host = peer.operations_port, peer.host
            break
    else:
        orderer = next(o for o in layout.orderers if o.name == name)
        ports = (orderer.port, orderer.admin_port, orderer.operations_port)
        nodes.start(
            layout,
            name,
            nodes.orderer_command(fabric),
            nodes.orderer_env(layout, fabric, orderer),
            ports,
            host=orderer.host,
            netns=layout.netns(orderer.msp_id),
        )
        port, host = orderer.operations_port, orderer.host
    alive = lambda: nodes.running(layout, name) is not None  # noqa: E731
    nodes.wait_until(lambda: nodes.healthy(port, host), name, 60, log, alive)
    # healthy before its endpoints take connections: a peer's, an orderer's and its admin port
    # (osnadmin asks there; it answered "connection refused" right after a restart in CI)
    endpoints = [p.port for p in layout.peers if p.name == name] or [
        port for o in layout.orderers if o.name == name for port in (o.port, o.admin_port)
    ]
    for endpoint in endpoints:
        nodes.wait_until(
            lambda endpoint=endpoint: nodes.listening(endpoint, host),
            f"{name} port {endpoint}",
            60,
            log,
            alive,
        )


def raft_leader(layout: Layout, timeout: float = 30.0) -> str:
    """The orderer that is the raft leader now (from its Prometheus metrics)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for orderer in layout.orderers:
            if nodes.running(layout, orderer.name) is None:
                continue
            url = f"http://{orderer.host}:{orderer.operations_port}/metrics"
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    text = response.read().decode()
            except OSError:
                continue
            for line in text.splitlines():
                if line.startswith("consensus_etcdraft_is_leader") and line.rstrip().endswith(" 1"):
                    return orderer.name
        time.sleep(0.2)
    raise AssertionError("no raft leader")


def outcome(action: Any) -> tuple[str, Any]:
    try:
        return "ok", action()
    except Exception as error:  # noqa: BLE001 - the test classifies every outcome
        return "error", error
