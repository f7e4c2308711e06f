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
import dataclasses
import json
import subprocess
from pathlib import Path
from typing import Any

import yaml

from goldticket.signing.organisations import make_folders, write_file

from . import lifecycle, netns, nodes, orgs
from .binaries import Binaries
from .errors import NetworkError
from .layout import HOST, OPERATOR_MSP, Layout, Peer
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
    binaries: Binaries, imported: Path, msp_id: str, anchor_port: int | None, anchor_host: str = HOST
) -> dict[str, Any]:
    """The config group of an imported organisation, from its public MSP folder only. Its anchor
    peer (host and port) is how the other organisations' peers find its peer by gossip, and so
    how their Gateways' discovery offers it as an endorser."""
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
        org["AnchorPeers"] = [{"Host": anchor_host, "Port": anchor_port}]
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
def own_peer(folder: Path, port: int, host: str = HOST) -> Peer:
    """The peer an organisation's folder describes (the first node of role peer), at ``host``."""
    metadata = json.loads((folder / "org.json").read_text())
    peers = [node for node in metadata["nodes"] if node["role"] == "peer"]
    if not peers or not peers[0]["name"].startswith("peer0."):
        raise NetworkError(f"{folder} describes no peer named peer0.<org>")
    return Peer(metadata["msp_id"], peers[0]["name"].removeprefix("peer0."), port, host)


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
    """Its peer and its chaincode server (the same package id as every other organisation's); on
    a namespaced network both in a namespace of its own at its peer's address, as a host of its
    own would be."""
    make_folders(folder / "ledgers")
    if layout.namespaces:
        netns.add_joined(layout, peer.msp_id, peer.host)
    nodes.start(
        layout,
        peer.name,
        nodes.peer_command(binaries),
        own_peer_env(layout, binaries, folder, peer),
        (peer.port, peer.chaincode_port, peer.operations_port),
        host=peer.host,
        netns=layout.netns(peer.msp_id),
    )
    nodes.start(
        layout,
        f"chaincode.{peer.org}",
        nodes.chaincode_command(),
        nodes.chaincode_env(peer, package_id),
        (peer.chaincode_server_port,),
        host=peer.host,
        netns=layout.netns(peer.msp_id),
    )
    log = layout.logs / f"{peer.name}.log"
    nodes.wait_until(
        lambda: nodes.healthy(peer.operations_port, peer.host),
        peer.name,
        60,
        log,
        lambda: nodes.running(layout, peer.name) is not None,
    )
    nodes.wait_until(
        lambda: nodes.listening(peer.chaincode_server_port, peer.host),
        f"chaincode.{peer.org}",
        30,
        layout.logs / f"chaincode.{peer.org}.log",
        lambda: nodes.running(layout, f"chaincode.{peer.org}") is not None,
    )


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
    installed = run(
        [binaries.tool("peer"), "lifecycle", "chaincode", "queryinstalled", "--output", "json"],
        env,
        f"queryinstalled on {peer.name}",
    )
    if package_id not in installed:
        install = [binaries.tool("peer"), "lifecycle", "chaincode", "install", str(layout.package)]
        run(install, env, f"installing the chaincode on {peer.name}", timeout=120)
    current = lifecycle.committed_definition(layout, binaries, layout.chaincode)
    if (current.get("approvals") or {}).get(peer.msp_id):
        return
    sequence, version = int(current["sequence"]), str(current["version"])
    approve = lifecycle.approve_command(layout, binaries, layout.chaincode, package_id, sequence, version)
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
    newcomer = Member(peer, folder / "msp" / "tlscacerts" / "ca.pem", own_env, folder)
    others = [m for m in channel_members(layout, binaries) if m.peer.msp_id != peer.msp_id]
    for member in [*others, newcomer]:  # each organisation's admin, with its own identity
        env, what = member.env, f"{member.peer.msp_id} approving {name} #{sequence}"
        retry(lambda env=env, what=what: run(approve, env, what), "approve", timeout=60)
    commit_definition(layout, binaries, name, sequence, version, [*others, newcomer])
    return sequence


# ------------------------------------------------------- the channel's members here
# The organisations that started the network have their admins in the network's folders
# (layout.admin_dir); one that joined later has its admin in its own folder, recorded by
# ``record_joined`` when its peer joins (the folder's path, never a copy of a key). Lifecycle
# steps that every organisation takes (an upgrade's approvals, a definition's commit) go over the
# channel's current members, read from the channel config, so a joined organisation approves and
# endorses and a removed one no longer does.
@dataclasses.dataclass
class Member:
    """A member organisation run from this machine: its peer, that peer's TLS CA, the peer CLI's
    environment as its own admin against its own peer, and its own folder (None: the network's)."""

    peer: Peer
    tls_ca: Path
    env: dict[str, str]
    folder: Path | None = None


def joined_dir(layout: Layout) -> Path:
    return layout.root / "joined"


