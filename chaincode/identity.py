"""Who signed: the creator's MSP ID and the attributes in its X.509 certificate.

fabric-chaincode-python 2.5.4's ClientIdentity.get_attribute always returns None, so the
Fabric CA attribute extension (OID 1.2.3.4.5.6.7.8.1, JSON ``{"attrs": {...}}``) is read here.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from goldticket.domain import ForbiddenError

ATTRIBUTES_OID = x509.ObjectIdentifier("1.2.3.4.5.6.7.8.1")


@dataclasses.dataclass(frozen=True)
class Caller:
    msp_id: str
    key_id: str  # hex SHA-256 of the public key (SubjectPublicKeyInfo DER)
    member_id: str
    user: str
    role: str
    certificate_serial: str


def key_id_of(certificate: x509.Certificate) -> str:
    spki = certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(spki).hexdigest()


@functools.lru_cache(maxsize=4096)
def caller_from_certificate(msp_id: str, certificate_pem: bytes) -> Caller:
    """Parse the signer. Raises ForbiddenError when the certificate carries no member attributes."""
    try:
        certificate = x509.load_pem_x509_certificate(certificate_pem)
        extension = certificate.extensions.get_extension_for_oid(ATTRIBUTES_OID).value
        attrs = json.loads(extension.value)["attrs"]  # type: ignore[attr-defined]
        member_id, role = attrs["member"], attrs["role"]
    except (ValueError, KeyError, TypeError, x509.ExtensionNotFound) as error:
        raise ForbiddenError("the signer's certificate carries no member attributes") from error
    return Caller(
        msp_id=msp_id,
        key_id=key_id_of(certificate),
        member_id=str(member_id),
        user=str(attrs.get("user", "")),
        role=str(role),
        certificate_serial=format(certificate.serial_number, "x"),
    )
