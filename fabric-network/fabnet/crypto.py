"""MSP folders and TLS material for every node, made by GoldTicket's organisation CAs.

The operator's CA is the data directory's (``goldticket init`` makes the same one when it is
missing); every other organisation's CA (core, bank, orderer) is in that organisation's own
folder (``<data dir>-orgs/<MSP>``, :mod:`goldticket.signing.organisations`), and so are its
nodes' and admin's keys. The embedded ledger and this network trust the same CA certificates.
Every MSP has NodeOUs on (client, peer, admin, orderer); the same CA signs TLS certificates.
Private keys are written 0600 in 0700 folders whatever the umask.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from goldticket.settings import ORGANISATIONS
from goldticket.signing import OrgCA
from goldticket.signing.ca_token import ca_token_module
from goldticket.signing.errors import CertificateError
from goldticket.signing.keystore import KeyStore
from goldticket.signing.organisations import consortium_cas, write_file, write_msp

from .errors import NetworkError
from .layout import OPERATOR_MSP, ORDERER_MSP, Layout


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def organisation_cas(layout: Layout) -> dict[str, OrgCA]:
    """The operator's CA from the data directory (made when missing, as ``goldticket init``
    would) and every other organisation's CA from its own folder (made when missing, as that
    organisation's ``org init`` would): the data directory never holds another's key, and
    trusts the peer organisations' CAs only (:func:`consortium_cas`)."""
    names = {
        **ORGANISATIONS,
        **{msp_id: f"GoldTicket Ordering Service ({msp_id})" for msp_id in layout.orderer_msp_ids},
        ORDERER_MSP: "GoldTicket Ordering Service",
    }
    folders = {msp_id: (names[msp_id], layout.organisations / msp_id) for msp_id in layout.msp_ids}
    try:
        cas = consortium_cas(
            KeyStore(layout.data_dir),
            OPERATOR_MSP,
            ORGANISATIONS[OPERATOR_MSP],
            folders,
            trusted=set(ORGANISATIONS),
            pkcs11_module=ca_token_module(os.environ.get("GOLDTICKET_PKCS11_MODULE")),
        )
    except CertificateError as error:
        raise NetworkError(str(error)) from None
    return {msp_id: cas[msp_id] for msp_id in layout.msp_ids}


def _write_identity(
    folder: Path,
    ca: OrgCA,
    common_name: str,
    node_ou: str,
    hosts: tuple[str, ...] = ("localhost", "127.0.0.1"),
) -> None:
    """``folder/msp`` (signing identity) and ``folder/tls`` (TLS key pair) for one node or admin."""
    key = ec.generate_private_key(ec.SECP256R1())
    write_msp(folder / "msp", ca)
    write_file(folder / "msp" / "keystore" / "key.pem", _key_pem(key), private=True)
    write_file(
        folder / "msp" / "signcerts" / "cert.pem",
        ca.issue_node(key.public_key(), common_name=common_name, node_ou=node_ou),
    )
    tls_key = ec.generate_private_key(ec.SECP256R1())
    write_file(folder / "tls" / "server.key", _key_pem(tls_key), private=True)
    write_file(
        folder / "tls" / "server.crt",
        ca.issue_tls(tls_key.public_key(), common_name=common_name, hosts=hosts),
    )
    write_file(folder / "tls" / "ca.crt", ca.certificate_pem)


def _covers(certificate: Path, hosts: tuple[str, ...]) -> bool:
    """Whether the TLS certificate exists and names every host (an older one lacks the
    namespace address: it is made again, under the same CA)."""
    if not certificate.exists():
        return False
    cert = x509.load_pem_x509_certificate(certificate.read_bytes())
    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    present = {str(ip) for ip in names.get_values_for_type(x509.IPAddress)}
    present |= set(names.get_values_for_type(x509.DNSName))
    return set(hosts) <= present


def ensure_crypto(layout: Layout) -> bool:
    """Make every MSP folder and key pair that is missing. Returns True when it made any."""
    cas = organisation_cas(layout)
    made = False
    nodes: list[tuple[str, str, str]] = [(o.msp_id, o.name, "orderer") for o in layout.orderers]
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
            write_msp(layout.org_msp(msp_id), ca)
            made = True
    for msp_id, name, node_ou in nodes:
        folder = layout.admin_dir(msp_id) if node_ou == "admin" else layout.node_dir(msp_id, name)
        hosts = layout.tls_hosts(msp_id)
        certificate = folder / "tls" / "server.crt"
        # never remade on 127.0.0.1: raft knows its consenters by these very certificates
        if not (_covers(certificate, hosts) if layout.namespaces else certificate.exists()):
            common_name = f"{name}.{msp_id.lower()}" if name == "admin" else name
            _write_identity(folder, cas[msp_id], common_name, node_ou, hosts)
            made = True
    return made
