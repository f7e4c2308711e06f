"""Organisation CAs, member certificates and the software signer."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from cryptography.x509.oid import NameOID

from goldticket.messages import Identity, is_low_s, verify_signature
from goldticket.signing import (
    ATTRIBUTES_OID,
    CertificateError,
    OrgCA,
    Signer,
    SigningError,
    SoftwareSigner,
    new_member_key,
)

pytestmark = pytest.mark.unit

ATTRS = {"member": "tier1", "role": "clerk", "user": "tier1.clerk"}


@pytest.fixture(scope="module")
def ca() -> OrgCA:
    return OrgCA.create("OperatorMSP", "GoldTicket Operator")


@pytest.fixture(scope="module")
def member_key() -> ec.EllipticCurvePrivateKey:
    return new_member_key()


@pytest.fixture(scope="module")
def member_cert(ca: OrgCA, member_key: ec.EllipticCurvePrivateKey) -> bytes:
    return ca.issue(member_key.public_key(), common_name="tier1.clerk@tier1", attributes=ATTRS)


@pytest.fixture(scope="module")
def signer(ca: OrgCA, member_key: ec.EllipticCurvePrivateKey, member_cert: bytes) -> SoftwareSigner:
    return SoftwareSigner(member_key, Identity(ca.msp_id, member_cert))


def test_ca_certificate_is_a_ca(ca: OrgCA) -> None:
    cert = x509.load_pem_x509_certificate(ca.certificate_pem)
    constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.value.ca is True
    assert constraints.critical
    assert cert.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign
    assert cert.subject == cert.issuer
    cert.verify_directly_issued_by(cert)  # self-signed
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "GoldTicket Operator"
    public_key = cert.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    assert public_key.curve.name == "secp256r1"
    assert ca.msp_id == "OperatorMSP"


def test_ca_private_key_matches_certificate(ca: OrgCA) -> None:
    key = serialization.load_pem_private_key(ca.private_key_pem, password=None)
    cert = x509.load_pem_x509_certificate(ca.certificate_pem)
    assert key.public_key() == cert.public_key()


def test_ca_validity_follows_now() -> None:
    now = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)
    cert = x509.load_pem_x509_certificate(OrgCA.create("BankMSP", "Banks", now=now).certificate_pem)
    assert cert.not_valid_before_utc <= now < cert.not_valid_after_utc
    assert cert.not_valid_after_utc - now >= dt.timedelta(days=365 * 9)


def test_issued_certificate_verifies_against_its_ca(ca: OrgCA, member_cert: bytes) -> None:
    ca_cert = x509.load_pem_x509_certificate(ca.certificate_pem)
    cert = x509.load_pem_x509_certificate(member_cert)
    cert.verify_directly_issued_by(ca_cert)
    assert cert.issuer == ca_cert.subject
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "tier1.clerk@tier1"
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "OperatorMSP"


def test_issued_certificate_carries_the_attributes(member_cert: bytes) -> None:
    cert = x509.load_pem_x509_certificate(member_cert)
    assert ATTRIBUTES_OID.dotted_string == "1.2.3.4.5.6.7.8.1"
    extension = cert.extensions.get_extension_for_oid(x509.ObjectIdentifier("1.2.3.4.5.6.7.8.1"))
    assert not extension.critical
    assert json.loads(extension.value.value) == {"attrs": ATTRS}


def test_attributes_with_chinese_text_round_trip(ca: OrgCA) -> None:
    attrs = {"member": "hdzg", "name": "华东重工", "role": "admin", "user": "hdzg.admin"}
    cert_pem = ca.issue(new_member_key().public_key(), common_name="hdzg.admin@hdzg", attributes=attrs)
    cert = x509.load_pem_x509_certificate(cert_pem)
    value = cert.extensions.get_extension_for_oid(ATTRIBUTES_OID).value.value
    assert json.loads(value) == {"attrs": attrs}


def test_certificate_does_not_verify_against_another_ca(ca: OrgCA, member_cert: bytes) -> None:
    cert = x509.load_pem_x509_certificate(member_cert)
    for other in (OrgCA.create("BankMSP", "Banks"), OrgCA.create(ca.msp_id, "GoldTicket Operator")):
        with pytest.raises((ValueError, InvalidSignature)):
            cert.verify_directly_issued_by(x509.load_pem_x509_certificate(other.certificate_pem))


@pytest.mark.parametrize(
    "make_key",
    [
        lambda: ec.generate_private_key(ec.SECP384R1()).public_key(),
        lambda: ec.generate_private_key(ec.SECP256K1()).public_key(),
        lambda: ed25519.Ed25519PrivateKey.generate().public_key(),
    ],
    ids=["secp384r1", "secp256k1", "ed25519"],
)
def test_issue_refuses_keys_other_than_p256(ca: OrgCA, make_key) -> None:
    with pytest.raises(CertificateError):
        ca.issue(make_key(), common_name="x@y", attributes={"member": "y"})
    assert issubclass(CertificateError, SigningError)


def test_software_signer_signatures_are_der_low_s_and_verify(signer: SoftwareSigner) -> None:
    assert isinstance(signer, Signer)
    cert = signer.identity.certificate_pem
    for i in range(60):
        message = f"envelope payload {i} 金票".encode()
        signature = signer.sign(message)
        r, s = decode_dss_signature(signature)
        assert encode_dss_signature(r, s) == signature  # canonical DER
        assert signature[0] == 0x30
        assert is_low_s(signature)
        verify_signature(cert, message, signature)


def test_software_signer_identity(
    ca: OrgCA, signer: SoftwareSigner, member_cert: bytes, member_key: ec.EllipticCurvePrivateKey
) -> None:
    assert signer.identity == Identity(ca.msp_id, member_cert)
    cert = x509.load_pem_x509_certificate(signer.identity.certificate_pem)
    assert cert.public_key() == member_key.public_key()


def test_software_signer_refuses_other_curves(ca: OrgCA, member_cert: bytes) -> None:
    with pytest.raises(ValueError):
        SoftwareSigner(ec.generate_private_key(ec.SECP384R1()), Identity(ca.msp_id, member_cert))


def test_software_signer_repr_hides_the_key(
    signer: SoftwareSigner, member_key: ec.EllipticCurvePrivateKey
) -> None:
    key_pem = member_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    key_body = "".join(key_pem.splitlines()[1:-1])
    for text in (repr(signer), str(signer), f"{signer!r}", repr([signer])):
        assert key_pem not in text
        assert key_body[:40] not in text
        assert "PRIVATE" not in text.upper()
        assert str(member_key.private_numbers().private_value) not in text
