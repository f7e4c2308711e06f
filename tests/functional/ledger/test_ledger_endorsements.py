"""Every endorsement in a submitted transaction is verified; the peer's memory of what it
endorsed confirms only the exact bytes it produced, endorsement list included."""

from __future__ import annotations

import pytest
from ledger_support import bare_ledger, endorsed_envelope, forged_envelope, peer_key, ping
from ledger_support import signed_proposal as make_proposal

from chaincode import GoldTicketContract
from goldticket import messages as m
from goldticket.ledger import SubmitError, UnknownTransactionError
from goldticket.ledger.local.peer import LocalLedger

pytestmark = pytest.mark.functional


@pytest.fixture
def bare(tmp_path):
    ledger, signer = bare_ledger(tmp_path / "data")
    yield ledger, signer
    ledger.close()


def reendorsed(ledger, signer, endorsements):
    """The peer's own endorsement of a Ping (so its response hash is in the peer's memory),
    re-wrapped with ``endorsements`` and signed again by the creator."""
    _, signed = make_proposal(ledger, signer, "Ping", {"key": "k"})
    prepared = ledger.endorse(signed)
    tx = m.decode_transaction(prepared.bytes)
    decoded = m.decode_proposal(signed.proposal_bytes)
    payload = m.build_transaction_payload(decoded, tx.response_payload_bytes, endorsements(tx))
    return m.signed_envelope(payload, signer.sign(payload)), tx


def assert_refused_and_nothing_written(ledger, envelope, tx_id, match):
    height = ledger.height()
    with pytest.raises(SubmitError, match=match):
        ledger.submit(envelope)
    assert ledger.height() == height
    with pytest.raises(UnknownTransactionError):
        ledger.commit_status(tx_id)


def test_an_envelope_whose_only_endorsement_is_nobodys_is_refused(bare):
    """The issue's attack: the response hash is in the peer's memory, the endorsement is junk."""
    ledger, signer = bare
    envelope, tx = reendorsed(ledger, signer, lambda tx: [(b"nobody", b"not a signature")])
    assert_refused_and_nothing_written(ledger, envelope, tx.tx_id, "endorsement policy failure")


def test_a_junk_endorsement_beside_the_peers_own_is_refused(bare):
    ledger, signer = bare
    envelope, tx = reendorsed(ledger, signer, lambda tx: [*tx.endorsements, (b"nobody", b"not a signature")])
    assert_refused_and_nothing_written(ledger, envelope, tx.tx_id, "unknown endorser")


def test_the_peers_identity_with_a_signature_by_another_key_is_refused(bare):
    ledger, signer = bare
    envelope, tx = reendorsed(
        ledger,
        signer,
        lambda tx: [
            (endorser, signer.sign(m.endorsement_message(tx.response_payload_bytes, endorser)))
            for endorser, _ in tx.endorsements
        ],
    )
    assert_refused_and_nothing_written(ledger, envelope, tx.tx_id, "endorsement signature")


def test_the_peers_signature_over_another_response_is_refused(bare, tmp_path):
    """A real endorsement of one transaction, copied onto another."""
    ledger, signer = bare
    donor, _ = endorsed_envelope(ledger, signer, "Ping", {"key": "donor"})
    donor_endorsements = list(m.decode_transaction(donor.payload).endorsements)
    envelope, tx = reendorsed(ledger, signer, lambda tx: donor_endorsements)
    assert_refused_and_nothing_written(ledger, envelope, tx.tx_id, "endorsement signature")


def test_an_endorsement_by_a_member_certificate_is_refused(bare):
    """A valid signature by someone the policy does not name (here the creator itself)."""
    ledger, signer = bare
    envelope, tx_id = forged_envelope(
        ledger,
        signer,
        "Ping",
        {},
        writes=(m.KeyWrite("ping/x", b"{}"),),
        endorser_key=signer._private_key,
        endorser=signer.identity.serialize(),
    )
    assert_refused_and_nothing_written(ledger, envelope, tx_id, "unknown endorser")


def test_after_a_restart_the_peers_own_endorsement_is_verified_and_commits(tmp_path):
    """With nothing remembered the envelope is checked by signature, and an honest one commits."""
    ledger, signer = bare_ledger(tmp_path / "data")
    envelope, tx_id = endorsed_envelope(ledger, signer, "Ping", {"key": "after-restart"})
    ledger.close()
    reopened = LocalLedger(tmp_path / "data" / "ledger.sqlite", GoldTicketContract(), time_window=None)
    try:
        reopened.submit(envelope)
        assert reopened.commit_status(tx_id).ok
        ping(reopened, signer, "next")
    finally:
        reopened.close()


def test_a_write_signed_with_the_stolen_peer_key_passes_the_peer_but_is_in_the_block(bare, tmp_path):
    """The peer key is in the ledger file: a forged write endorsed with it commits (the peer
    cannot tell), which is why `goldticket ledger verify` replays (test_ledger_verify)."""
    ledger, signer = bare
    key, identity = peer_key(tmp_path / "data" / "ledger.sqlite")
    envelope, tx_id = forged_envelope(
        ledger,
        signer,
        "Ping",
        {},
        writes=(m.KeyWrite("ping/forged", b"{}"),),
        endorser_key=key,
        endorser=identity,
    )
    ledger.submit(envelope)
    assert ledger.commit_status(tx_id).ok
