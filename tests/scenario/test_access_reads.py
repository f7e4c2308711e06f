"""Issue #22, point 1: the access checks the services make before a write read the committed
record without a signed query (world state on the embedded ledger, the read model first on
Fabric); they refuse what they refused before, in the chaincode's words, and the chaincode
still decides on submit."""

from __future__ import annotations

import datetime as dt

import pytest
from support import PIN, TODAY, invoice, on, register

from goldticket import domain as d
from goldticket.services import financing, settlement, tickets, transfers

pytestmark = pytest.mark.scenario


def _count_signed_queries(platform, monkeypatch) -> list[str]:
    calls: list[str] = []
    evaluate = platform.ledger.evaluate

    def counted(proposal, organizations=()):
        calls.append("evaluate")
        return evaluate(proposal, organizations)

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


def test_no_write_of_a_life_cycle_makes_a_signed_query_first(consortium, monkeypatch):
    """Issue, accept, offer, accept the offer, apply for financing, approve, settle: each write's
    checks read world state on the embedded ledger, none asks the chaincode with a signature."""
    c, p = consortium, consortium.platform
    if p.ledger.kind != "local":
        pytest.skip("on Fabric without a portal the ledger's query is what there is to read")
    calls = _count_signed_queries(p, monkeypatch)
    queries: dict[str, int] = {}

    def write(name, call):
        before = len(calls)
        result = call()
        queries[name] = len(calls) - before
        return result

    maturity = TODAY + dt.timedelta(days=90)
    issued = write(
        "issue",
        lambda: tickets.issue_ticket(
            p,
            c.core,
            payee_org_id="tier1",
            amount_fen=1_000_000,
            maturity_date=maturity,
            invoices=[invoice("INV-READS", 1_000_000)],
            pin=PIN,
        ),
    )
    write("accept", lambda: tickets.accept_ticket(p, c.tier1, issued["id"], pin=PIN))
    offer = write(
        "offer",
        lambda: transfers.offer_transfer(
            p, c.tier1, ticket_id=issued["id"], to_org_id="tier2", amount_fen=400_000, pin=PIN
        ),
    )
    moved = write("accept offer", lambda: transfers.accept_offer(p, c.tier2, offer["offer_id"], pin=PIN))
    application = write(
        "apply",
        lambda: financing.apply_financing(
            p,
            c.tier2,
            ticket_id=moved["transferred"]["id"],
            bank_org_id="factor",
            amount_fen=400_000,
            max_annual_rate_bp=500,
            pin=PIN,
        ),
    )
    register(p, c.factor, application["application_id"])
    write(
        "approve",
        lambda: financing.approve_financing(
            p,
            c.factor,
            application_id=application["application_id"],
            annual_rate_bp=300,
            value_date=TODAY,
            pin=PIN,
        ),
    )
    write("settle", lambda: settlement.settle_ticket(on(p, maturity), c.core, issued["id"], pin=PIN))
    assert queries == dict.fromkeys(queries, 0)
    assert len(queries) == 7


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


def _stale_world_state(platform, monkeypatch, kind: str, key: str, claimed: dict) -> None:
    """The embedded ledger's unsigned read answers ``claimed`` for ``kind`` ``key``, as a read
    taken before a concurrent commit would."""
    record = platform.ledger.record
    monkeypatch.setattr(
        platform.ledger, "record", lambda k, x: claimed if (k, x) == (kind, key) else record(k, x)
    )


def test_a_stale_world_state_read_lets_a_write_through_that_the_chaincode_refuses(
    consortium, issued_ticket, monkeypatch
):
    c, p = consortium, consortium.platform
    if p.ledger.kind != "local":
        pytest.skip("the embedded ledger's own unsigned read")
    _stale_world_state(
        p, monkeypatch, "ticket", issued_ticket["id"], {**issued_ticket, "holder_org_id": "tier3"}
    )
    height = p.ledger.height()
    with pytest.raises(d.ForbiddenError):
        transfers.offer_transfer(
            p, c.tier3, ticket_id=issued_ticket["id"], to_org_id="tier2", amount_fen=1_000, pin=PIN
        )
    assert p.ledger.height() == height


def test_a_stale_rate_bound_read_with_the_check_is_refused_on_submit(consortium, issued_ticket, monkeypatch):
    """Approval states the holder's bound as the check read it: a stale read (a higher bound)
    passes the service's rate check, the chaincode compares it with the application on the
    ledger and refuses; nothing is written."""
    c, p = consortium, consortium.platform
    if p.ledger.kind != "local":
        pytest.skip("the embedded ledger's own unsigned read")
    application = financing.apply_financing(
        p,
        c.tier1,
        ticket_id=issued_ticket["id"],
        bank_org_id="factor",
        amount_fen=1_000_000,
        max_annual_rate_bp=500,
        pin=PIN,
    )
    application_id = application["application_id"]
    recorded = p.ledger.record("application", application_id)
    _stale_world_state(p, monkeypatch, "application", application_id, {**recorded, "max_annual_rate_bp": 900})
    height = p.ledger.height()
    with pytest.raises(d.StateConflictError, match="bounded at"):
        financing.approve_financing(
            p, c.factor, application_id=application_id, annual_rate_bp=800, value_date=TODAY, pin=PIN
        )
    assert p.ledger.height() == height
    assert p.ledger.record("application", application_id)["status"] == recorded["status"]
