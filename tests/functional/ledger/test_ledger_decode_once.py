"""Issue #22, point 4: on the in-process path each message is encoded once and not parsed
again: the peer takes the proposal its client built, and the transaction it endorsed, from
what it remembers by the SHA-256 of the exact bytes; that is what parsing the bytes gives, and
bytes with any byte changed are parsed and checked from scratch (and refused)."""

from __future__ import annotations

import json

import pytest
from fabric_protos.common import common_pb2
from ledger_support import bare_ledger, signed_proposal

from goldticket import messages as m
from goldticket.ledger import EndorseError, SubmitError
from goldticket.ledger.local.ranges import range_reads
from goldticket.messages import memo


@pytest.fixture
def bare(tmp_path):
    ledger, signer = bare_ledger(tmp_path)
    yield ledger, signer
    ledger.close()


def _parsed_afresh(monkeypatch, decode, data):
    with monkeypatch.context() as patch:
        patch.setattr(memo, "PROPOSALS", memo.Memo())
        patch.setattr(m.proposal, "PROPOSALS", memo.Memo())
        patch.setattr(memo, "TRANSACTIONS", memo.Memo())
        patch.setattr(m.transaction, "TRANSACTIONS", memo.Memo())
        return decode(data)


def test_what_the_peer_reuses_is_what_parsing_the_bytes_gives(bare, monkeypatch):
    ledger, signer = bare
    decoded, signed = signed_proposal(ledger, signer, "Ping", {"key": "k"})
    assert m.proposal.PROPOSALS.recall(signed.proposal_bytes) == decoded
    assert _parsed_afresh(monkeypatch, m.decode_proposal, signed.proposal_bytes) == decoded
    prepared = ledger.endorse(signed)
    known, ranges = ledger._endorsed[m.sha256(prepared.bytes)]
    assert _parsed_afresh(monkeypatch, m.decode_transaction, prepared.bytes) == known
    assert m.transaction.TRANSACTIONS.recall(prepared.bytes) is known  # the signing service's check
    assert range_reads(known.response_payload_bytes, ledger.chaincode) == ranges


def test_the_payload_header_is_the_proposals_header_verbatim(bare):
    ledger, signer = bare
    decoded, signed = signed_proposal(ledger, signer, "Ping", {"key": "k"})
    prepared = ledger.endorse(signed)
    payload = common_pb2.Payload.FromString(prepared.bytes)
    assert payload.header.SerializeToString() == decoded.header_bytes
    assert payload.SerializeToString() == prepared.bytes


def test_a_proposal_with_one_byte_changed_is_parsed_afresh_and_refused(bare):
    ledger, signer = bare
    _, signed = signed_proposal(ledger, signer, "Ping", {"key": "aaaa"})
    tampered = signed.proposal_bytes.replace(b"aaaa", b"aaab")
    assert tampered != signed.proposal_bytes and m.proposal.PROPOSALS.recall(tampered) is None
    with pytest.raises(EndorseError, match="access denied"):
        ledger.endorse(m.signed_proposal(tampered, signed.signature))
    height = ledger.height()
    with pytest.raises(EndorseError, match="access denied"):
        ledger.endorse(m.signed_proposal(signed.proposal_bytes, signed.signature[:-1] + b"\x00"))
    assert ledger.height() == height


def test_an_endorsed_payload_with_one_byte_changed_is_refused_even_re_signed(bare):
    """The creator changes what the chaincode wrote (one byte of the endorsed result) and signs
    the changed payload itself: the peer no longer recognises the bytes, parses them, and the
    endorsement does not verify over them."""
    ledger, signer = bare
    _, signed = signed_proposal(ledger, signer, "Ping", {"key": "k"})
    prepared = ledger.endorse(signed)
    written = json.dumps("k").encode()
    assert prepared.bytes.count(written) >= 1
    tampered = prepared.bytes.replace(written, json.dumps("j").encode())
    height = ledger.height()
    with pytest.raises(SubmitError, match="endorsement"):
        ledger.submit(m.signed_envelope(tampered, signer.sign(tampered)))
    with pytest.raises(SubmitError, match="bad creator signature"):
        ledger.submit(m.signed_envelope(prepared.bytes, signer.sign(tampered)))
    assert ledger.height() == height
    ledger.submit(m.signed_envelope(prepared.bytes, signer.sign(prepared.bytes)))  # the genuine one
    assert ledger.commit_status(prepared.tx_id).ok
