"""The embedded ledger takes signed Fabric messages and refuses anything a peer would refuse."""

from __future__ import annotations

import json
import threading

import pytest
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from fabric_protos.common import common_pb2
from support import PIN

from goldticket import messages as m
from goldticket.domain import ForbiddenError, StateConflictError
from goldticket.ledger import DuplicateTransactionError, EndorseError, MVCCConflictError, SubmitError
from goldticket.messages.crypto import P256_N
from goldticket.services import members, transfers
from goldticket.signing import OrgCA, SoftwareSigner, new_member_key

# the ledger's machinery under raw requests: its ledger is made without the documents rule (#21;
# tests/scenario/test_documents_required.py tests the rule)
pytestmark = [pytest.mark.functional, pytest.mark.documents_optional]


def proposal_for(platform, signer, function="Ping", request=None):
    return m.build_proposal(
        channel_id="goldticket",
        chaincode="goldticket",
        function=function,
        args=[json.dumps(request or {})],
        creator=signer.identity,
    )


def signed(platform, signer, function="Ping", request=None):
    proposal = proposal_for(platform, signer, function, request)
    return m.signed_proposal(proposal.bytes, signer.sign(proposal.bytes))


def test_a_signed_transaction_commits_into_a_hash_chained_block(consortium):
    platform, ledger = consortium.platform, consortium.platform.ledger
    height = ledger.height()
    receipt = platform.submit(consortium.tier1, "Ping", {}, pin=PIN)
    assert receipt.block == height
    assert ledger.height() == height + 1
    blocks = list(ledger.blocks(0))
    assert [block.number for block in blocks] == list(range(height + 1))
    for previous, block in zip(blocks, blocks[1:], strict=False):
        assert block.previous_hash == previous.hash
    last = blocks[-1]
    assert last.validation_codes == (0,)
    tx = m.decode_transaction(common_pb2.Envelope.FromString(last.envelopes[0]).payload)
    assert tx.tx_id == receipt.tx_id and tx.function == "Ping"
    assert ledger.commit_status(receipt.tx_id).ok


def test_a_signature_over_other_bytes_is_refused(consortium, tier1_key):
    ledger, signer = consortium.platform.ledger, tier1_key
    proposal = proposal_for(consortium.platform, signer)
    height = ledger.height()
    with pytest.raises(EndorseError, match="does not verify"):
        ledger.endorse(m.signed_proposal(proposal.bytes, signer.sign(proposal.bytes + b"x")))
    assert ledger.height() == height


def test_a_high_s_signature_is_refused(consortium, tier1_key):
    ledger, signer = consortium.platform.ledger, tier1_key
    proposal = proposal_for(consortium.platform, signer)
    r, s = decode_dss_signature(signer.sign(proposal.bytes))
    high = encode_dss_signature(r, P256_N - s)
    with pytest.raises(EndorseError, match="high S"):
        ledger.endorse(m.signed_proposal(proposal.bytes, high))


def test_a_certificate_from_an_unknown_ca_is_refused(consortium):
    rogue_ca = OrgCA.create("OperatorMSP", "Rogue")
    key = new_member_key()
    cert = rogue_ca.issue(
        key.public_key(), common_name="x", attributes={"member": "operator", "role": "admin"}
    )
    rogue = SoftwareSigner(key, m.Identity("OperatorMSP", cert))
    with pytest.raises(EndorseError, match="not valid for OperatorMSP"):
        consortium.platform.ledger.endorse(signed(consortium.platform, rogue))


def test_an_unregistered_identity_is_refused_by_the_chaincode(consortium):
    ca = consortium.platform.keystore.cas()["OperatorMSP"]
    key = new_member_key()
    cert = ca.issue(key.public_key(), common_name="x", attributes={"member": "tier1", "role": "clerk"})
    stranger = SoftwareSigner(key, m.Identity("OperatorMSP", cert))
    with pytest.raises(EndorseError) as refused:
        consortium.platform.ledger.endorse(
            signed(consortium.platform, stranger, "AcceptTicket", {"ticket_id": "TKnone"})
        )
    assert refused.value.chaincode_message.startswith("forbidden: the signer's identity is not registered")


def test_an_envelope_signed_by_someone_else_is_refused(consortium, tier1_key, tier2_key):
    ledger = consortium.platform.ledger
    prepared = ledger.endorse(signed(consortium.platform, tier1_key))
    height = ledger.height()
    with pytest.raises(SubmitError, match="bad creator signature"):
        ledger.submit(m.signed_envelope(prepared.bytes, tier2_key.sign(prepared.bytes)))
    assert ledger.height() == height


def test_a_replayed_transaction_is_refused(consortium, tier1_key):
    ledger, signer = consortium.platform.ledger, tier1_key
    proposal = signed(consortium.platform, signer)
    prepared = ledger.endorse(proposal)
    envelope = m.signed_envelope(prepared.bytes, signer.sign(prepared.bytes))
    ledger.submit(envelope)
    height = ledger.height()
    with pytest.raises(DuplicateTransactionError):
        ledger.submit(envelope)
    with pytest.raises(DuplicateTransactionError):
        ledger.endorse(proposal)
    assert ledger.height() == height


