"""The Fabric message codec: proposals, signatures (low S), blocks and identities."""

from __future__ import annotations

import datetime as dt
import hashlib
import random

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from fabric_protos.common import common_pb2
from fabric_protos.peer import proposal_pb2

from goldticket.messages import (
    BadSignatureError,
    Identity,
    MessageError,
    build_proposal,
    compute_tx_id,
    decode_block,
    decode_proposal,
    header_hash,
    is_low_s,
    new_block,
    to_low_s,
    verify_signature,
)
from goldticket.messages.crypto import P256_HALF_N, P256_N
from goldticket.signing import OrgCA, SoftwareSigner, new_member_key

pytestmark = pytest.mark.unit

CHINA = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture(scope="module")
def ca() -> OrgCA:
    return OrgCA.create("CoreMSP", "Core Enterprises")


@pytest.fixture(scope="module")
def member(ca: OrgCA) -> tuple[ec.EllipticCurvePrivateKey, Identity]:
    key = new_member_key()
    cert = ca.issue(
        key.public_key(),
        common_name="core.clerk@core",
        attributes={"member": "core", "role": "clerk", "user": "core.clerk"},
    )
    return key, Identity(ca.msp_id, cert)


@pytest.fixture(scope="module")
def signer(member: tuple[ec.EllipticCurvePrivateKey, Identity]) -> SoftwareSigner:
    key, identity = member
    return SoftwareSigner(key, identity)


# ------------------------------------------------------------------ proposals
def _proposal(identity: Identity, **overrides: object):
    values: dict[str, object] = {
        "channel_id": "goldticket",
        "chaincode": "goldticket",
        "function": "IssueTicket",
        "args": ['{"payee_org_id": "tier1", "memo": "华东重工 金票"}', "第二个参数", ""],
        "creator": identity,
        "timestamp": dt.datetime(2026, 12, 1, 9, 30, 15, 123456, tzinfo=CHINA),
    }
    values.update(overrides)
    return build_proposal(**values)  # type: ignore[arg-type]


def test_proposal_round_trip(member: tuple[ec.EllipticCurvePrivateKey, Identity]) -> None:
    _, identity = member
    stamp = dt.datetime(2026, 12, 1, 9, 30, 15, 123456, tzinfo=CHINA)
    proposal = _proposal(identity, timestamp=stamp)
    decoded = decode_proposal(proposal.bytes)

    assert decoded.channel_id == "goldticket"
    assert decoded.chaincode == "goldticket"
    assert decoded.function == "IssueTicket"
    assert decoded.text_args == ('{"payee_org_id": "tier1", "memo": "华东重工 金票"}', "第二个参数", "")
    assert decoded.args[1] == "第二个参数".encode()
    assert decoded.creator == identity
    assert decoded.creator.msp_id == "CoreMSP"
    assert decoded.creator.certificate_pem == identity.certificate_pem
    assert decoded.creator_bytes == identity.serialize()
    assert len(decoded.nonce) == 24
    expected_tx_id = hashlib.sha256(decoded.nonce + identity.serialize()).hexdigest()
    assert decoded.tx_id == expected_tx_id == proposal.tx_id
    assert compute_tx_id(decoded.nonce, decoded.creator_bytes) == expected_tx_id
    assert decoded.timestamp == stamp
    assert decoded.timestamp.utcoffset() == dt.timedelta(0)
    assert proposal.digest == hashlib.sha256(proposal.bytes).digest()


def test_proposal_with_no_args_and_given_nonce(member: tuple[ec.EllipticCurvePrivateKey, Identity]) -> None:
    _, identity = member
    nonce = bytes(range(24))
    proposal = _proposal(identity, function="ListMembers", args=[], nonce=nonce)
    decoded = decode_proposal(proposal.bytes)
    assert decoded.function == "ListMembers"
    assert decoded.args == ()
    assert decoded.nonce == nonce
    assert decoded.tx_id == hashlib.sha256(nonce + identity.serialize()).hexdigest()


