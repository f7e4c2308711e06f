"""Fabric's signature rules: ECDSA P-256 over SHA-256, DER encoded, s at most n/2."""

from __future__ import annotations

import functools
import hashlib

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from .errors import BadSignatureError

# Order of the P-256 group.
P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
P256_HALF_N = P256_N >> 1


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def to_low_s(signature_der: bytes) -> bytes:
    """The same signature with s replaced by n - s when s is in the upper half."""
    r, s = decode_dss_signature(signature_der)
    if s > P256_HALF_N:
        s = P256_N - s
    return encode_dss_signature(r, s)


def is_low_s(signature_der: bytes) -> bool:
    _, s = decode_dss_signature(signature_der)
    return s <= P256_HALF_N


@functools.lru_cache(maxsize=4096)
def load_certificate(cert_pem: bytes) -> x509.Certificate:
    """Parse a PEM certificate once; identities repeat across many transactions."""
    return x509.load_pem_x509_certificate(cert_pem)


def verify_signature(cert_pem: bytes, data: bytes, signature_der: bytes) -> None:
    """Check a Fabric signature over ``data`` by the certificate's key.

    Raises BadSignatureError for a malformed, high-S or wrong signature.
    """
    try:
        if not is_low_s(signature_der):
            raise BadSignatureError("signature has a high S value")
        public_key = load_certificate(cert_pem).public_key()
        if not isinstance(public_key, ec.EllipticCurvePublicKey) or public_key.curve.name != "secp256r1":
            raise BadSignatureError("signer key is not ECDSA P-256")
        public_key.verify(signature_der, data, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError) as error:
        raise BadSignatureError("signature does not verify") from error
