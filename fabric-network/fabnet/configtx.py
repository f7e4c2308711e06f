"""Our consortium's channel configuration (configtx.yaml) and the channel's genesis block.

One etcdraft orderer organisation and three peer organisations (OperatorMSP, CoreMSP,
BankMSP), one peer each with an anchor peer, Fabric v3 capabilities, and the channel's
endorsement policy MAJORITY of the three organisations' peers.
"""

from __future__ import annotations

import subprocess
from typing import Any

import yaml

from .binaries import Binaries
from .crypto import write_file
from .errors import NetworkError
from .layout import Layout

PROFILE = "GoldTicketChannel"


def _signature(rule: str) -> dict[str, str]:
    return {"Type": "Signature", "Rule": rule}


def _implicit(rule: str) -> dict[str, str]:
    return {"Type": "ImplicitMeta", "Rule": rule}


def _organisation(layout: Layout, msp_id: str) -> dict[str, Any]:
    org: dict[str, Any] = {
        "Name": msp_id,
        "ID": msp_id,
        "MSPDir": str(layout.org_msp(msp_id)),
        "Policies": {
            "Readers": _signature(f"OR('{msp_id}.member')"),
            "Writers": _signature(f"OR('{msp_id}.member')"),
            "Admins": _signature(f"OR('{msp_id}.admin')"),
            "Endorsement": _signature(f"OR('{msp_id}.peer')"),
        },
    }
    if msp_id in layout.orderer_msp_ids:
        org["OrdererEndpoints"] = [o.address for o in layout.orderers if o.msp_id == msp_id]
    else:
        peer = next(p for p in layout.peers if p.msp_id == msp_id)
        org["AnchorPeers"] = [{"Host": peer.host, "Port": peer.port}]
    return org


def configtx(layout: Layout) -> dict[str, Any]:
    """configtx.yaml as data: a profile for the ``goldticket`` channel."""
    orderer_orgs = [_organisation(layout, msp_id) for msp_id in layout.orderer_msp_ids]
    peer_orgs = [_organisation(layout, peer.msp_id) for peer in layout.peers]
    consenters = [
        {
            "Host": orderer.host,
            "Port": orderer.port,
            "ClientTLSCert": str(layout.node_dir(orderer.msp_id, orderer.name) / "tls" / "server.crt"),
            "ServerTLSCert": str(layout.node_dir(orderer.msp_id, orderer.name) / "tls" / "server.crt"),
        }
        for orderer in layout.orderers
    ]
    orderer: dict[str, Any] = {
        "OrdererType": "etcdraft",
        "BatchTimeout": layout.batch_timeout,
        "BatchSize": {"MaxMessageCount": 500, "AbsoluteMaxBytes": "10 MB", "PreferredMaxBytes": "2 MB"},
        "EtcdRaft": {
            "Consenters": consenters,
            "Options": {
                "TickInterval": "500ms",
                "ElectionTick": 10,
                "HeartbeatTick": 1,
                "MaxInflightBlocks": 5,
                "SnapshotIntervalSize": "16 MB",
            },
        },
        "Organizations": orderer_orgs,
        "Policies": {
            "Readers": _implicit("ANY Readers"),
            "Writers": _implicit("ANY Writers"),
            "Admins": _implicit("MAJORITY Admins"),
            "BlockValidation": _implicit("ANY Writers"),
        },
        "Capabilities": {"V2_0": True},
    }
    if layout.consensus == "BFT":
        orderer = _bft(layout, orderer)
    application = {
        "Organizations": peer_orgs,
        "Policies": {
            "Readers": _implicit("ANY Readers"),
            "Writers": _implicit("ANY Writers"),
            "Admins": _implicit("MAJORITY Admins"),
            "LifecycleEndorsement": _implicit("MAJORITY Endorsement"),
            "Endorsement": _implicit("MAJORITY Endorsement"),
        },
        "Capabilities": {"V2_5": True},
    }
    return {
        "Organizations": [*orderer_orgs, *peer_orgs],
        "Profiles": {
            PROFILE: {
                "Policies": {
                    "Readers": _implicit("ANY Readers"),
                    "Writers": _implicit("ANY Writers"),
                    "Admins": _implicit("MAJORITY Admins"),
                },
                "Capabilities": {"V3_0": True},
                "Orderer": orderer,
                "Application": application,
            }
        },
    }


def _bft(layout: Layout, orderer: dict[str, Any]) -> dict[str, Any]:
    """SmartBFT instead of etcdraft: every orderer a consenter with its identity (3f+1 tolerate
    f faulty ones, even malicious; peers check each block's quorum of consenter signatures).
    The timeouts are shorter than Fabric's sample so that a silent leader is replaced in seconds
    rather than a minute."""
    bft = {key: value for key, value in orderer.items() if key != "EtcdRaft"}
    bft["OrdererType"] = "BFT"
    bft["ConsenterMapping"] = [
        {
            "ID": orderer.index + 1,
            "Host": orderer.host,
            "Port": orderer.port,
            "MSPID": orderer.msp_id,
            "ClientTLSCert": str(layout.node_dir(orderer.msp_id, orderer.name) / "tls" / "server.crt"),
            "ServerTLSCert": str(layout.node_dir(orderer.msp_id, orderer.name) / "tls" / "server.crt"),
            "Identity": str(layout.node_dir(orderer.msp_id, orderer.name) / "msp" / "signcerts" / "cert.pem"),
        }
        for orderer in layout.orderers
    ]
    bft["SmartBFT"] = {
        "RequestBatchMaxCount": 500,
        "RequestBatchMaxBytes": 10485760,
        "RequestBatchMaxInterval": layout.batch_timeout,
        "IncomingMessageBufferSize": 200,
        "RequestPoolSize": 100000,
        "RequestForwardTimeout": "2s",
        "RequestComplainTimeout": "4s",
        "RequestAutoRemoveTimeout": "3m0s",
        "ViewChangeResendInterval": "2s",
        "ViewChangeTimeout": "8s",
        "LeaderHeartbeatTimeout": "6s",
        "LeaderHeartbeatCount": 10,
        "CollectTimeout": "1s",
    }
    return bft


def ensure_genesis_block(layout: Layout, binaries: Binaries) -> bool:
    """Write configtx.yaml and make the channel's genesis block once. True when it made it."""
    if layout.genesis_block.exists():
        return False
    config_dir = layout.root / "channel"
    write_file(config_dir / "configtx.yaml", yaml.safe_dump(configtx(layout), sort_keys=False).encode())
    result = subprocess.run(
        [
            binaries.tool("configtxgen"),
            "-configPath",
            str(config_dir),
            "-profile",
            PROFILE,
            "-channelID",
            layout.channel,
            "-outputBlock",
            str(layout.genesis_block),
        ],
        capture_output=True,
        text=True,
        env={"FABRIC_LOGGING_SPEC": "warning", "PATH": "/usr/bin:/bin"},
    )
    if result.returncode != 0 or not layout.genesis_block.exists():
        raise NetworkError(f"configtxgen failed: {result.stderr.strip()[-2000:]}")
    return True