def test_nonces_differ_between_proposals(member: tuple[ec.EllipticCurvePrivateKey, Identity]) -> None:
    _, identity = member
    first = decode_proposal(_proposal(identity).bytes)
    second = decode_proposal(_proposal(identity).bytes)
    assert first.nonce != second.nonce
    assert first.tx_id != second.tx_id


def _rebuild(proposal_bytes: bytes, *, tx_id: str | None = None, nonce: bytes | None = None) -> bytes:
    """The same proposal with its channel header tx id or signature header nonce replaced."""
    proposal = proposal_pb2.Proposal.FromString(proposal_bytes)
    header = common_pb2.Header.FromString(proposal.header)
    channel_header = common_pb2.ChannelHeader.FromString(header.channel_header)
    signature_header = common_pb2.SignatureHeader.FromString(header.signature_header)
    if tx_id is not None:
        channel_header.tx_id = tx_id
    if nonce is not None:
        signature_header.nonce = nonce
    header = common_pb2.Header(
        channel_header=channel_header.SerializeToString(),
        signature_header=signature_header.SerializeToString(),
    )
    return proposal_pb2.Proposal(
        header=header.SerializeToString(), payload=proposal.payload
    ).SerializeToString()


def test_rebuilt_unaltered_proposal_still_decodes(
    member: tuple[ec.EllipticCurvePrivateKey, Identity],
) -> None:
    _, identity = member
    proposal = _proposal(identity)
    assert decode_proposal(_rebuild(proposal.bytes)).tx_id == proposal.tx_id


def test_proposal_with_altered_tx_id_is_refused(member: tuple[ec.EllipticCurvePrivateKey, Identity]) -> None:
    _, identity = member
    proposal = _proposal(identity)
    forged = hashlib.sha256(b"another transaction").hexdigest()
    with pytest.raises(MessageError, match="tx id"):
        decode_proposal(_rebuild(proposal.bytes, tx_id=forged))
    flipped = ("0" if proposal.tx_id[0] != "0" else "1") + proposal.tx_id[1:]
    with pytest.raises(MessageError):
        decode_proposal(_rebuild(proposal.bytes, tx_id=flipped))


def test_proposal_with_altered_nonce_is_refused(member: tuple[ec.EllipticCurvePrivateKey, Identity]) -> None:
    _, identity = member
    proposal = _proposal(identity)
    with pytest.raises(MessageError):
        decode_proposal(_rebuild(proposal.bytes, nonce=b"\x01" * 24))


def test_proposal_with_short_nonce_is_refused(member: tuple[ec.EllipticCurvePrivateKey, Identity]) -> None:
    _, identity = member
    proposal = _proposal(identity, nonce=b"\x07" * 8)
    with pytest.raises(MessageError):
        decode_proposal(proposal.bytes)


@pytest.mark.parametrize(
    "garbage",
    [
        b"",
        b"\x00",
        b"garbage",
        b"\xff\xff\xff\xff",
        b"\x0a\xff\xff\xff\xff\x0f",
        random.Random(7).randbytes(64),
        random.Random(8).randbytes(300),
    ],
)
def test_garbage_proposal_is_refused(garbage: bytes) -> None:
    with pytest.raises(MessageError):
        decode_proposal(garbage)


# ----------------------------------------------------------------- signatures
def test_low_s_signatures_verify_many(member: tuple[ec.EllipticCurvePrivateKey, Identity]) -> None:
    key, identity = member  # the raw key, so high-S signatures occur naturally
    cert = identity.certificate_pem
    high_seen = 0
    for i in range(200):
        message = f"message {i} 金票".encode()
        raw = key.sign(message, ec.ECDSA(hashes.SHA256()))
        _, raw_s = decode_dss_signature(raw)
        high_seen += raw_s > P256_HALF_N
        low = to_low_s(raw)
        assert is_low_s(low)
        r, s = decode_dss_signature(low)
        assert s <= P256_HALF_N
        assert r == decode_dss_signature(raw)[0]
        verify_signature(cert, message, low)
        assert to_low_s(low) == low
    assert high_seen > 0  # about half of raw ECDSA signatures have a high S


