"""A new organisation joins the channel by a configuration update its members sign (#19).

The update is made with Fabric's own tools: the channel's current config is fetched from the
orderer (``peer channel fetch config``), decoded (``configtxlator``), the new organisation's group
is built from its imported public MSP only (``configtxgen -printOrg`` over ``orgs.import_public``'s
folder) and added under Application, ``configtxlator compute_update`` gives the delta, wrapped in
an envelope. Each organisation's admin signs it with its own admin identity (``peer channel
signconfigtx``); ``peer channel update`` adds the submitter's signature and sends it. The orderer
checks it against ``/Channel/Application/Admins`` (MAJORITY Admins): signed by a minority it is
refused, by a majority it makes a new config block.
"""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path
from typing import Any

import yaml

from goldticket.signing.organisations import make_folders, write_file

from . import lifecycle, nodes
from .binaries import Binaries
from .errors import NetworkError
from .layout import HOST, Layout, Peer
from .lifecycle import retry, run
from .nodes import admin_env, peer_env


def _tool_env() -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "FABRIC_LOGGING_SPEC": "warning"}


def _decode(binaries: Binaries, proto: str, source: Path) -> dict[str, Any]:
    out = run(
        [binaries.tool("configtxlator"), "proto_decode", "--type", proto, "--input", str(source)],
        _tool_env(),
        f"decoding {proto}",
    )
    data: dict[str, Any] = json.loads(out)
    return data


def _encode(binaries: Binaries, proto: str, data: dict[str, Any], target: Path) -> Path:
    source = target.with_suffix(".json")
    write_file(source, json.dumps(data).encode())
    run(
        [
            binaries.tool("configtxlator"),
            "proto_encode",
            "--type",
            proto,
            "--input",
            str(source),
            "--output",
            str(target),
        ],
        _tool_env(),
        f"encoding {proto}",
    )
    return target


def channel_config(layout: Layout, binaries: Binaries, peer: Peer, workdir: Path) -> dict[str, Any]:
    """The channel's current config (common.Config as JSON), fetched from the orderer."""
    make_folders(workdir)
    block = workdir / "config_block.pb"
    command = [binaries.tool("peer"), "channel", "fetch", "config", str(block), "-c", layout.channel]
    run(
        command + lifecycle.orderer_args(layout),
        admin_env(layout, binaries, peer),
        "fetching the channel config",
    )
    config: dict[str, Any] = _decode(binaries, "common.Block", block)["data"]["data"][0]["payload"]["data"][
        "config"
    ]
    return config


def organisation_group(
    binaries: Binaries, imported: Path, msp_id: str, anchor_port: int | None
) -> dict[str, Any]:
    """The config group of an imported organisation, from its public MSP folder only."""
    org: dict[str, Any] = {
        "Name": msp_id,
        "ID": msp_id,
        "MSPDir": str(imported / "msp"),
        "Policies": {
            "Readers": {"Type": "Signature", "Rule": f"OR('{msp_id}.member')"},
            "Writers": {"Type": "Signature", "Rule": f"OR('{msp_id}.member')"},
            "Admins": {"Type": "Signature", "Rule": f"OR('{msp_id}.admin')"},
            "Endorsement": {"Type": "Signature", "Rule": f"OR('{msp_id}.peer')"},
        },
    }
    if anchor_port is not None:
        org["AnchorPeers"] = [{"Host": HOST, "Port": anchor_port}]
    write_file(imported / "configtx" / "configtx.yaml", yaml.safe_dump({"Organizations": [org]}).encode())
    result = subprocess.run(
        [binaries.tool("configtxgen"), "-configPath", str(imported / "configtx"), "-printOrg", msp_id],
        capture_output=True,
        text=True,
        env=_tool_env(),
        timeout=60,
        check=False,
    )
    if result.returncode != 0:
        raise NetworkError(f"configtxgen -printOrg {msp_id} failed: {result.stderr.strip()[-1500:]}")
    group: dict[str, Any] = json.loads(result.stdout)
    return group


