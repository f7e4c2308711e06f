"""Channel membership and the chaincode definition, through Fabric's own CLIs.

Orderers join the channel with ``osnadmin`` (v3 has no system channel), peers with ``peer
channel join``. The chaincode package (metadata.json of type goldticket-ccaas plus a
connection.json) is built once so its package id never changes; every organisation installs
it, approves the definition, and one commit makes it live on the channel.
"""

from __future__ import annotations

import io
import json
import subprocess
import tarfile
import time
from pathlib import Path
from typing import Any

from .binaries import Binaries
from .crypto import write_file
from .errors import NetworkError
from .layout import CHAINCODE_VERSION, OPERATOR_MSP, Layout, Orderer, Peer
from .nodes import admin_env

SEQUENCE = 1


def run(command: list[str], env: dict[str, str], what: str, *, timeout: float = 60) -> str:
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        output = (result.stderr or result.stdout).strip()
        errors = [line for line in output.splitlines() if line.startswith("Error:")]
        raise NetworkError(f"{what} failed: {' '.join(errors) if errors else output[-1500:]}")
    return result.stdout


def retry(action: object, what: str, timeout: float = 30.0) -> Any:
    """Retry a step the network may refuse while it settles (no raft leader yet, a peer still
    joining), every 0.25 s up to ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return action()  # type: ignore[operator]
        except NetworkError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.25)


# ------------------------------------------------------------------- channel
def _osnadmin(layout: Layout, binaries: Binaries, orderer: Orderer, *args: str) -> list[str]:
    admin_tls = layout.admin_dir(orderer.msp_id) / "tls"
    return [
        binaries.tool("osnadmin"),
        "channel",
        *args,
        "-o",
        f"{orderer.host}:{orderer.admin_port}",
        "--ca-file",
        str(layout.ca_pem(orderer.msp_id)),
        "--client-cert",
        str(admin_tls / "server.crt"),
        "--client-key",
        str(admin_tls / "server.key"),
    ]


def join_orderer(layout: Layout, binaries: Binaries, orderer: Orderer) -> bool:
    env = {"PATH": "/usr/bin:/bin"}
    listed = run(
        _osnadmin(layout, binaries, orderer, "list"), env, f"osnadmin channel list on {orderer.name}"
    )
    if f'"{layout.channel}"' in listed:
        return False
    command = _osnadmin(layout, binaries, orderer, "join", "--channelID", layout.channel)
    run(command + ["--config-block", str(layout.genesis_block)], env, f"{orderer.name} joining the channel")
    return True


def join_peer(layout: Layout, binaries: Binaries, peer: Peer) -> bool:
    env = admin_env(layout, binaries, peer)
    command = [binaries.tool("peer"), "channel", "list"]
    listed = retry(lambda: run(command, env, f"peer channel list on {peer.name}"), "peer channel list")
    if layout.channel in listed.split():
        return False
    join = [binaries.tool("peer"), "channel", "join", "-b", str(layout.genesis_block)]
    retry(lambda: run(join, env, f"{peer.name} joining the channel"), f"{peer.name} joining")
    return True


# ------------------------------------------------------------------ chaincode
def _tar(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def write_package(path: Path, label: str, address: str = "127.0.0.1:0") -> None:
    """A CCaaS package for our external builder; the placeholder address means "each peer's
    own chaincode server" (see builder/bin/build)."""
    connection = {"address": address, "dial_timeout": "10s", "tls_required": False}
    code = _tar({"connection.json": json.dumps(connection).encode()})
    metadata = {"type": "goldticket-ccaas", "label": label}
    write_file(path, _tar({"metadata.json": json.dumps(metadata).encode(), "code.tar.gz": code}))


def ensure_package(layout: Layout) -> bool:
    """The CCaaS package, made once (its bytes fix the package id)."""
    if layout.package.exists():
        return False
    write_package(layout.package, f"{layout.chaincode}_{CHAINCODE_VERSION}")
    return True


