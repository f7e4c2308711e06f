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

from .binaries import Binaries
from .crypto import make_folders, write_file
from .errors import NetworkError
from .layout import HOST, ORDERER_MSP, Layout, Peer
from .lifecycle import run
from .nodes import admin_env


def _orderer_args(layout: Layout) -> list[str]:
    return ["-o", layout.orderers[0].address, "--tls", "--cafile", str(layout.ca_pem(ORDERER_MSP))]


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
    run(command + _orderer_args(layout), admin_env(layout, binaries, peer), "fetching the channel config")
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
        command + _orderer_args(layout),
        admin_env(layout, binaries, peer),
        f"the update sent by {peer.msp_id}",
    )


def members(layout: Layout, binaries: Binaries, peer: Peer, workdir: Path) -> list[str]:
    config = channel_config(layout, binaries, peer, workdir)
    return sorted(config["channel_group"]["groups"]["Application"]["groups"])
