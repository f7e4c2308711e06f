"""Organisation certificate authorities and member certificates.

A member certificate carries the member id, user and role as attributes in the same
extension Fabric CA uses: OID 1.2.3.4.5.6.7.8.1 holding JSON ``{"attrs": {...}}``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from .errors import CertificateError

ATTRIBUTES_OID = x509.ObjectIdentifier("1.2.3.4.5.6.7.8.1")
CA_YEARS = 10
MEMBER_YEARS = 2


@dataclasses.dataclass(frozen=True)
class OrgCA:
    """One organisation's CA: its MSP ID, certificate and signing key."""

    msp_id: str
    certificate_pem: bytes
    private_key_pem: bytes

    @classmethod
    def create(cls, msp_id: str, organisation: str, now: dt.datetime | None = None) -> OrgCA:
        key = ec.generate_private_key(ec.SECP256R1())
        now = now or dt.datetime.now(dt.UTC)
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
                x509.NameAttribute(NameOID.COMMON_NAME, f"ca.{msp_id.lower()}"),
            ]
        )
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=365 * CA_YEARS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        return cls(
            msp_id,
            certificate.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ),
        )

    def issue(
        self,
        public_key: ec.EllipticCurvePublicKey,
        *,
        common_name: str,
        attributes: dict[str, str],
        now: dt.datetime | None = None,
    ) -> bytes:
        """A PEM member certificate for ``public_key`` carrying ``attributes``."""
        if not isinstance(public_key, ec.EllipticCurvePublicKey) or public_key.curve.name != "secp256r1":
            raise CertificateError("member keys must be ECDSA P-256")
        ca_key = serialization.load_pem_private_key(self.private_key_pem, password=None)
        ca_cert = x509.load_pem_x509_certificate(self.certificate_pem)
        now = now or dt.datetime.now(dt.UTC)
        attrs = json.dumps({"attrs": attributes}, sort_keys=True, separators=(",", ":")).encode()
        certificate = (
            x509.CertificateBuilder()
            .subject_name(
                x509.Name(
                    [
                        x509.NameAttribute(NameOID.ORGANIZATION_NAME, self.msp_id),
                        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                    ]
                )
            )
            .issuer_name(ca_cert.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=365 * MEMBER_YEARS))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.UnrecognizedExtension(ATTRIBUTES_OID, attrs), critical=False)
            .sign(ca_key, hashes.SHA256())  # type: ignore[arg-type]
        )
        return certificate.public_bytes(serialization.Encoding.PEM)


def new_member_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())