def package_id(layout: Layout, binaries: Binaries, package: Path | None = None) -> str:
    peer = layout.peers[0]
    out = run(
        [
            binaries.tool("peer"),
            "lifecycle",
            "chaincode",
            "calculatepackageid",
            str(package or layout.package),
        ],
        admin_env(layout, binaries, peer),
        "calculating the package id",
    )
    return out.strip()


def install(
    layout: Layout,
    binaries: Binaries,
    peer: Peer,
    pkg_id: str,
    package: Path | None = None,
    env: dict[str, str] | None = None,
) -> bool:
    """Install the package on ``peer`` as its organisation's admin (``env``: the peer CLI as
    that admin; by default the network's folder for the organisation)."""
    env = env or admin_env(layout, binaries, peer)
    listed = run(
        [binaries.tool("peer"), "lifecycle", "chaincode", "queryinstalled", "--output", "json"],
        env,
        f"queryinstalled on {peer.name}",
    )
    if pkg_id in listed:
        return False
    run(
        [binaries.tool("peer"), "lifecycle", "chaincode", "install", str(package or layout.package)],
        env,
        f"installing the chaincode on {peer.name}",
        timeout=120,
    )
    return True


def orderer_args(layout: Layout) -> list[str]:
    first = layout.orderers[0]
    return ["-o", first.address, "--tls", "--cafile", str(layout.ca_pem(first.msp_id))]


def collections_config(msp_ids: list[str] | tuple[str, ...]) -> list[dict[str, Any]]:
    """The chaincode's private data collections (#19, chaincode/private.py): ``terms-<MSP>`` for
    each peer organisation, whose members are the operator's organisation (suppliers' identities
    are issued under its MSP) and that organisation; only members' peers receive and store the
    values, only their clients read or write them; kept for ever (blockToLive 0)."""
    collections = []
    for msp_id in sorted(set(msp_ids)):
        members = sorted({OPERATOR_MSP, msp_id})
        collections.append(
            {
                "name": f"terms-{msp_id}",
                "policy": "OR(" + ", ".join(f"'{member}.member'" for member in members) + ")",
                "requiredPeerCount": 0,
                "maxPeerCount": 3,
                "blockToLive": 0,
                "memberOnlyRead": True,
                "memberOnlyWrite": True,
            }
        )
    return collections


def collections_file(layout: Layout) -> Path:
    """The collections config of the chaincode definition, written once from the organisations
    the network starts with: every later approval (an upgrade, a newcomer approving the committed
    definition) must name the same collections. A bank organisation that joins later gets its
    collection with the next definition sequence (docs/fabric.md)."""
    path = layout.root / "chaincode" / "collections.json"
    if not path.exists():
        config = collections_config([peer.msp_id for peer in layout.peers])
        write_file(path, (json.dumps(config, indent=2) + "\n").encode())
    return path


def add_collection(layout: Layout, msp_id: str) -> bool:
    """Add ``terms-<msp_id>`` to the network's collections config (an organisation that joined
    after the first definition); False when it is there already. Every later definition names it."""
    path = collections_file(layout)
    current = json.loads(path.read_text(encoding="utf-8"))
    names = {item["name"] for item in current}
    if f"terms-{msp_id}" in names:
        return False
    members = sorted({name.removeprefix("terms-") for name in names} | {msp_id})
    write_file(path, (json.dumps(collections_config(members), indent=2) + "\n").encode())
    return True


def committed_definition(layout: Layout, binaries: Binaries, name: str) -> dict[str, Any]:
    """The committed definition of ``name`` (``sequence``, ``version``, ``approvals``...)."""
    out = run(
        [
            binaries.tool("peer"),
            "lifecycle",
            "chaincode",
            "querycommitted",
            "--channelID",
            layout.channel,
            "--name",
            name,
            "--output",
            "json",
        ],
        admin_env(layout, binaries, layout.peers[0]),
        f"querycommitted {name}",
    )
    found: dict[str, Any] = json.loads(out)
    return found