def test_high_s_signature_is_refused_though_ecdsa_accepts_it(
    member: tuple[ec.EllipticCurvePrivateKey, Identity],
) -> None:
    key, identity = member
    cert = identity.certificate_pem
    message = b"high s"
    r, s = decode_dss_signature(to_low_s(key.sign(message, ec.ECDSA(hashes.SHA256()))))
    high = encode_dss_signature(r, P256_N - s)
    assert not is_low_s(high)
    key.public_key().verify(high, message, ec.ECDSA(hashes.SHA256()))  # raw ECDSA accepts it
    with pytest.raises(BadSignatureError):
        verify_signature(cert, message, high)
    assert to_low_s(high) == encode_dss_signature(r, s)


def test_signature_over_other_bytes_is_refused(signer: SoftwareSigner) -> None:
    cert = signer.identity.certificate_pem
    signature = signer.sign(b"the proposal")
    verify_signature(cert, b"the proposal", signature)
    with pytest.raises(BadSignatureError):
        verify_signature(cert, b"the proposal!", signature)
    with pytest.raises(BadSignatureError):
        verify_signature(cert, b"", signature)


def test_signature_by_another_key_is_refused(ca: OrgCA, signer: SoftwareSigner) -> None:
    other = new_member_key()
    other_cert = ca.issue(other.public_key(), common_name="x@core", attributes={"member": "core"})
    signature = signer.sign(b"data")
    with pytest.raises(BadSignatureError):
        verify_signature(other_cert, b"data", signature)


@pytest.mark.parametrize("bad", [b"", b"\x30\x00", b"not a der signature", b"\x30\x06\x02\x01\x01\x02\x01"])
def test_malformed_signature_is_refused(signer: SoftwareSigner, bad: bytes) -> None:
    with pytest.raises(BadSignatureError):
        verify_signature(signer.identity.certificate_pem, b"data", bad)


def test_signed_proposal_verifies(
    member: tuple[ec.EllipticCurvePrivateKey, Identity], signer: SoftwareSigner
) -> None:
    _, identity = member
    proposal = _proposal(identity)
    signature = signer.sign(proposal.bytes)
    decoded = decode_proposal(proposal.bytes)
    verify_signature(decoded.creator.certificate_pem, proposal.bytes, signature)


# --------------------------------------------------------------------- blocks
def _der(tag: int, body: bytes) -> bytes:
    assert len(body) < 0x80
    return bytes([tag, len(body)]) + body


@pytest.mark.parametrize(
    ("number", "integer_der"),
    [
        (0, bytes.fromhex("020100")),
        (1, bytes.fromhex("020101")),
        (127, bytes.fromhex("02017f")),
        (128, bytes.fromhex("02020080")),
        (255, bytes.fromhex("020200ff")),
        (256, bytes.fromhex("02020100")),
        (65535, bytes.fromhex("020300ffff")),
        (65536, bytes.fromhex("0203010000")),
    ],
)
def test_header_hash_known_answer(number: int, integer_der: bytes) -> None:
    previous = bytes(range(32))
    data = hashlib.sha256(b"envelopes").digest()
    sequence_body = integer_der + bytes([0x04, 32]) + previous + bytes([0x04, 32]) + data
    assert len(sequence_body) < 0x80
    der = bytes([0x30, len(sequence_body)]) + sequence_body
    assert header_hash(number, previous, data) == hashlib.sha256(der).digest()


def test_header_hash_known_answer_empty_hashes() -> None:
    # The genesis-like case: block 0 with empty previous hash.
    der = _der(0x30, bytes.fromhex("020100") + _der(0x04, b"") + _der(0x04, b"\xaa"))
    assert der == bytes.fromhex("3008020100040004 01aa".replace(" ", ""))
    assert header_hash(0, b"", b"\xaa") == hashlib.sha256(der).digest()


