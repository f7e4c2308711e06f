"""The network's processes: each node's environment (Fabric's sample config overridden by
CORE_*/ORDERER_* variables), starting and stopping them with PID files, and health checks.

A PID file holds the process id and its start time (from /proc), so ``down`` stops exactly the
processes this tool started and never a process that later took the same id.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterable
from pathlib import Path

from .binaries import HERE, Binaries
from .errors import NetworkError
from .layout import Layout, Orderer, Peer

BUILDER_NAME = "goldticket-ccaas"
ADDRESS_VARIABLE = "GOLDTICKET_CCAAS_ADDRESS"
# The Gateway's wait for one endorser (see peer_env): long enough for a chaincode call on a
# loaded machine, short enough that a peer cut off costs a write a few seconds, not 15-20.
ENDORSEMENT_TIMEOUT = "5s"
REPOSITORY = HERE.parent
# Processes this Python process started: kept so they are reaped when they exit (no zombies)
# and never garbage-collected while running (which would warn).
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


def _base_env(binaries: Binaries) -> dict[str, str]:
    return {
        "PATH": f"{binaries.bin_dir}:/usr/bin:/bin",
        "HOME": os.environ.get("HOME", "/tmp"),
        "FABRIC_CFG_PATH": str(binaries.config_dir),
        "FABRIC_LOGGING_SPEC": os.environ.get("GOLDTICKET_FABRIC_LOGGING", "info"),
    }


def orderer_env(layout: Layout, binaries: Binaries, orderer: Orderer) -> dict[str, str]:
    node = layout.node_dir(orderer.msp_id, orderer.name)
    tls, ca = node / "tls", layout.ca_pem(orderer.msp_id)
    # every ordering organisation's TLS CA: the orderers of a BFT cluster are several's
    cas = ",".join(str(layout.ca_pem(msp_id)) for msp_id in layout.orderer_msp_ids)
    store = layout.ledgers / orderer.name
    return {
        **_base_env(binaries),
        "ORDERER_GENERAL_LISTENADDRESS": orderer.host,
        "ORDERER_GENERAL_LISTENPORT": str(orderer.port),
        "ORDERER_GENERAL_LOCALMSPID": orderer.msp_id,
        "ORDERER_GENERAL_LOCALMSPDIR": str(node / "msp"),
        "ORDERER_GENERAL_TLS_ENABLED": "true",
        "ORDERER_GENERAL_TLS_PRIVATEKEY": str(tls / "server.key"),
        "ORDERER_GENERAL_TLS_CERTIFICATE": str(tls / "server.crt"),
        "ORDERER_GENERAL_TLS_ROOTCAS": f"[{cas}]",
        "ORDERER_GENERAL_CLUSTER_CLIENTCERTIFICATE": str(tls / "server.crt"),
        "ORDERER_GENERAL_CLUSTER_CLIENTPRIVATEKEY": str(tls / "server.key"),
        "ORDERER_GENERAL_CLUSTER_ROOTCAS": f"[{cas}]",
        "ORDERER_GENERAL_BOOTSTRAPMETHOD": "none",
        "ORDERER_CHANNELPARTICIPATION_ENABLED": "true",
        "ORDERER_ADMIN_LISTENADDRESS": f"{orderer.host}:{orderer.admin_port}",
        "ORDERER_ADMIN_TLS_ENABLED": "true",
        "ORDERER_ADMIN_TLS_PRIVATEKEY": str(tls / "server.key"),
        "ORDERER_ADMIN_TLS_CERTIFICATE": str(tls / "server.crt"),
        "ORDERER_ADMIN_TLS_CLIENTAUTHREQUIRED": "true",
        "ORDERER_ADMIN_TLS_CLIENTROOTCAS": f"[{ca}]",
        "ORDERER_OPERATIONS_LISTENADDRESS": f"{orderer.host}:{orderer.operations_port}",
        "ORDERER_METRICS_PROVIDER": "prometheus",  # /metrics tells which orderer leads the raft
        "ORDERER_FILELEDGER_LOCATION": str(store / "blocks"),
        "ORDERER_CONSENSUS_WALDIR": str(store / "etcdraft" / "wal"),
        "ORDERER_CONSENSUS_SNAPDIR": str(store / "etcdraft" / "snapshot"),
    }


def peer_env(layout: Layout, binaries: Binaries, peer: Peer) -> dict[str, str]:
    node = layout.node_dir(peer.msp_id, peer.name)
    builder = {
        "name": BUILDER_NAME,
        "path": str(HERE / "builder"),
        "propagateEnvironment": [ADDRESS_VARIABLE],
    }
    return {
        **_base_env(binaries),
        "CORE_PEER_ID": peer.name,
        "CORE_PEER_LOCALMSPID": peer.msp_id,
        "CORE_PEER_MSPCONFIGPATH": str(node / "msp"),
        "CORE_PEER_LISTENADDRESS": peer.address,
        "CORE_PEER_ADDRESS": peer.address,
        "CORE_PEER_CHAINCODELISTENADDRESS": f"127.0.0.1:{peer.chaincode_port}",
        "CORE_PEER_CHAINCODEADDRESS": f"127.0.0.1:{peer.chaincode_port}",
        "CORE_PEER_GOSSIP_BOOTSTRAP": peer.address,
        "CORE_PEER_GOSSIP_EXTERNALENDPOINT": peer.address,
        # The first gossip handshake races the other peers' channel joins; the default 25 s
        # reconnect leaves the Gateway finding "no combination of peers" that long.
        "CORE_PEER_GOSSIP_RECONNECTINTERVAL": "1s",
        # An organisation cut off (its packets dropped, not refused) is waited for per endorsement
        # up to the Gateway's endorsement timeout (10 s by default) before another layout of the
        # policy is tried, and gossip keeps offering its peer until its alive messages have been
        # missing for the expiration (25 s): with these, a write fails over in a few seconds (#19).
        "CORE_PEER_GATEWAY_ENDORSEMENTTIMEOUT": ENDORSEMENT_TIMEOUT,
        "CORE_PEER_GOSSIP_ALIVETIMEINTERVAL": "2s",
        "CORE_PEER_GOSSIP_ALIVEEXPIRATIONTIMEOUT": "10s",
        "CORE_PEER_TLS_ENABLED": "true",
        "CORE_PEER_TLS_CERT_FILE": str(node / "tls" / "server.crt"),
        "CORE_PEER_TLS_KEY_FILE": str(node / "tls" / "server.key"),
        "CORE_PEER_TLS_ROOTCERT_FILE": str(node / "tls" / "ca.crt"),
        "CORE_PEER_FILESYSTEMPATH": str(layout.ledgers / peer.name),
        "CORE_LEDGER_SNAPSHOTS_ROOTDIR": str(layout.ledgers / peer.name / "snapshots"),
        "CORE_OPERATIONS_LISTENADDRESS": f"{peer.host}:{peer.operations_port}",
        # Fabric's sample core.yaml disables metrics: the operations console and Prometheus read
        # ledger_blockchain_height, ledger_transaction_count, ... from /metrics
        "CORE_METRICS_PROVIDER": "prometheus",
        "CORE_PEER_AUTHENTICATION_TIMEWINDOW": layout.time_window,
        "CORE_VM_ENDPOINT": "",  # no Docker: chaincode runs as a service
        "CORE_CHAINCODE_EXTERNALBUILDERS": json.dumps([builder]),
        ADDRESS_VARIABLE: f"{peer.host}:{peer.chaincode_server_port}",
    }


def admin_env(layout: Layout, binaries: Binaries, peer: Peer) -> dict[str, str]:
    """The peer CLI acting as the organisation's admin against its own peer."""
    return {
        **_base_env(binaries),
        "FABRIC_LOGGING_SPEC": "grpc=warning:warning",
        "CORE_PEER_LOCALMSPID": peer.msp_id,
        "CORE_PEER_MSPCONFIGPATH": str(layout.admin_dir(peer.msp_id) / "msp"),
        "CORE_PEER_ADDRESS": peer.address,
        "CORE_PEER_TLS_ENABLED": "true",
        "CORE_PEER_TLS_ROOTCERT_FILE": str(layout.ca_pem(peer.msp_id)),
    }