def collection_names(committed: dict[str, Any]) -> set[str]:
    """The collections a committed definition (``committed_definition``) names, whichever JSON
    shape the peer CLI gives each entry (a ``name`` somewhere inside it)."""

    def names(value: Any) -> set[str]:
        if isinstance(value, dict):
            found = {value["name"]} if isinstance(value.get("name"), str) else set()
            return found.union(*(names(item) for key, item in value.items() if key != "name"))
        if isinstance(value, list):
            return set().union(*(names(item) for item in value))
        return set()

    return names((committed.get("collections") or {}).get("config") or [])


def definition(
    layout: Layout, name: str, sequence: int = SEQUENCE, version: str = CHAINCODE_VERSION
) -> list[str]:
    return [
        "--channelID",
        layout.channel,
        "--name",
        name,
        "--version",
        version,
        "--sequence",
        str(sequence),
        "--collections-config",
        str(collections_file(layout)),
    ]


def approve_command(
    layout: Layout,
    binaries: Binaries,
    name: str,
    pkg_id: str,
    sequence: int = SEQUENCE,
    version: str = CHAINCODE_VERSION,
) -> list[str]:
    """``peer lifecycle chaincode approveformyorg`` for one definition: the one command the first
    deployment, an upgrade and a newcomer's approval all run (each with its own admin's env)."""
    return [
        binaries.tool("peer"),
        "lifecycle",
        "chaincode",
        "approveformyorg",
        *orderer_args(layout),
        *definition(layout, name, sequence, version),
        "--package-id",
        pkg_id,
        "--waitForEventTimeout",
        "30s",
    ]


def commit_command(
    layout: Layout,
    binaries: Binaries,
    name: str,
    sequence: int = SEQUENCE,
    version: str = CHAINCODE_VERSION,
    peers: tuple[tuple[Peer, Path], ...] | None = None,
) -> list[str]:
    """``peer lifecycle chaincode commit`` of one definition, endorsed by ``peers`` (each with
    its TLS CA: the channel's current members, see ``membership.channel_members``), by default
    the peers of the organisations the network was made with."""
    command = [
        binaries.tool("peer"),
        "lifecycle",
        "chaincode",
        "commit",
        *orderer_args(layout),
        *definition(layout, name, sequence, version),
    ]
    if peers is None:
        peers = tuple((peer, layout.ca_pem(peer.msp_id)) for peer in layout.peers)
    for peer, tls_ca in peers:
        command += ["--peerAddresses", peer.address, "--tlsRootCertFiles", str(tls_ca)]
    return [*command, "--waitForEventTimeout", "30s"]


def committed(layout: Layout, binaries: Binaries, name: str) -> bool:
    result = subprocess.run(
        [
            binaries.tool("peer"),
            "lifecycle",
            "chaincode",
            "querycommitted",
            "--channelID",
            layout.channel,
            "--name",
            name,
        ],
        env=admin_env(layout, binaries, layout.peers[0]),
        capture_output=True,
        text=True,
        timeout=30,
    )
    return result.returncode == 0


def approved(layout: Layout, binaries: Binaries, peer: Peer, name: str) -> bool:
    out = run(
        [
            binaries.tool("peer"),
            "lifecycle",
            "chaincode",
            "checkcommitreadiness",
            *definition(layout, name),
            "--output",
            "json",
        ],
        admin_env(layout, binaries, peer),
        f"checkcommitreadiness on {peer.name}",
    )
    return bool(json.loads(out)["approvals"].get(peer.msp_id))


def approve(layout: Layout, binaries: Binaries, peer: Peer, name: str, pkg_id: str) -> bool:
    if retry(lambda: approved(layout, binaries, peer, name), f"{peer.name} readiness"):
        return False
    command = approve_command(layout, binaries, name, pkg_id)
    env = admin_env(layout, binaries, peer)
    retry(lambda: run(command, env, f"{peer.msp_id} approving {name}"), "approve")
    return True


def commit(layout: Layout, binaries: Binaries, name: str) -> bool:
    if committed(layout, binaries, name):
        return False
    command = commit_command(layout, binaries, name)
    env = admin_env(layout, binaries, layout.peers[0])
    retry(lambda: run(command, env, f"committing {name}"), "commit")
    return True
