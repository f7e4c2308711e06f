"""One organisation's own folder, and the public file it hands to the others (#19).

``org init`` makes ``<dir>`` (0700) holding the organisation's CA (``ca/ca.json``, certificate and
private key, 0600: a software key for now, see docs/decisions.md), its MSP (``msp/``: CA and TLS CA
certificates, NodeOUs), one signing identity and TLS pair per node (``nodes/<name>/``) and its
admin (``admin/``). ``org export`` writes the only thing that leaves the folder: a JSON file with
the MSP id, the CA and TLS CA certificates, the NodeOUs config and the nodes' endpoints, no key.
``org import`` checks another organisation's file (a self-signed CA certificate, no private key,
another MSP id) and lays its public MSP out under ``<dir>/imported/<msp>/msp``, ready for a
channel configuration.

``make network-up`` makes the quick start's organisations (CoreMSP, BankMSP, OrdererMSP) in the
same format under ``<data dir>-orgs`` (crypto.py), so the operator's data directory holds no
other organisation's key.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec

from goldticket.signing import OrgCA
from goldticket.signing.ca_token import ca_token_module
from goldticket.signing.organisations import (
    NODE_OUS_CONFIG,
    OrganisationFolder,
    write_file,
)

from .crypto import _write_identity
from .errors import NetworkError

FORMAT = "goldticket-org/1"
MSP_ID = re.compile(r"^[A-Z][A-Za-z0-9]{1,30}MSP$")
NODE_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{0,62}$")
ROLES = ("peer", "orderer")


@dataclass(frozen=True)
class Node:
    name: str
    role: str  # peer | orderer
    endpoint: str  # host:port

    @classmethod
    def parse(cls, text: str) -> Node:
        """``role:name:host:port``, for example ``peer:peer0.bank2:127.0.0.1:31160``."""
        parts = text.split(":")
        if len(parts) != 4 or parts[0] not in ROLES or not NODE_NAME.match(parts[1]):
            raise NetworkError(f"a node is role:name:host:port with role peer or orderer, not {text!r}")
        if not parts[3].isdigit() or not 1 <= int(parts[3]) <= 65535:
            raise NetworkError(f"{text!r}: the port must be a number between 1 and 65535")
        return cls(parts[1], parts[0], f"{parts[2]}:{parts[3]}")


def _check_msp_id(msp_id: str) -> None:
    if not MSP_ID.match(msp_id):
        raise NetworkError(f"an MSP id is letters and digits ending in MSP (BankTwoMSP), not {msp_id!r}")


def _metadata(folder: Path) -> dict[str, object]:
    path = folder / "org.json"
    if not path.exists():
        raise NetworkError(f"{folder} is not an organisation folder (no org.json); run `org init`")
    data: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))
    return data


def metadata(folder: Path) -> dict[str, object]:
    """The folder's public description (``org.json``: MSP id, name, nodes); NetworkError when
    ``folder`` is not an organisation folder."""
    return _metadata(folder)


def load_ca(folder: Path) -> OrgCA:
    return OrganisationFolder(folder, ca_token_module(os.environ.get("GOLDTICKET_PKCS11_MODULE"))).ca()


def init(folder: Path, msp_id: str, name: str, nodes: list[Node]) -> None:
    """Make the organisation's folder: its CA, MSP, nodes and admin. Refuses an existing one."""
    _check_msp_id(msp_id)
    if (folder / "org.json").exists() or (folder / "ca").exists():
        raise NetworkError(f"{folder} already holds an organisation; it is never overwritten")
    if len({node.name for node in nodes}) != len(nodes):
        raise NetworkError("two nodes have the same name")
    ca = OrganisationFolder(folder, ca_token_module(os.environ.get("GOLDTICKET_PKCS11_MODULE"))).create(
        msp_id, name
    )
    for node in nodes:
        # its TLS certificate names the host its endpoint gives (a namespace's address, a DNS name)
        hosts = tuple(dict.fromkeys(("localhost", "127.0.0.1", node.endpoint.rsplit(":", 1)[0])))
        _write_identity(folder / "nodes" / node.name, ca, node.name, node.role, hosts)
    _write_identity(folder / "admin", ca, f"admin.{msp_id.lower()}", "admin")
    metadata = {
        "msp_id": msp_id,
        "name": name,
        "nodes": [{"name": n.name, "role": n.role, "endpoint": n.endpoint} for n in nodes],
    }
    write_file(folder / "org.json", json.dumps(metadata, indent=1).encode())


