"""The connection profile ``make network-up`` writes: channel, chaincode, and each
organisation's gateway peer (address and TLS root certificate), in order of preference."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from ..errors import LedgerError


@dataclasses.dataclass(frozen=True)
class PeerEndpoint:
    name: str
    msp_id: str
    address: str
    tls_ca_pem: bytes


@dataclasses.dataclass(frozen=True)
class ConnectionProfile:
    channel: str
    chaincode: str
    peers: tuple[PeerEndpoint, ...]

    @classmethod
    def load(cls, path: Path) -> ConnectionProfile:
        """Read a profile. Raises LedgerError naming the file when it is missing or bad."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            peers = tuple(
                PeerEndpoint(p["name"], p["msp_id"], p["address"], p["tls_ca_pem"].encode())
                for p in data["peers"]
            )
            profile = cls(data["channel"], data["chaincode"], peers)
        except FileNotFoundError as error:
            raise LedgerError(
                f"no Fabric connection profile at {path}; run `make network-up` first"
            ) from error
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise LedgerError(f"{path} is not a GoldTicket connection profile: {error}") from error
        if not profile.peers:
            raise LedgerError(f"{path} names no peers")
        return profile

    def preferring(self, msp_id: str | None) -> ConnectionProfile:
        """The same profile with ``msp_id``'s peer first (an organisation uses its own gateway)."""
        if not msp_id:
            return self
        ordered = sorted(self.peers, key=lambda peer: peer.msp_id != msp_id)
        return dataclasses.replace(self, peers=tuple(ordered))

    def with_chaincode(self, chaincode: str) -> ConnectionProfile:
        return dataclasses.replace(self, chaincode=chaincode)


@dataclasses.dataclass(frozen=True)
class OperationsEndpoint:
    """A node's operations service (Fabric's /healthz and /metrics)."""

    name: str
    kind: str  # "peer" | "orderer"
    url: str  # e.g. http://127.0.0.1:7122


def operations_endpoints(path: Path) -> tuple[OperationsEndpoint, ...]:
    """Every peer and orderer of the profile that names its ``operations`` URL (``make
    network-up`` writes them). Raises LedgerError naming the file when it is missing or bad."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        found = [
            OperationsEndpoint(str(node["name"]), kind, str(node["operations"]).rstrip("/"))
            for kind, key in (("orderer", "orderers"), ("peer", "peers"))
            for node in data.get(key, [])
            if node.get("operations")
        ]
    except FileNotFoundError as error:
        raise LedgerError(f"no Fabric connection profile at {path}; run `make network-up` first") from error
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise LedgerError(f"{path} is not a GoldTicket connection profile: {error}") from error
    for endpoint in found:
        if not endpoint.url.startswith(("http://", "https://")):
            raise LedgerError(f"{path}: {endpoint.name}'s operations URL must be http:// or https://")
    return tuple(found)