def add_organisation_update(
    layout: Layout, binaries: Binaries, peer: Peer, group: dict[str, Any], msp_id: str, workdir: Path
) -> Path:
    """An unsigned config update envelope adding ``msp_id`` to the channel's Application group."""
    original = channel_config(layout, binaries, peer, workdir)
    if msp_id in original["channel_group"]["groups"]["Application"]["groups"]:
        raise NetworkError(f"{msp_id} is already a member of {layout.channel}")
    updated = copy.deepcopy(original)
    updated["channel_group"]["groups"]["Application"]["groups"][msp_id] = group
    return _update_envelope(layout, binaries, original, updated, workdir)


def remove_organisation_update(
    layout: Layout, binaries: Binaries, peer: Peer, msp_id: str, workdir: Path
) -> Path:
    """An unsigned config update envelope removing ``msp_id`` from the Application group: its
    identities stop being channel members (no reads, writes or endorsements that count)."""
    original = channel_config(layout, binaries, peer, workdir)
    groups = original["channel_group"]["groups"]["Application"]["groups"]
    if msp_id not in groups:
        raise NetworkError(f"{msp_id} is not a member of {layout.channel}")
    if len(groups) <= 2:
        raise NetworkError("a channel keeps at least two organisations")
    updated = copy.deepcopy(original)
    del updated["channel_group"]["groups"]["Application"]["groups"][msp_id]
    return _update_envelope(layout, binaries, original, updated, workdir)


def _update_envelope(
    layout: Layout, binaries: Binaries, original: dict[str, Any], updated: dict[str, Any], workdir: Path
) -> Path:
    before = _encode(binaries, "common.Config", original, workdir / "original.pb")
    after = _encode(binaries, "common.Config", updated, workdir / "updated.pb")
    delta = workdir / "update.pb"
    run(
        [
            binaries.tool("configtxlator"),
            "compute_update",
            "--channel_id",
            layout.channel,
            "--original",
            str(before),
            "--updated",
            str(after),
            "--output",
            str(delta),
        ],
        _tool_env(),
        "computing the config update",
    )
    update = _decode(binaries, "common.ConfigUpdate", delta)
    envelope = {
        "payload": {
            "header": {"channel_header": {"channel_id": layout.channel, "type": 2}},
            "data": {"config_update": update},
        }
    }
    return _encode(binaries, "common.Envelope", envelope, workdir / "update_envelope.pb")


def sign(layout: Layout, binaries: Binaries, peer: Peer, envelope: Path) -> None:
    """The admin of ``peer``'s organisation signs the update (its own admin identity)."""
    command = [binaries.tool("peer"), "channel", "signconfigtx", "-f", str(envelope)]
    run(command, admin_env(layout, binaries, peer), f"{peer.msp_id}'s admin signing the update")


def submit(layout: Layout, binaries: Binaries, peer: Peer, envelope: Path) -> None:
    """``peer``'s organisation's admin signs too and sends the update to the orderer."""
    command = [binaries.tool("peer"), "channel", "update", "-f", str(envelope), "-c", layout.channel]
    run(
        command + lifecycle.orderer_args(layout),
        admin_env(layout, binaries, peer),
        f"the update sent by {peer.msp_id}",
    )


def members(layout: Layout, binaries: Binaries, peer: Peer, workdir: Path) -> list[str]:
    config = channel_config(layout, binaries, peer, workdir)
    return sorted(config["channel_group"]["groups"]["Application"]["groups"])


# ------------------------------------------------------- the newcomer's own node
# After the update, the new organisation starts its peer from its own folder (its keys never
# leave it), joins the channel from the genesis block the orderers serve to its members, catches
# up, installs the package (public bytes, its id fixed) and approves the committed definition for
# itself, with its own admin. Its peer then endorses; MAJORITY now counts it.
def own_peer(folder: Path, port: int) -> Peer:
    """The peer an organisation's folder describes (the first node of role peer)."""
    metadata = json.loads((folder / "org.json").read_text())
    peers = [node for node in metadata["nodes"] if node["role"] == "peer"]
    if not peers or not peers[0]["name"].startswith("peer0."):
        raise NetworkError(f"{folder} describes no peer named peer0.<org>")
    return Peer(metadata["msp_id"], peers[0]["name"].removeprefix("peer0."), port)