def test_an_altered_write_set_fails_endorsement_validation(consortium, tier1_key):
    """A portal or peer that swaps what is written gets the transaction refused."""
    ledger, signer = consortium.platform.ledger, tier1_key
    prepared = ledger.endorse(signed(consortium.platform, signer))
    tampered = prepared.bytes.replace(b"Ping", b"Pong")
    assert tampered != prepared.bytes
    with pytest.raises(SubmitError):
        ledger.submit(m.signed_envelope(tampered, signer.sign(tampered)))


def test_of_two_endorsed_conflicting_transfers_only_the_first_commits(consortium, issued_ticket, tier1_key):
    platform = consortium.platform
    ticket_id = issued_ticket["id"]

    def endorse(to_org):
        request = {"ticket_id": ticket_id, "to_org_id": to_org, "amount_fen": 1000}
        return platform.ledger.endorse(signed(platform, tier1_key, "OfferTransfer", request))

    first, second = endorse("tier2"), endorse("tier3")
    signer = tier1_key
    platform.ledger.submit(m.signed_envelope(first.bytes, signer.sign(first.bytes)))
    platform.ledger.submit(m.signed_envelope(second.bytes, signer.sign(second.bytes)))
    assert platform.ledger.commit_status(first.tx_id).validation_code == "VALID"
    assert platform.ledger.commit_status(second.tx_id).validation_code == "MVCC_READ_CONFLICT"
    ticket = platform.evaluate("GetTicket", {"ticket_id": ticket_id})
    offer = platform.evaluate("GetOffer", {"offer_id": ticket["offer_id"]})
    assert offer["to_org_id"] == "tier2"


def test_the_client_reports_an_mvcc_conflict_as_a_typed_error(consortium, issued_ticket, tier1_key):
    """A competing transfer commits between this one's endorsement and its submission."""
    from goldticket.ledger import Contract

    platform = consortium.platform
    ledger = platform.ledger
    request = {"ticket_id": issued_ticket["id"], "to_org_id": "tier2", "amount_fen": 1000}
    original_endorse = ledger.endorse

    def endorse_then_race(proposal, organizations=()):
        prepared = original_endorse(proposal, organizations)
        ledger.endorse = original_endorse
        Contract(ledger).submit(tier1_key, "OfferTransfer", {**request, "to_org_id": "tier3"})
        return prepared

    ledger.endorse = endorse_then_race
    try:
        with pytest.raises(MVCCConflictError) as conflict:
            Contract(ledger).submit(tier1_key, "OfferTransfer", request)
    finally:
        ledger.endorse = original_endorse
    assert ledger.commit_status(conflict.value.tx_id).validation_code == "MVCC_READ_CONFLICT"
    ticket = platform.evaluate("GetTicket", {"ticket_id": issued_ticket["id"]})
    offer = platform.evaluate("GetOffer", {"offer_id": ticket["offer_id"]})
    assert offer["to_org_id"] == "tier3"


@pytest.mark.slow
def test_many_threads_offering_one_ticket_exactly_one_wins(consortium, issued_ticket):
    platform = consortium.platform
    outcomes: list[object] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def attempt(index):
        start.wait()
        try:
            result = transfers.offer_transfer(
                platform,
                consortium.tier1,
                ticket_id=issued_ticket["id"],
                to_org_id=("tier2", "tier3")[index % 2],
                amount_fen=100 + index,
                pin=PIN,
            )
        except StateConflictError as error:
            result = error
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=attempt, args=(index,)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wins = [item for item in outcomes if isinstance(item, dict)]
    assert len(wins) == 1
    assert all(isinstance(item, StateConflictError) for item in outcomes if item not in wins)
    ticket = platform.evaluate("GetTicket", {"ticket_id": issued_ticket["id"]})
    assert ticket["status"] == "LOCKED_TRANSFER" and ticket["offer_id"] == wins[0]["offer_id"]


def test_a_revoked_identity_can_no_longer_transact(consortium, issued_ticket, tier1_key):
    from goldticket.ledger import Contract
    from goldticket.signing.errors import CardRevokedError

    platform = consortium.platform
    operator, pin = platform.actor("operator"), platform.settings.operator_pin
    identity = tier1_key.identity
    request = {
        "msp_id": identity.msp_id,
        "certificate_pem": identity.certificate_pem.decode(),
        "reason": "lost",
    }
    platform.submit(operator, "RevokeIdentity", request, pin=pin)
    offer = {"ticket_id": issued_ticket["id"], "to_org_id": "tier2", "amount_fen": 1}
    with pytest.raises(EndorseError) as refused:
        Contract(platform.ledger).submit(tier1_key, "OfferTransfer", offer)
    assert refused.value.chaincode_message.startswith(
        "forbidden: the signer's identity is not registered or has been revoked"
    )

    members.revoke_user(platform, platform.desk(), "tier1.clerk")
    with pytest.raises((CardRevokedError, ForbiddenError)):
        transfers.offer_transfer(platform, consortium.tier1, **offer, pin=PIN)
