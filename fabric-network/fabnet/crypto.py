"""MSP folders and TLS material for every node, made by GoldTicket's organisation CAs.

The peer organisations' CAs are the data directory's (``goldticket init`` makes the same ones
when they are missing), so the embedded ledger and this network trust the same member
certificates; the orderer organisation's CA lives with the network. Every MSP has NodeOUs on
(client, peer, admin, orderer); the same CA signs TLS certificates. Private keys are written
0600 in 0700 folders whatever the umask.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from goldticket.settings import ORGANISATIONS
from goldticket.signing import OrgCA
from goldticket.signing.keystore import KeyStore

from .errors import NetworkError
from .layout import ORDERER_MSP, Layout

NODE_OUS_CONFIG = """NodeOUs:
  Enable: true
  ClientOUIdentifier:
    Certificate: cacerts/ca.pem
    OrganizationalUnitIdentifier: client
  PeerOUIdentifier:
    Certificate: cacerts/ca.pem
    OrganizationalUnitIdentifier: peer
  AdminOUIdentifier:
    Certificate: cacerts/ca.pem
    OrganizationalUnitIdentifier: admin
  OrdererOUIdentifier:
    Certificate: cacerts/ca.pem
    OrganizationalUnitIdentifier: orderer
"""


def make_folders(folder: Path) -> None:
    """Make folder and its missing parents 0700 whatever the umask (``mkdir(parents=True)``
    gives the parents the umask's mode, 0755)."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for made in reversed(missing):
        made.mkdir(mode=0o700, exist_ok=True)
        made.chmod(0o700)


def write_file(path: Path, data: bytes, *, private: bool = False) -> None:
    make_folders(path.parent)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def organisation_cas(layout: Layout) -> dict[str, OrgCA]:
    """The three peer organisations' CAs from the data directory (made when missing, as
    ``goldticket init`` would) and the orderer organisation's CA from the network folder."""
    keystore = KeyStore(layout.data_dir)
    cas = keystore.cas()
    for msp_id, organisation in ORGANISATIONS.items():
        if msp_id not in cas:
            cas[msp_id] = OrgCA.create(msp_id, organisation)
            keystore.save_ca(cas[msp_id])
    orderer_ca = layout.org_dir(ORDERER_MSP) / "ca.json"
    if orderer_ca.exists():
        data = json.loads(orderer_ca.read_text())
        cas[ORDERER_MSP] = OrgCA(
            ORDERER_MSP, data["certificate_pem"].encode(), data["private_key_pem"].encode()
        )
    else:
        cas[ORDERER_MSP] = OrgCA.create(ORDERER_MSP, "GoldTicket Ordering Service")
        record = {
            "certificate_pem": cas[ORDERER_MSP].certificate_pem.decode(),
            "private_key_pem": cas[ORDERER_MSP].private_key_pem.decode(),
        }
        write_file(orderer_ca, json.dumps(record).encode(), private=True)
    return {msp_id: cas[msp_id] for msp_id in layout.msp_ids}


def _write_msp(msp_dir: Path, ca: OrgCA) -> None:
    write_file(msp_dir / "cacerts" / "ca.pem", ca.certificate_pem)
    write_file(msp_dir / "tlscacerts" / "ca.pem", ca.certificate_pem)
    write_file(msp_dir / "config.yaml", NODE_OUS_CONFIG.encode())


def _write_identity(folder: Path, ca: OrgCA, common_name: str, node_ou: str) -> None:
    """``folder/msp`` (signing identity) and ``folder/tls`` (TLS key pair) for one node or admin."""
    key = ec.generate_private_key(ec.SECP256R1())
    _write_msp(folder / "msp", ca)
    write_file(folder / "msp" / "keystore" / "key.pem", _key_pem(key), private=True)
    write_file(
        folder / "msp" / "signcerts" / "cert.pem",
        ca.issue_node(key.public_key(), common_name=common_name, node_ou=node_ou),
    )
    tls_key = ec.generate_private_key(ec.SECP256R1())
    write_file(folder / "tls" / "server.key", _key_pem(tls_key), private=True)
    write_file(folder / "tls" / "server.crt", ca.issue_tls(tls_key.public_key(), common_name=common_name))
    write_file(folder / "tls" / "ca.crt", ca.certificate_pem)


def ensure_crypto(layout: Layout) -> bool:
    """Make every MSP folder and key pair that is missing. Returns True when it made any."""
    cas = organisation_cas(layout)
    made = False
    nodes: list[tuple[str, str, str]] = [(ORDERER_MSP, o.name, "orderer") for o in layout.orderers]
    nodes += [(p.msp_id, p.name, "peer") for p in layout.peers]
    nodes += [(msp_id, "admin", "admin") for msp_id in layout.msp_ids]
    for msp_id in layout.msp_ids:
        ca = cas[msp_id]
        if layout.ca_pem(msp_id).exists() and layout.ca_pem(msp_id).read_bytes() != ca.certificate_pem:
            raise NetworkError(
                f"{layout.root} was made for other organisation CAs than {layout.data_dir}'s; "
                "run `make network-clean` to start this network afresh"
            )
        if not layout.ca_pem(msp_id).exists():
            _write_msp(layout.org_msp(msp_id), ca)
            made = True
    for msp_id, name, node_ou in nodes:
        folder = layout.node_dir(msp_id, name)
        if not (folder / "tls" / "server.crt").exists():
            common_name = f"{name}.{msp_id.lower()}" if name == "admin" else name
            _write_identity(folder, cas[msp_id], common_name, node_ou)
            made = True
    return made
