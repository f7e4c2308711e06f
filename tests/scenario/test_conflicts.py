"""Conflicting writes on whichever ledger ``--ledger`` names: of two transactions that change
one ticket, exactly one commits; the other gets the conflict error and writes nothing."""

from __future__ import annotations

import threading

import pytest
from support import PIN

from goldticket import messages as m
from goldticket.domain import InvalidInputError, StateConflictError
from goldticket.ledger import Contract
from goldticket.services import transfers

pytestmark = pytest.mark.scenario


def test_two_transfers_endorsed_together_commit_once(consortium, issued_ticket, tier1_key):
    p, ticket_id = consortium.platform, issued_ticket["id"]
    contract = Contract(p.ledger, clock=p.contract._clock)
    prepared = []
    for payee in ("tier2", "tier3"):
        request = {"ticket_id": ticket_id, "to_org_id": payee, "amount_fen": 10_000_000,
                   "agreement_sha256": "a1" * 32, "notice_sha256": "2b" * 32}  # fmt: skip
        prepared.append(p.ledger.endorse(contract._signed_proposal(tier1_key, "OfferTransfer", request)))
    for transaction in prepared:  # both were endorsed against the same state
        p.ledger.submit(
            m.signed_envelope(transaction.bytes, tier1_key.sign(transaction.bytes, "transaction"))
        )
    codes = sorted(p.ledger.commit_status(t.tx_id, tier1_key).validation_code for t in prepared)
    assert codes == ["MVCC_READ_CONFLICT", "VALID"]
    ticket = p.evaluate("GetTicket", {"ticket_id": ticket_id})
    assert ticket["status"] == "LOCKED_TRANSFER" and ticket["amount_fen"] == 100_000_000


def test_two_clerks_transfer_one_ticket_at_once(consortium, issued_ticket):
    c, p, ticket_id = consortium, consortium.platform, issued_ticket["id"]
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def offer(payee: str) -> None:
        barrier.wait()
        try:
            outcomes[payee] = transfers.offer_transfer(
                p, c.tier1, ticket_id=ticket_id, to_org_id=payee, amount_fen=10_000_000, pin=PIN
            )
        except StateConflictError as error:
            outcomes[payee] = error

    threads = [threading.Thread(target=offer, args=(payee,)) for payee in ("tier2", "tier3")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    won = [payee for payee, result in outcomes.items() if isinstance(result, dict)]
    assert len(won) == 1 and len(outcomes) == 2
    ticket = p.evaluate("GetTicket", {"ticket_id": ticket_id})
    assert ticket["status"] == "LOCKED_TRANSFER" and ticket["amount_fen"] == 100_000_000
    assert p.evaluate("GetOffer", {"offer_id": ticket["offer_id"]})["to_org_id"] == won[0]


def test_ping_writes_one_key_and_checks_it(platform):
    operator, pin = platform.actor("operator"), platform.settings.operator_pin
    receipt = platform.submit(operator, "Ping", {"key": "client-1"}, pin=pin)  # the operator's only
    assert receipt.result["tx_id"] == receipt.tx_id
    with pytest.raises(InvalidInputError, match="key"):
        platform.submit(operator, "Ping", {"key": "x" * 65}, pin=pin)
