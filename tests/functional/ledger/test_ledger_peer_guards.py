"""The embedded peer's own guards, each attacked: a ledger file that is not one, a proposal or
transaction meant for another channel or chaincode (endorsed by this very peer under another
name), a creator from an organisation outside the channel, a proposal outside the time window,
and block numbers below zero."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from ledger_support import bare_ledger, endorsed_envelope
from ledger_support import signed_proposal as make_proposal

from chaincode import GoldTicketContract
from goldticket import messages as m
from goldticket.ledger import CommitStatusError, EndorseError, SubmitError, UnknownTransactionError
from goldticket.ledger.local.peer import LocalLedger
from goldticket.signing import OrgCA, SoftwareSigner, new_member_key

pytestmark = pytest.mark.functional


@pytest.fixture
def bare(tmp_path):
    ledger, signer = bare_ledger(tmp_path / "data")
    yield ledger, signer
    ledger.close()


def ledger_file(ledger: LocalLedger):
    return ledger._store.path  # noqa: SLF001 - the test reopens the same file under other names


def test_a_file_without_a_peer_key_is_not_opened_as_a_ledger(tmp_path):
    path = tmp_path / "empty.sqlite"
    sqlite3.connect(path).close()
    with pytest.raises(SubmitError, match="not an initialised ledger"):
        LocalLedger(path, GoldTicketContract())


def test_a_ledger_whose_peer_key_is_not_ecdsa_is_refused(bare):
    ledger, _ = bare
    path = ledger_file(ledger)
    ledger.close()
    rsa_pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("UPDATE meta SET value = ? WHERE name = 'peer_key'", (rsa_pem,))
    conn.close()
    with pytest.raises(SubmitError, match="not ECDSA"):
        LocalLedger(path, GoldTicketContract())


def proposal_for(signer: SoftwareSigner, *, channel: str, chaincode: str, timestamp=None):
    proposal = m.build_proposal(
        channel_id=channel,
        chaincode=chaincode,
        function="Ping",
        args=[json.dumps({"key": "k"})],
        creator=signer.identity,
        timestamp=timestamp,
    )
    return m.signed_proposal(proposal.bytes, signer.sign(proposal.bytes))


@pytest.mark.parametrize(("channel", "chaincode"), [("otherchannel", "goldticket"), ("goldticket", "other")])
def test_a_proposal_for_another_channel_or_chaincode_is_not_endorsed(bare, channel, chaincode):
    ledger, signer = bare
    with pytest.raises(EndorseError, match="unknown channel or chaincode"):
        ledger.endorse(proposal_for(signer, channel=channel, chaincode=chaincode))
    with pytest.raises(EndorseError, match="unknown channel or chaincode"):
        ledger.evaluate(proposal_for(signer, channel=channel, chaincode=chaincode))


@pytest.mark.parametrize(("channel", "chaincode"), [("otherchannel", "goldticket"), ("goldticket", "other")])
def test_a_transaction_this_peer_endorsed_for_another_channel_is_not_committed(bare, channel, chaincode):
    """The same ledger file opened under another channel or chaincode name endorses with the
    same peer key, so the endorsement verifies; the channel check alone keeps it out."""
    ledger, signer = bare
    elsewhere = LocalLedger(
        ledger_file(ledger), GoldTicketContract(), channel_id=channel, chaincode=chaincode
    )
    try:
        envelope, tx_id = endorsed_envelope(elsewhere, signer, "Ping", {"key": "k"})
    finally:
        elsewhere.close()
    height = ledger.height()
    with pytest.raises(SubmitError, match="another channel or chaincode"):
        ledger.submit(envelope)
    assert ledger.height() == height
    with pytest.raises(UnknownTransactionError):
        ledger.commit_status(tx_id)


def test_a_creator_from_an_organisation_outside_the_channel_is_refused(bare):
    ledger, _ = bare
    stranger_ca = OrgCA.create("StrangerMSP", "Not In The Channel")
    key = new_member_key()
    cert = stranger_ca.issue(
        key.public_key(), common_name="x", attributes={"member": "operator", "role": "clerk"}
    )
    stranger = SoftwareSigner(key, m.Identity("StrangerMSP", cert))
    _, signed = make_proposal(ledger, stranger, "Ping", {"key": "k"})
    with pytest.raises(EndorseError, match="StrangerMSP is not a member of the channel"):
        ledger.endorse(signed)


@pytest.mark.parametrize("offset", [dt.timedelta(minutes=-16), dt.timedelta(minutes=16)])
def test_a_proposal_outside_the_time_window_is_refused(bare, offset):
    ledger, signer = bare
    checking = LocalLedger(ledger_file(ledger), GoldTicketContract(), time_window=dt.timedelta(minutes=15))
    try:
        stamp = dt.datetime.now(dt.UTC) + offset
        signed = proposal_for(signer, channel="goldticket", chaincode="goldticket", timestamp=stamp)
        with pytest.raises(EndorseError, match="outside the ledger's time window"):
            checking.endorse(signed)
        inside = proposal_for(signer, channel="goldticket", chaincode="goldticket")
        assert checking.endorse(inside).tx_id
    finally:
        checking.close()


def test_block_numbers_below_zero_are_refused(bare):
    ledger, _ = bare
    with pytest.raises(CommitStatusError, match="start at 0"):
        list(ledger.blocks(-1))
    assert [block.number for block in ledger.blocks(0)] == [0, 1]  # genesis, Bootstrap


def test_a_rehearsal_runs_the_chaincode_unsigned_and_keeps_nothing(bare):
    """#20 point 3: the portal rehearses a write before the PIN; the peer runs the chaincode on
    the unsigned proposal, refuses a creator outside the channel as endorsement does, and
    neither endorses nor commits anything."""
    ledger, signer = bare
    height = ledger.height()
    proposal = m.build_proposal(
        channel_id=ledger.channel_id,
        chaincode=ledger.chaincode,
        function="Ping",
        args=[json.dumps({"key": "k"})],
        creator=signer.identity,
    )
    assert ledger.rehearse(proposal.bytes) is not None
    assert ledger.height() == height and ledger._endorsed == {}  # noqa: SLF001 - nothing was endorsed
    stranger_ca = OrgCA.create("StrangerMSP", "Not In The Channel")
    cert = stranger_ca.issue(
        new_member_key().public_key(), common_name="x", attributes={"member": "operator", "role": "clerk"}
    )
    other = m.build_proposal(
        channel_id=ledger.channel_id,
        chaincode=ledger.chaincode,
        function="Ping",
        args=[json.dumps({"key": "k"})],
        creator=m.Identity("StrangerMSP", cert),
    )
    with pytest.raises(EndorseError, match="StrangerMSP is not a member of the channel"):
        ledger.rehearse(other.bytes)
    with pytest.raises(EndorseError, match="unknown channel or chaincode"):
        ledger.rehearse(
            m.build_proposal(
                channel_id="other",
                chaincode="goldticket",
                function="Ping",
                args=["{}"],
                creator=signer.identity,
            ).bytes
        )
