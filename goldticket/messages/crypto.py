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


# ECDSA over SHA-256, the one signature algorithm of Fabric identities, built once.
ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())


def _der_parts(signature_der: bytes) -> tuple[bytes, int] | None:
    """(r's DER INTEGER, s) of a DER ECDSA-Sig-Value of P-256 size read in place: SEQUENCE of
    two minimally encoded positive INTEGERs, short lengths, nothing after. None for anything
    else (then the library decodes it, and refuses what is not DER)."""
    if len(signature_der) < 8 or signature_der[0] != 0x30 or signature_der[1] != len(signature_der) - 2:
        return None
    r_length = signature_der[3]
    if signature_der[2] != 0x02 or not 1 <= r_length <= 33:
        return None
    s_at = 4 + r_length
    if s_at + 2 > len(signature_der) or signature_der[s_at] != 0x02:
        return None
    s_length = signature_der[s_at + 1]
    if not 1 <= s_length <= 33 or s_at + 2 + s_length != len(signature_der):
        return None
    for start, length in ((4, r_length), (s_at + 2, s_length)):
        first = signature_der[start]
        if first & 0x80 or (first == 0 and (length == 1 or not signature_der[start + 1] & 0x80)):
            return None  # negative, or not minimal (zero itself is refused as a signature anyway)
    return signature_der[2:s_at], int.from_bytes(signature_der[s_at + 2 :], "big")


def _der_integer(value: int) -> bytes:
    body = value.to_bytes((value.bit_length() + 8) // 8, "big")  # a leading 0 when the top bit is set
    return bytes((0x02, len(body))) + body


def to_low_s(signature_der: bytes) -> bytes:
    """The same signature with s replaced by n - s when s is in the upper half; a low-S
    signature comes back as it is (no decode and re-encode)."""
    parts = _der_parts(signature_der)
    if parts is None:
        r, s = decode_dss_signature(signature_der)
        return encode_dss_signature(r, P256_N - s if s > P256_HALF_N else s)
    r_integer, s = parts
    if s <= P256_HALF_N:
        return signature_der
    body = r_integer + _der_integer(P256_N - s)
    return bytes((0x30, len(body))) + body


def low_s_der(r: int, s: int) -> bytes:
    """The DER ECDSA-Sig-Value of (r, s) with s made low (n - s when in the upper half), written
    directly: a card's raw r || s needs no encode and decode round trip (issue #22). Raises
    ValueError for values outside [1, n)."""
    if not (0 < r < P256_N and 0 < s < P256_N):
        raise ValueError("an ECDSA P-256 signature's r and s lie in [1, n)")
    body = _der_integer(r) + _der_integer(P256_N - s if s > P256_HALF_N else s)
    return bytes((0x30, len(body))) + body


def is_low_s(signature_der: bytes) -> bool:
    parts = _der_parts(signature_der)
    s = parts[1] if parts is not None else decode_dss_signature(signature_der)[1]
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
        _public_key(cert_pem).verify(signature_der, data, ECDSA_SHA256)
    except (InvalidSignature, ValueError) as error:
        raise BadSignatureError("signature does not verify") from error


@functools.lru_cache(maxsize=4096)
def _public_key(cert_pem: bytes) -> ec.EllipticCurvePublicKey:
    """The certificate's P-256 public key, built once per certificate."""
    public_key = load_certificate(cert_pem).public_key()
    if not isinstance(public_key, ec.EllipticCurvePublicKey) or public_key.curve.name != "secp256r1":
        raise BadSignatureError("signer key is not ECDSA P-256")
    return public_key
