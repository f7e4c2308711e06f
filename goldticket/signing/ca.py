"""Organisation certificate authorities and member certificates.

A member certificate carries the member id, user and role as attributes in the same
extension Fabric CA uses: OID 1.2.3.4.5.6.7.8.1 holding JSON ``{"attrs": {...}}``, and exactly
one organisational unit naming its Fabric node role (``client``, or ``admin`` for a member's
admin users): with NodeOUs on, a Fabric MSP accepts an identity only with exactly one OU that
resolves to client, peer, orderer or admin. The same CAs certify the Fabric nodes (peers,
orderers, the organisation's own admin) and their TLS keys, so a member's card certificate
works on both the embedded ledger and a Fabric network.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import ipaddress
import json
from typing import Protocol

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .errors import CertificateError

ATTRIBUTES_OID = x509.ObjectIdentifier("1.2.3.4.5.6.7.8.1")
CA_YEARS = 10
MEMBER_YEARS = 2
NODE_OUS = ("client", "admin", "peer", "orderer")


class CAKey(Protocol):
    """A CA's private key kept where it cannot be read (a PKCS#11 token): it signs digests."""

    def sign_digest(self, digest: bytes) -> bytes:
        """DER ECDSA P-256 over the SHA-256 ``digest``. Raises SigningError."""
        ...


@dataclasses.dataclass(frozen=True)
class OrgCA:
    """One organisation's CA: its MSP ID, certificate and signing key: ``private_key_pem``
    (a software key), or ``key`` (kept in the organisation's token; ``private_key_pem`` is then
    empty)."""

    msp_id: str
    certificate_pem: bytes
    private_key_pem: bytes
    key: CAKey | None = dataclasses.field(default=None, compare=False, repr=False)

    def in_token(self, key: CAKey) -> OrgCA:
        """This CA with its key in ``key`` (its software key forgotten)."""
        return OrgCA(self.msp_id, self.certificate_pem, b"", key)

    def private_value(self) -> int:
        """The software key's private scalar (to put it into a token). Raises CertificateError."""
        if not self.private_key_pem:
            raise CertificateError(f"{self.msp_id}'s CA key is in a token; it is never read out")
        key = serialization.load_pem_private_key(self.private_key_pem, password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise CertificateError(f"{self.msp_id}'s CA key is not an EC key")
        return key.private_numbers().private_value

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
        """A PEM member certificate for ``public_key`` carrying ``attributes``; its OU is
        ``admin`` when the attributes' role is admin, else ``client``."""
        _check_key(public_key)
        attrs = json.dumps({"attrs": attributes}, sort_keys=True, separators=(",", ":")).encode()
        node_ou = "admin" if attributes.get("role") == "admin" else "client"
        builder = self._builder(public_key, common_name, node_ou, now).add_extension(
            x509.UnrecognizedExtension(ATTRIBUTES_OID, attrs), critical=False
        )
        return self._sign(builder)

    def issue_node(
        self,
        public_key: ec.EllipticCurvePublicKey,
        *,
        common_name: str,
        node_ou: str,
        now: dt.datetime | None = None,
    ) -> bytes:
        """A PEM certificate for a Fabric node or organisation admin (``node_ou`` is one of
        client, admin, peer, orderer), without member attributes."""
        _check_key(public_key)
        if node_ou not in NODE_OUS:
            raise CertificateError(f"node OU must be one of {', '.join(NODE_OUS)}")
        return self._sign(self._builder(public_key, common_name, node_ou, now))

    def issue_tls(
        self,
        public_key: ec.EllipticCurvePublicKey,
        *,
        common_name: str,
        hosts: tuple[str, ...] = ("localhost", "127.0.0.1"),
        now: dt.datetime | None = None,
    ) -> bytes:
        """A PEM TLS certificate (server and client auth) for ``hosts`` (names or IP addresses)."""
        _check_key(public_key)
        names: list[x509.GeneralName] = []
        for host in (common_name, *hosts):
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                names.append(x509.DNSName(host))
        builder = (
            self._builder(public_key, common_name, None, now)
            .add_extension(x509.SubjectAlternativeName(list(dict.fromkeys(names))), critical=False)
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
                critical=False,
            )
        )
        return self._sign(builder)

    def issue_document_signer(
        self,
        public_key: ec.EllipticCurvePublicKey,
        *,
        common_name: str,
        now: dt.datetime | None = None,
    ) -> bytes:
        """A PEM certificate for the platform's document-signing key (PDF certificates and
        statements): digital signature and non-repudiation, no node OU, no member attributes."""
        _check_key(public_key)
        usage = x509.KeyUsage(
            digital_signature=True,
            content_commitment=True,
            key_encipherment=False,
            data_encipherment=False,
            key_agreement=False,
            key_cert_sign=False,
            crl_sign=False,
            encipher_only=False,
            decipher_only=False,
        )
        builder = self._builder(public_key, common_name, None, now).add_extension(usage, critical=True)
        return self._sign(builder)

    def _builder(
        self,
        public_key: ec.EllipticCurvePublicKey,
        common_name: str,
        node_ou: str | None,
        now: dt.datetime | None,
    ) -> x509.CertificateBuilder:
        ca_cert = x509.load_pem_x509_certificate(self.certificate_pem)
        now = now or dt.datetime.now(dt.UTC)
        subject = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, self.msp_id)]
        if node_ou is not None:
            subject.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, node_ou))
        subject.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
        return (
            x509.CertificateBuilder()
            .subject_name(x509.Name(subject))
            .issuer_name(ca_cert.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=365 * MEMBER_YEARS))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()),  # type: ignore[arg-type]
                critical=False,
            )
        )

    def _sign(self, builder: x509.CertificateBuilder) -> bytes:
        if self.private_key_pem:
            ca_key = serialization.load_pem_private_key(self.private_key_pem, password=None)
            certificate = builder.sign(ca_key, hashes.SHA256())  # type: ignore[arg-type]
            return certificate.public_bytes(serialization.Encoding.PEM)
        if self.key is None:
            raise CertificateError(f"{self.msp_id}'s CA has no key here")
        return sign_in_token(builder, self.key)


def sign_in_token(builder: x509.CertificateBuilder, key: CAKey) -> bytes:
    """The PEM certificate ``builder`` describes, signed (ecdsa-with-SHA256) by ``key``.

    The library signs only with keys it holds, so the to-be-signed part is made by signing once
    with a throwaway key (same algorithm: the TBS names ecdsa-with-SHA256 either way), and the
    certificate is assembled again around the token's signature over those exact bytes."""
    draft = builder.sign(ec.generate_private_key(ec.SECP256R1()), hashes.SHA256())
    tbs = draft.tbs_certificate_bytes
    signature = key.sign_digest(hashlib.sha256(tbs).digest())
    certificate = asn1_x509.Certificate(
        {
            "tbs_certificate": asn1_x509.TbsCertificate.load(tbs),
            "signature_algorithm": {"algorithm": "sha256_ecdsa"},
            "signature_value": signature,
        }
    )
    return x509.load_der_x509_certificate(certificate.dump()).public_bytes(serialization.Encoding.PEM)


def _check_key(public_key: object) -> None:
    if not isinstance(public_key, ec.EllipticCurvePublicKey) or public_key.curve.name != "secp256r1":
        raise CertificateError("member keys must be ECDSA P-256")


def new_member_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())