def chaincode_env(peer: Peer, package_id: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "PYTHONPATH": str(REPOSITORY),
        "CHAINCODE_ID": package_id,
        "CHAINCODE_SERVER_ADDRESS": f"{peer.host}:{peer.chaincode_server_port}",
        # write batching on unless this says 0 (bench/fabric_throughput.py's "before")
        "GOLDTICKET_CHAINCODE_WRITE_BATCH": os.environ.get("GOLDTICKET_CHAINCODE_WRITE_BATCH", "1"),
    }


# ------------------------------------------------------------------ processes
EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")


def ephemeral_ports() -> range:
    """The ports the kernel picks outgoing connections' local ports from (32768-60999 unless
    the machine says otherwise; a new network namespace starts with the same default)."""
    try:
        low, high = (int(value) for value in EPHEMERAL_RANGE.read_text().split())
    except (OSError, ValueError):
        low, high = 32768, 60999
    return range(low, high + 1)


def check_ports(ports: Iterable[int], what: str) -> None:
    """Refuse a node's port inside the kernel's ephemeral range: any outgoing connection from
    the same address (a peer opens many) may hold it, and the node then cannot bind when it
    starts, perhaps long after the network came up (an upgrade's chaincode server did, in CI)."""
    ephemeral = ephemeral_ports()
    inside = sorted(port for port in ports if port in ephemeral)
    if inside:
        raise NetworkError(
            f"{what}: port {inside[0]} lies in {ephemeral.start}-{ephemeral.stop - 1}, the range the"
            " kernel gives outgoing connections (net.ipv4.ip_local_port_range), so a connection may"
            f" hold it when the node starts; choose GOLDTICKET_FABRIC_PORT_BASE (and any node's port)"
            f" so that every port is below {ephemeral.start}"
        )


