"""Issue #22, point 1: the access checks the services make before a write read the committed
record without a signed query (world state on the embedded ledger, the read model first on
Fabric); they refuse what they refused before, in the chaincode's words, and the chaincode
still decides on submit."""

from __future__ import annotations

import pytest
from support import PIN

from goldticket import domain as d
from goldticket.services import transfers

pytestmark = pytest.mark.scenario


def _count_signed_queries(platform, monkeypatch) -> list[str]:
    calls: list[str] = []
    evaluate = platform.ledger.evaluate

    def counted(proposal):
        calls.append("evaluate")
        return evaluate(proposal)

    monkeypatch.setattr(platform.ledger, "evaluate", counted)
    return calls


def test_the_checks_before_a_transfer_make_no_signed_query(consortium, issued_ticket, monkeypatch):
    c, p = consortium, consortium.platform
    if p.ledger.kind != "local":
        pytest.skip("on Fabric without a portal the ledger's query is what there is to read")
    calls = _count_signed_queries(p, monkeypatch)
    offer = transfers.offer_transfer(
        p, c.tier1, ticket_id=issued_ticket["id"], to_org_id="tier2", amount_fen=1_000, pin=PIN
    )
    transfers.accept_offer(p, c.tier2, offer["offer_id"], pin=PIN)
    assert calls == []


def test_a_refused_check_says_what_the_chaincode_says_to_the_same_member(
    consortium, issued_ticket, tier2_key
):
    """Need to know: a member with no part in a ticket or an offer learns from the check no more
    than the chaincode tells it when it submits the same write with its own key."""
    c, p = consortium, consortium.platform
    offer = transfers.offer_transfer(
        p, c.tier1, ticket_id=issued_ticket["id"], to_org_id="tier3", amount_fen=1_000, pin=PIN
    )
    height = p.ledger.height()
    cases = [
        (
            lambda: transfers.accept_offer(p, c.tier2, offer["offer_id"], pin=PIN),
            ("AcceptOffer", {"offer_id": offer["offer_id"]}),
        ),
        (
            lambda: transfers.accept_offer(p, c.tier2, "OFnosuchoffer", pin=PIN),
            ("AcceptOffer", {"offer_id": "OFnosuchoffer"}),
        ),
        (
            lambda: transfers.offer_transfer(
                p, c.tier2, ticket_id="TKnosuchticket", to_org_id="tier3", amount_fen=1, pin=PIN
            ),
            ("OfferTransfer", {"ticket_id": "TKnosuchticket", "to_org_id": "tier3", "amount_fen": 1}),
        ),
    ]
    for service_call, (function, request) in cases:
        with pytest.raises(d.DomainError) as by_service:
            service_call()
        with pytest.raises(Exception) as by_chaincode:
            p.contract.submit(tier2_key, function, request)
        typed = d.error_from_message(by_chaincode.value.chaincode_message)
        assert type(by_service.value) is type(typed)  # found-but-not-yours or not found, alike
        if isinstance(typed, d.NotFoundError):
            assert by_service.value.message == typed.message
    assert p.ledger.height() == height


def test_a_stale_or_wrong_read_only_moves_a_refusal(consortium, issued_ticket):
    """The record the check reads says tier3 holds the ticket (as a stale or tampered read
    model could): the check lets the request through, the chaincode refuses it, nothing is
    written."""
    c, p = consortium, consortium.platform
    claimed = {**issued_ticket, "holder_org_id": "tier3"}
    p.read_model = lambda kind, key: claimed if (kind, key) == ("ticket", issued_ticket["id"]) else None
    height = p.ledger.height()
    with pytest.raises(d.ForbiddenError):
        transfers.offer_transfer(
            p, c.tier3, ticket_id=issued_ticket["id"], to_org_id="tier2", amount_fen=1_000, pin=PIN
        )
    assert p.ledger.height() == height