def record_joined(layout: Layout, folder: Path, peer: Peer) -> Path:
    """Remember that ``folder``'s organisation runs ``peer`` on this machine (public facts only)."""
    record = {
        "msp_id": peer.msp_id,
        "folder": str(folder.resolve()),
        "org": peer.org,
        "port": peer.port,
        "host": peer.host,
    }
    path = joined_dir(layout) / f"{peer.msp_id}.json"
    write_file(path, json.dumps(record, indent=1).encode())
    return path


def joined(layout: Layout, binaries: Binaries) -> dict[str, Member]:
    """The organisations that joined after the network was made, by MSP id, as recorded."""
    found: dict[str, Member] = {}
    folder = joined_dir(layout)
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        record = json.loads(path.read_text(encoding="utf-8"))
        own = Path(record["folder"])
        peer = Peer(record["msp_id"], record["org"], int(record["port"]), str(record.get("host") or HOST))
        env = own_admin_env(layout, binaries, own, peer)
        found[peer.msp_id] = Member(peer, own / "msp" / "tlscacerts" / "ca.pem", env, own)
    return found


def channel_members(layout: Layout, binaries: Binaries, workdir: Path | None = None) -> list[Member]:
    """The channel's current member organisations that run a peer from this machine: the
    network's own and those recorded as joined, in the channel config's order of names. A member
    run from elsewhere is not listed (it approves from its own machine)."""
    names = members(layout, binaries, layout.peers[0], workdir or layout.root / "work" / "members")
    known = {
        peer.msp_id: Member(peer, layout.ca_pem(peer.msp_id), admin_env(layout, binaries, peer))
        for peer in layout.peers
    }
    known.update(joined(layout, binaries))
    return [known[name] for name in names if name in known]


def start_joined(layout: Layout, binaries: Binaries, package_id: str) -> list[Member]:
    """After ``network-down``: the peers (and chaincode servers) of the organisations recorded as
    joined that are still members, from their own folders; returns every member run from here."""
    # the orderers may not serve yet (no raft leader right after a restart)
    current: list[Member] = retry(lambda: channel_members(layout, binaries), "the channel config", 60)
    for member in current:
        if member.folder is not None:
            start_own_peer(layout, binaries, member.folder, member.peer, package_id)
    return current


def commit_definition(
    layout: Layout, binaries: Binaries, name: str, sequence: int, version: str, endorsers: list[Member]
) -> None:
    """Commit a definition once every ``endorsers``' organisation's approval shows in the
    committing peer's ``checkcommitreadiness``, endorsed by their peers."""
    readiness = [
        binaries.tool("peer"),
        "lifecycle",
        "chaincode",
        "checkcommitreadiness",
        *lifecycle.definition(layout, name, sequence, version),
        "--output",
        "json",
    ]
    committer = admin_env(layout, binaries, layout.peers[0])
    wanted = {m.peer.msp_id for m in endorsers}

    def ready() -> None:
        approvals = json.loads(run(readiness, committer, "checkcommitreadiness"))["approvals"]
        missing = sorted(msp for msp in wanted if not approvals.get(msp))
        if missing:
            raise NetworkError(f"{name} #{sequence} not yet approved by {', '.join(missing)}")

    retry(ready, "readiness", timeout=60)
    command = lifecycle.commit_command(
        layout, binaries, name, sequence, version, peers=tuple((m.peer, m.tls_ca) for m in endorsers)
    )
    retry(lambda: run(command, committer, f"committing {name} #{sequence}"), "commit", timeout=60)


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


# ------------------------------------------------------- the join from a shell (network.py)
# ``network.py channel propose-join|sign|submit`` and ``network.py peer join``: the same steps as
# above, each run by the organisation whose key it needs, passing files only (the newcomer's
# public file, then the update envelope from admin to admin).
def propose_join(layout: Layout, binaries: Binaries, data: dict[str, Any], out: Path) -> tuple[str, int]:
    """The unsigned update adding the organisation of public file ``data`` (checked and imported
    under ``<fabric dir>/imported``), its first peer as anchor; returns (MSP id, members now)."""
    listed = data.get("nodes") if isinstance(data, dict) else None
    anchors = (
        [n for n in listed if isinstance(n, dict) and n.get("role") == "peer"]
        if isinstance(listed, list)
        else []
    )
    if anchors and layout.namespaces:  # its anchor must be an address this network's peers reach
        layout.joined_host(str(anchors[0].get("endpoint") or "").rsplit(":", 1)[0])  # before anything is kept
    msp_id = orgs.import_public(layout.root, data, own=OPERATOR_MSP)
    imported = layout.root / "imported" / msp_id
    metadata = json.loads((imported / "org.json").read_text(encoding="utf-8"))
    peers = [node for node in metadata["nodes"] if node["role"] == "peer"]
    host, port = peers[0]["endpoint"].rsplit(":", 1) if peers else (HOST, None)
    group = organisation_group(binaries, imported, msp_id, int(port) if port else None, host)
    workdir = layout.root / "work" / f"propose-{msp_id}"
    envelope = add_organisation_update(layout, binaries, layout.peers[0], group, msp_id, workdir)
    write_file(out, envelope.read_bytes())
    return msp_id, len(members(layout, binaries, layout.peers[0], workdir))


