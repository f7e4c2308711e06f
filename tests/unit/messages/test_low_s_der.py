"""Issue #22, point 5: low S is checked and made on the DER bytes in place; the answers are the
library's (decode, compare, encode) for real signatures of both halves and for malformed DER."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from goldticket.messages import BadSignatureError, is_low_s, to_low_s, verify_signature
from goldticket.messages.crypto import ECDSA_SHA256, P256_HALF_N, P256_N, low_s_der


def _library_low_s(signature: bytes) -> bytes:
    r, s = decode_dss_signature(signature)
    return encode_dss_signature(r, P256_N - s if s > P256_HALF_N else s)


def test_real_signatures_of_both_halves_match_the_library():
    key = ec.generate_private_key(ec.SECP256R1())
    halves = set()
    for index in range(400):
        message = f"message {index}".encode()
        raw = key.sign(message, ECDSA_SHA256)
        r, s = decode_dss_signature(raw)
        flipped = encode_dss_signature(r, P256_N - s)  # the same signature in the other half
        for signature in (raw, flipped):
            low = to_low_s(signature)
            assert low == _library_low_s(signature)
            assert is_low_s(signature) == (decode_dss_signature(signature)[1] <= P256_HALF_N)
            assert is_low_s(low)
            halves.add(is_low_s(signature))
            key.public_key().verify(low, message, ECDSA_SHA256)
    assert halves == {True, False}


def test_small_integers_and_leading_zero_bytes_match_the_library():
    for r, s in [
        (1, 1),
        (0x80, 0x7F),
        (0xFF, P256_N - 1),
        (2**255, 2**255 + 5),
        (P256_HALF_N, P256_HALF_N + 1),
    ]:
        signature = encode_dss_signature(r, s)
        assert to_low_s(signature) == _library_low_s(signature)
        assert is_low_s(signature) == (s <= P256_HALF_N)


@pytest.mark.parametrize(
    "signature",
    [
        b"",
        b"\x30\x06\x02\x01\x01\x02\x01",  # truncated
        b"\x30\x06\x02\x01\x01\x02\x01\x01\x00",  # a byte after the sequence
        b"\x31\x06\x02\x01\x01\x02\x01\x01",  # not a sequence
        b"\x30\x06\x02\x01\x81\x02\x01\x01",  # negative r
        b"\x30\x07\x02\x02\x00\x01\x02\x01\x01",  # r not minimal
        b"\x30\x06\x04\x01\x01\x02\x01\x01",  # r not an INTEGER
    ],
)
def test_malformed_der_is_refused_as_the_library_refuses_it(signature):
    with pytest.raises(ValueError):
        decode_dss_signature(signature)
    with pytest.raises(ValueError):
        is_low_s(signature)
    with pytest.raises(ValueError):
        to_low_s(signature)
    key = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(BadSignatureError):
        verify_signature(_certificate(key), b"data", signature)


def _certificate(key) -> bytes:
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization

    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "t")])
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
        .public_bytes(serialization.Encoding.PEM)
    )


def test_a_cards_raw_r_and_s_are_written_as_the_library_writes_them():
    """low_s_der (a PKCS#11 card's r || s, issue #22) against encode_dss_signature + low S."""
    key = ec.generate_private_key(ec.SECP256R1())
    pairs = [(1, 1), (0x80, 0x7F), (0xFF, P256_N - 1), (2**255, 2**255 + 5), (P256_HALF_N, P256_HALF_N + 1)]
    for index in range(200):
        r, s = decode_dss_signature(key.sign(f"m {index}".encode(), ECDSA_SHA256))
        pairs += [(r, s), (r, P256_N - s)]
    for r, s in pairs:
        assert low_s_der(r, s) == _library_low_s(encode_dss_signature(r, s))
    for r, s in [(0, 1), (1, 0), (P256_N, 1), (1, P256_N), (-1, 1)]:
        with pytest.raises(ValueError):
            low_s_der(r, s)