def own_peer_env(layout: Layout, binaries: Binaries, folder: Path, peer: Peer) -> dict[str, str]:
    """The network's peer environment with the organisation's own identity, TLS keys and ledger."""
    node = folder / "nodes" / peer.name
    return {
        **peer_env(layout, binaries, peer),
        "CORE_PEER_MSPCONFIGPATH": str(node / "msp"),
        "CORE_PEER_TLS_CERT_FILE": str(node / "tls" / "server.crt"),
        "CORE_PEER_TLS_KEY_FILE": str(node / "tls" / "server.key"),
        "CORE_PEER_TLS_ROOTCERT_FILE": str(node / "tls" / "ca.crt"),
        "CORE_PEER_FILESYSTEMPATH": str(folder / "ledgers" / peer.name),
        "CORE_LEDGER_SNAPSHOTS_ROOTDIR": str(folder / "ledgers" / peer.name / "snapshots"),
    }


def own_admin_env(layout: Layout, binaries: Binaries, folder: Path, peer: Peer) -> dict[str, str]:
    """The peer CLI as the organisation's own admin (its folder's key) against its own peer."""
    return {
        **admin_env(layout, binaries, peer),
        "CORE_PEER_MSPCONFIGPATH": str(folder / "admin" / "msp"),
        "CORE_PEER_TLS_ROOTCERT_FILE": str(folder / "msp" / "tlscacerts" / "ca.pem"),
    }


def start_own_peer(layout: Layout, binaries: Binaries, folder: Path, peer: Peer, package_id: str) -> None:
    """Its peer and its chaincode server (the same package id as every other organisation's)."""
    make_folders(folder / "ledgers")
    nodes.start(
        layout,
        peer.name,
        nodes.peer_command(binaries),
        own_peer_env(layout, binaries, folder, peer),
        (peer.port, peer.chaincode_port, peer.operations_port),
    )
    nodes.start(
        layout,
        f"chaincode.{peer.org}",
        nodes.chaincode_command(),
        nodes.chaincode_env(peer, package_id),
        (peer.chaincode_server_port,),
    )
    log = layout.logs / f"{peer.name}.log"
    nodes.wait_until(lambda: nodes.healthy(peer.operations_port), peer.name, 60, log)
    nodes.wait_until(lambda: nodes.listening(peer.chaincode_server_port), f"chaincode.{peer.org}", 30)


def join_own_peer(layout: Layout, binaries: Binaries, folder: Path, peer: Peer, workdir: Path) -> None:
    """Fetch the channel's genesis block from the orderer as the new member and join with it."""
    env = own_admin_env(layout, binaries, folder, peer)
    make_folders(workdir)
    block = workdir / "genesis.block"
    fetch = [binaries.tool("peer"), "channel", "fetch", "0", str(block), "-c", layout.channel]
    retry(
        lambda: run(fetch + lifecycle.orderer_args(layout), env, f"{peer.msp_id} fetching the genesis block"),
        "fetch",
    )
    join = [binaries.tool("peer"), "channel", "join", "-b", str(block)]
    retry(lambda: run(join, env, f"{peer.name} joining the channel"), "join")


def chain_info(env: dict[str, str], binaries: Binaries, channel: str) -> dict[str, Any]:
    """``peer channel getinfo`` of the peer ``env`` points at: height and current block hash."""
    out = run([binaries.tool("peer"), "channel", "getinfo", "-c", channel], env, "peer channel getinfo")
    info: dict[str, Any] = json.loads(out.split("Blockchain info:", 1)[1])
    return info


def approve_committed_definition(
    layout: Layout, binaries: Binaries, folder: Path, peer: Peer, package_id: str
) -> None:
    """Install the package on its own peer and approve the committed definition (same name,
    version and sequence) for its organisation: its peer may then run and endorse the chaincode."""
    env = own_admin_env(layout, binaries, folder, peer)
    install = [binaries.tool("peer"), "lifecycle", "chaincode", "install", str(layout.package)]
    run(install, env, f"installing the chaincode on {peer.name}", timeout=120)
    approve = lifecycle.approve_command(layout, binaries, layout.chaincode, package_id)
    retry(lambda: run(approve, env, f"{peer.msp_id} approving {layout.chaincode}"), "approve", timeout=60)