def _last_line(log: Path | None) -> str:
    """The last line of a log (read from its last 4 KB: a peer's log may be large)."""
    if log is None:
        return ""
    try:
        with log.open("rb") as handle:
            handle.seek(max(0, handle.seek(0, os.SEEK_END) - 4096))
            lines = handle.read().decode("utf-8", errors="replace").strip().splitlines()
    except OSError:
        return ""
    return lines[-1].strip()[:300] if lines else ""


def _start_time(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def running(layout: Layout, name: str) -> int | None:
    """The PID of the process this tool started as ``name``, if it is still the same process."""
    path = layout.pids / f"{name}.pid"
    try:
        pid_text, started = path.read_text().split()
        pid = int(pid_text)
    except (OSError, ValueError):
        return None
    return pid if _start_time(pid) == started and not _is_zombie(pid) else None


def start(
    layout: Layout,
    name: str,
    command: list[str],
    env: dict[str, str],
    ports: tuple[int, ...] = (),
    *,
    host: str = "127.0.0.1",
    netns: str | None = None,
) -> int:
    """Start ``command`` detached, logging to logs/<name>.log; returns its PID (or the PID of the
    same process already running). With ``netns`` it runs inside that network namespace
    (``ip netns exec`` execs the command, so the PID is the process's own)."""
    pid = running(layout, name)
    if pid is not None:
        return pid
    check_ports(ports, f"cannot start {name}")
    busy = [port for port in ports if listening(port, host)]
    if busy:
        raise NetworkError(
            f"cannot start {name}: port {busy[0]} is taken by another process "
            "(another network? set GOLDTICKET_FABRIC_PORT_BASE, or stop it)"
        )
    layout.logs.mkdir(parents=True, exist_ok=True, mode=0o700)
    layout.pids.mkdir(parents=True, exist_ok=True, mode=0o700)
    with (layout.logs / f"{name}.log").open("ab") as log:
        process = subprocess.Popen(
            ["ip", "netns", "exec", netns, *command] if netns else command,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=layout.root,
        )
    _CHILDREN[process.pid] = process
    started = _start_time(process.pid)
    if started is None:
        raise NetworkError(f"{name} exited at once; see {layout.logs / (name + '.log')}")
    (layout.pids / f"{name}.pid").write_text(f"{process.pid} {started}\n")
    return process.pid


def stop(layout: Layout, name: str, *, timeout: float = 10.0, sig: int = signal.SIGTERM) -> bool:
    """Stop the process started as ``name`` (SIGTERM, then SIGKILL). True if one was running."""
    pid = running(layout, name)
    (layout.pids / f"{name}.pid").unlink(missing_ok=True)
    if pid is None:
        return False
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return True
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _start_time(pid) is None or _is_zombie(pid):
            return True
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    return True


def _is_zombie(pid: int) -> bool:
    child = _CHILDREN.get(pid)
    if child is not None and child.poll() is not None:
        del _CHILDREN[pid]
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def orderer_command(binaries: Binaries) -> list[str]:
    return [binaries.tool("orderer")]


def peer_command(binaries: Binaries) -> list[str]:
    return [binaries.tool("peer"), "node", "start"]


def chaincode_command() -> list[str]:
    return [sys.executable, "-m", "chaincode.server"]


# -------------------------------------------------------------------- health
def healthy(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with urllib.request.urlopen(f"http://{host}:{port}/healthz", timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def listening(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def wait_until(
    check: object, what: str, timeout: float, log: Path | None = None, alive: object = None
) -> None:
    """Poll ``check`` until true; give up after ``timeout`` or as soon as ``alive`` says the
    process died, naming the log to read."""
    deadline = time.monotonic() + timeout
    hint = f"; see {log}" if log else ""
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        if alive is not None and not alive():  # type: ignore[operator]
            last = _last_line(log)
            raise NetworkError(f"{what} exited{': ' + last if last else ''}{hint}")
        time.sleep(0.05)
    raise NetworkError(f"{what} did not come up within {timeout:.0f} s{hint}")