def test_header_hash_long_form_length() -> None:
    # 200-byte previous hash: the OCTET STRING and the SEQUENCE need long-form lengths.
    previous = b"\x11" * 200
    data = b"\x22" * 32
    body = bytes.fromhex("020105") + bytes([0x04, 0x81, 200]) + previous + bytes([0x04, 32]) + data
    der = bytes([0x30, 0x81, len(body)]) + body
    assert header_hash(5, previous, data) == hashlib.sha256(der).digest()


def test_header_hash_changes_with_every_field() -> None:
    previous = hashlib.sha256(b"prev").digest()
    data = hashlib.sha256(b"data").digest()
    base = header_hash(7, previous, data)
    assert header_hash(7, previous, data) == base
    changed = {
        header_hash(8, previous, data),
        header_hash(7, hashlib.sha256(b"prev2").digest(), data),
        header_hash(7, previous, hashlib.sha256(b"data2").digest()),
        header_hash(7, data, previous),
    }
    assert base not in changed
    assert len(changed) == 4


def test_block_round_trip() -> None:
    envelopes = [b"envelope one", "交易二".encode(), b"\x00\x01\x02"]
    codes = [0, 11, 0]
    previous = hashlib.sha256(b"block 3").digest()
    block = new_block(4, previous, envelopes, codes)
    assert block.data_hash == hashlib.sha256(b"".join(envelopes)).digest()
    decoded = decode_block(block.encode())
    assert decoded == block
    assert decoded.number == 4
    assert decoded.previous_hash == previous
    assert decoded.envelopes == tuple(envelopes)
    assert decoded.validation_codes == (0, 11, 0)
    assert decoded.hash == header_hash(4, previous, block.data_hash)


def test_empty_block_round_trip() -> None:
    block = new_block(0, b"", [], [])
    assert decode_block(block.encode()) == block


def test_block_hash_changes_with_contents() -> None:
    previous = hashlib.sha256(b"p").digest()
    base = new_block(2, previous, [b"a", b"b"], [0, 0]).hash
    assert new_block(3, previous, [b"a", b"b"], [0, 0]).hash != base
    assert new_block(2, hashlib.sha256(b"q").digest(), [b"a", b"b"], [0, 0]).hash != base
    assert new_block(2, previous, [b"a", b"c"], [0, 0]).hash != base


def test_new_block_needs_one_code_per_envelope() -> None:
    with pytest.raises(MessageError):
        new_block(1, b"", [b"a", b"b"], [0])


def test_block_with_altered_data_is_refused() -> None:
    block = new_block(4, b"\x01" * 32, [b"envelope one", b"envelope two"], [0, 0])
    message = common_pb2.Block.FromString(block.encode())
    message.data.data[1] = b"envelope 2"
    with pytest.raises(MessageError, match="data hash"):
        decode_block(message.SerializeToString())
    message = common_pb2.Block.FromString(block.encode())
    message.data.data.append(b"smuggled")
    with pytest.raises(MessageError):
        decode_block(message.SerializeToString())


def test_garbage_block_is_refused() -> None:
    with pytest.raises(MessageError):
        decode_block(b"\xff\xff\xff\xff")


# ----------------------------------------------------------------- identities
def test_identity_round_trip(member: tuple[ec.EllipticCurvePrivateKey, Identity]) -> None:
    _, identity = member
    data = identity.serialize()
    assert Identity.deserialize(data) == identity
    assert Identity.deserialize(Identity("BankMSP", b"cert").serialize()) == Identity("BankMSP", b"cert")


@pytest.mark.parametrize("garbage", [b"", b"\xff\xff\xff", b"\x0a\x03abc", b"\x12\x03abc"])
def test_identity_garbage_is_refused(garbage: bytes) -> None:
    with pytest.raises(MessageError):
        Identity.deserialize(garbage)