def admit_to_chaincode(
    layout: Layout, binaries: Binaries, folder: Path, peer: Peer, package_id: str, name: str | None = None
) -> int:
    """After the join, the newcomer's part of the chaincode: its own private terms collection.
    Collections are fixed in the chaincode definition, so ``terms-<its MSP>`` comes with the next
    sequence: the collections config gains it (``lifecycle.add_collection``, what every later
    definition names), each member organisation's admin approves the new sequence (same package,
    version and policy), the newcomer installs the package and approves it with its own admin,
    and it is committed, endorsed by every peer (a MAJORITY of approvals is what the channel's
    LifecycleEndorsement asks). Idempotent: a sequence that already names the collection is kept.
    Returns the committed sequence."""
    name = name or layout.chaincode
    own_env = own_admin_env(layout, binaries, folder, peer)
    installed = run(
        [binaries.tool("peer"), "lifecycle", "chaincode", "queryinstalled", "--output", "json"],
        own_env,
        f"queryinstalled on {peer.name}",
    )
    if package_id not in installed:
        install = [binaries.tool("peer"), "lifecycle", "chaincode", "install", str(layout.package)]
        run(install, own_env, f"installing the chaincode on {peer.name}", timeout=120)
    current = lifecycle.committed_definition(layout, binaries, name)
    collection = f"terms-{peer.msp_id}"
    names = lifecycle.collection_names(current)
    lifecycle.add_collection(layout, peer.msp_id)
    sequence, version = int(current["sequence"]), str(current["version"])
    if collection in names:  # already admitted: the newcomer approves the committed sequence once
        if not (current.get("approvals") or {}).get(peer.msp_id):
            approve = lifecycle.approve_command(layout, binaries, name, package_id, sequence, version)
            retry(lambda: run(approve, own_env, f"{peer.msp_id} approving {name}"), "approve", timeout=60)
        return sequence
    sequence += 1
    approve = lifecycle.approve_command(layout, binaries, name, package_id, sequence, version)
    for member in layout.peers:  # each organisation's admin, with its own identity
        env, what = admin_env(layout, binaries, member), f"{member.msp_id} approving {name} #{sequence}"
        retry(lambda env=env, what=what: run(approve, env, what), "approve")
    retry(lambda: run(approve, own_env, f"{peer.msp_id} approving {name} #{sequence}"), "approve", timeout=60)
    tls_ca = folder / "msp" / "tlscacerts" / "ca.pem"
    commit = lifecycle.commit_command(layout, binaries, name, sequence, version, others=((peer, tls_ca),))
    env = admin_env(layout, binaries, layout.peers[0])
    retry(lambda: run(commit, env, f"committing {name} #{sequence}"), "commit", timeout=60)
    return sequence


def invoke_ping(
    layout: Layout, binaries: Binaries, env: dict[str, str], endorsers: list[tuple[Peer, Path]]
) -> str:
    """Ping (no key: reads and writes nothing, any channel identity may call it) endorsed by
    exactly ``endorsers`` (peer, its TLS CA), sent to the orderer by the identity of ``env``, and
    waited for: the peer CLI fails when the commit is not VALID, naming the validation code."""
    command = [
        binaries.tool("peer"),
        "chaincode",
        "invoke",
        *lifecycle.orderer_args(layout),
        "-C",
        layout.channel,
        "-n",
        layout.chaincode,
        "-c",
        json.dumps({"Args": ["Ping", "{}"]}),
        "--waitForEvent",
        "--waitForEventTimeout",
        "30s",
    ]
    for endorser, tls_ca in endorsers:
        command += ["--peerAddresses", endorser.address, "--tlsRootCertFiles", str(tls_ca)]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=90, check=False)
    output = (result.stderr + result.stdout).strip()
    if result.returncode != 0:
        raise NetworkError(f"Ping endorsed by {[p.msp_id for p, _ in endorsers]} failed: {output[-1500:]}")
    return output