def propose_remove(layout: Layout, binaries: Binaries, msp_id: str, out: Path) -> int:
    """The unsigned update removing ``msp_id`` from the channel (a majority of the members'
    admins sign it, as for a join); returns the number of members now."""
    workdir = layout.root / "work" / f"remove-{msp_id}"
    envelope = remove_organisation_update(layout, binaries, layout.peers[0], msp_id, workdir)
    write_file(out, envelope.read_bytes())
    return len(members(layout, binaries, layout.peers[0], workdir))


def forget_departed(layout: Layout, binaries: Binaries) -> list[str]:
    """Drop the records of joined organisations that are no longer channel members (removed by
    an update): ``network-up`` starts no peer of theirs from this machine again. Returns them."""
    current = set(members(layout, binaries, layout.peers[0], layout.root / "work" / "departed"))
    gone = [msp_id for msp_id in joined(layout, binaries) if msp_id not in current]
    for msp_id in gone:
        (joined_dir(layout) / f"{msp_id}.json").unlink(missing_ok=True)
    return gone


def signing_admin(layout: Layout, binaries: Binaries, folder: Path | None, msp_id: str | None) -> Member:
    """The admin who signs or submits: the one in organisation folder ``folder`` (its own key),
    or that of ``msp_id``, one of the network's organisations or one recorded as joined."""
    base = admin_env(layout, binaries, layout.peers[0])
    if folder is not None:
        metadata = orgs.metadata(folder)
        if not (folder / "admin" / "msp" / "signcerts").is_dir():
            raise NetworkError(f"{folder} holds no admin (admin/msp)")
        msp_id = str(metadata["msp_id"])
        env = {
            **base,
            "CORE_PEER_LOCALMSPID": msp_id,
            "CORE_PEER_MSPCONFIGPATH": str(folder / "admin" / "msp"),
        }
        peer = Peer(msp_id, "admin", 0)
        return Member(peer, folder / "msp" / "tlscacerts" / "ca.pem", env, folder)
    known = {
        p.msp_id: Member(p, layout.ca_pem(p.msp_id), admin_env(layout, binaries, p)) for p in layout.peers
    }
    known.update(joined(layout, binaries))
    if msp_id not in known:
        raise NetworkError(f"no admin of {msp_id} here: name its organisation folder (--dir)")
    return known[msp_id]


def signers(binaries: Binaries, envelope: Path) -> list[str]:
    """The MSP ids of the admins whose signatures an update envelope carries."""
    decoded = _decode(binaries, "common.Envelope", envelope)
    signatures = decoded["payload"]["data"].get("signatures") or []
    return [item["signature_header"]["creator"]["mspid"] for item in signatures]


def sign_as(binaries: Binaries, admin: Member, envelope: Path) -> None:
    command = [binaries.tool("peer"), "channel", "signconfigtx", "-f", str(envelope)]
    run(command, admin.env, f"{admin.peer.msp_id}'s admin signing the update")


def submit_as(layout: Layout, binaries: Binaries, admin: Member, envelope: Path) -> None:
    command = [binaries.tool("peer"), "channel", "update", "-f", str(envelope), "-c", layout.channel]
    run(command + lifecycle.orderer_args(layout), admin.env, f"the update sent by {admin.peer.msp_id}")


def join_peer(layout: Layout, binaries: Binaries, folder: Path) -> tuple[Peer, dict[str, Any]]:
    """The newcomer's whole part once it is a member, from its own folder: start its peer and
    chaincode server, join from the genesis block, install the package and approve the committed
    definition, and record it as a member run from here; returns its peer and chain info."""
    nodes_listed = orgs.metadata(folder)["nodes"]
    if not isinstance(nodes_listed, list):
        raise NetworkError(f"{folder}/org.json lists no nodes")
    endpoints = [node["endpoint"] for node in nodes_listed if node["role"] == "peer"]
    if not endpoints:
        raise NetworkError(f"{folder} describes no peer")
    host, port = endpoints[0].rsplit(":", 1)
    if layout.namespaces:
        layout.joined_host(host)  # a host of the network's /24 that none of its own holds
    elif host != HOST:
        raise NetworkError(f"its peer's endpoint {endpoints[0]} is not on {HOST}, where this network runs")
    peer = own_peer(folder, int(port), host)
    package_id = lifecycle.package_id(layout, binaries)
    start_own_peer(layout, binaries, folder, peer, package_id)
    join_own_peer(layout, binaries, folder, peer, layout.root / "work" / f"join-{peer.msp_id}")
    approve_committed_definition(layout, binaries, folder, peer, package_id)
    record_joined(layout, folder, peer)
    return peer, chain_info(own_admin_env(layout, binaries, folder, peer), binaries, layout.channel)