def export(folder: Path) -> dict[str, object]:
    """The organisation's public MSP material: what another organisation imports."""
    metadata = _metadata(folder)
    ca_pem = (folder / "msp" / "cacerts" / "ca.pem").read_text(encoding="ascii")
    tls_ca_pem = (folder / "msp" / "tlscacerts" / "ca.pem").read_text(encoding="ascii")
    return {
        "format": FORMAT,
        "msp_id": metadata["msp_id"],
        "name": metadata["name"],
        "ca_pem": ca_pem,
        "tls_ca_pem": tls_ca_pem,
        "node_ous_config": (folder / "msp" / "config.yaml").read_text(encoding="utf-8"),
        "nodes": metadata["nodes"],
    }


def _check_ca(pem: str, msp_id: str) -> None:
    try:
        cert = x509.load_pem_x509_certificate(pem.encode("ascii"))
    except ValueError as error:
        raise NetworkError(f"{msp_id}: the CA certificate is not a PEM certificate") from error
    try:
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound as error:
        raise NetworkError(f"{msp_id}: the CA certificate has no basic constraints") from error
    if not constraints.ca or cert.issuer != cert.subject:
        raise NetworkError(f"{msp_id}: the CA certificate is not a self-signed CA")
    if not isinstance(cert.public_key(), ec.EllipticCurvePublicKey):
        raise NetworkError(f"{msp_id}: the CA key is not an ECDSA key")
    try:
        cert.verify_directly_issued_by(cert)
    except (InvalidSignature, ValueError, TypeError) as error:
        raise NetworkError(f"{msp_id}: the CA certificate's signature does not verify") from error
    if cert.not_valid_after_utc <= dt.datetime.now(dt.UTC):
        raise NetworkError(f"{msp_id}: the CA certificate has expired")


def import_public(folder: Path, data: dict[str, object], own: str | None = None) -> str:
    """Lay another organisation's public MSP out under ``folder/imported/<msp>``; its MSP id.
    ``own``: the importing organisation's MSP id where ``folder`` is not an organisation folder
    (the network's own place for imported organisations)."""
    own = own or str(_metadata(folder)["msp_id"])
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise NetworkError(f"not an organisation's public file (format {FORMAT})")
    msp_id = data.get("msp_id")
    if not isinstance(msp_id, str):
        raise NetworkError("the file names no MSP id")
    _check_msp_id(msp_id)
    if msp_id == own:
        raise NetworkError(f"{msp_id} is this folder's own organisation")
    if "PRIVATE KEY" in json.dumps(data):
        raise NetworkError(
            f"{msp_id}'s file holds a private key: refused (only public material is exchanged)"
        )
    for field in ("ca_pem", "tls_ca_pem", "node_ous_config"):
        if not isinstance(data.get(field), str):
            raise NetworkError(f"{msp_id}: {field} is missing")
    _check_ca(str(data["ca_pem"]), msp_id)
    _check_ca(str(data["tls_ca_pem"]), msp_id)
    if data["node_ous_config"] != NODE_OUS_CONFIG:
        raise NetworkError(
            f"{msp_id}: NodeOUs config differs from the consortium's (client, peer, admin, orderer)"
        )
    nodes = data.get("nodes")
    if not isinstance(nodes, list):
        raise NetworkError(f"{msp_id}: nodes is missing")
    checked = []
    for node in nodes:
        if not isinstance(node, dict):
            raise NetworkError(f"{msp_id}: a node is an object")
        parsed = Node.parse(f"{node.get('role')}:{node.get('name')}:{node.get('endpoint')}")
        checked.append({"name": parsed.name, "role": parsed.role, "endpoint": parsed.endpoint})
    target = folder / "imported" / msp_id
    write_file(target / "msp" / "cacerts" / "ca.pem", str(data["ca_pem"]).encode())
    write_file(target / "msp" / "tlscacerts" / "ca.pem", str(data["tls_ca_pem"]).encode())
    write_file(target / "msp" / "config.yaml", NODE_OUS_CONFIG.encode())
    write_file(
        target / "org.json",
        json.dumps({"msp_id": msp_id, "name": data.get("name"), "nodes": checked}).encode(),
    )
    return msp_id
