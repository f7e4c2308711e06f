"""Whole life cycles through the services, on whichever ledger ``--ledger`` names."""

from __future__ import annotations

import datetime as dt

import pytest
from support import OPERATOR_PIN, PIN, TODAY, invoice, on, register

from goldticket.domain import (
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
    RuleViolationError,
    StateConflictError,
)
from goldticket.services import credit, financing, settlement, tickets, transfers

pytestmark = pytest.mark.scenario
MATURITY = TODAY + dt.timedelta(days=90)


def live_total(platform, actor, root_id):
    pieces = tickets.list_tickets(platform, actor, root_id=root_id)
    return sum(p["amount_fen"] for p in pieces if p["status"] not in ("SPLIT", "REJECTED", "CANCELLED"))


def test_issue_split_down_two_tiers_discount_and_settle(consortium, issued_ticket):
    c, p = consortium, consortium.platform
    root = issued_ticket["id"]
    offer = transfers.offer_transfer(
        p, c.tier1, ticket_id=root, to_org_id="tier2", amount_fen=60_000_000, pin=PIN
    )
    assert offer["ticket"]["status"] == "LOCKED_TRANSFER"
    moved = transfers.accept_offer(p, c.tier2, offer["offer_id"], pin=PIN)
    assert (
        moved["transferred"]["amount_fen"] == 60_000_000 and moved["transferred"]["holder_org_id"] == "tier2"
    )
    assert moved["remainder"]["amount_fen"] == 40_000_000 and moved["remainder"]["holder_org_id"] == "tier1"

    offer = transfers.offer_transfer(
        p, c.tier2, ticket_id=moved["transferred"]["id"], to_org_id="tier3", amount_fen=25_000_000, pin=PIN
    )
    moved2 = transfers.accept_offer(p, c.tier3, offer["offer_id"], pin=PIN)
    application = financing.apply_financing(
        p,
        c.tier3,
        ticket_id=moved2["transferred"]["id"],
        bank_org_id="factor",
        max_annual_rate_bp=10_000,
        amount_fen=10_000_000,
        pin=PIN,
    )
    register(p, c.factor, application["application_id"])
    approved = financing.approve_financing(
        p,
        c.factor,
        application_id=application["application_id"],
        annual_rate_bp=262,
        value_date=TODAY,
        pin=PIN,
    )
    assert approved["days"] == 90
    assert approved["discount_interest_fen"] == 65_500  # 100,000.00 x 2.62% x 90 / 360
    assert approved["proceeds_fen"] == 10_000_000 - 65_500
    assert approved["financed"]["status"] == "FINANCED" and approved["financed"]["holder_org_id"] == "factor"
    assert approved["remainder"]["amount_fen"] == 15_000_000
    assert live_total(p, c.core, root) == 100_000_000

    with pytest.raises(RuleViolationError, match="not yet mature"):
        settlement.settle_ticket(p, c.core, root, pin=PIN)
    statement = settlement.settle_ticket(on(p, MATURITY), c.core, root, pin=PIN)
    paid = {(item["holder_org_id"], item["amount_fen"]) for item in statement["paid"]}
    assert paid == {
        ("tier1", 40_000_000),
        ("tier2", 35_000_000),
        ("tier3", 15_000_000),
        ("factor", 10_000_000),
    }
    assert statement["total_paid_fen"] == 100_000_000 and statement["withheld"] == []
    line = credit.list_credit_lines(p, c.core, "core")[0]
    assert line["used_fen"] == 0
    with pytest.raises(StateConflictError):
        settlement.settle_ticket(on(p, MATURITY), c.core, root, pin=PIN)

    lineage = tickets.ticket_lineage(p, c.core, root)
    assert lineage["ticket"]["id"] == root and len(lineage["children"]) == 2
    history = tickets.ticket_history(p, c.core, moved2["transferred"]["id"])
    assert [item["action"] for item in history] == ["accept_transfer", "apply_financing", "approve_financing"]
    assert all(item["block"] > 0 and item["card_serial"] for item in history)


def test_rejecting_an_issue_releases_credit_and_invoices(consortium):
    c, p = consortium, consortium.platform
    issued = tickets.issue_ticket(
        p,
        c.core,
        payee_org_id="tier1",
        amount_fen=5_000_000,
        maturity_date=MATURITY,
        invoices=[invoice("INV-R", 5_000_000)],
        pin=PIN,
    )
    assert credit.list_credit_lines(p, c.core, "core")[0]["used_fen"] == 5_000_000
    rejected = tickets.reject_ticket(p, c.tier1, issued["id"], "wrong amount", pin=PIN)
    assert rejected["status"] == "REJECTED"
    assert credit.list_credit_lines(p, c.core, "core")[0]["used_fen"] == 0
    again = tickets.issue_ticket(
        p,
        c.core,
        payee_org_id="tier1",
        amount_fen=5_000_000,
        maturity_date=MATURITY,
        invoices=[invoice("INV-R", 5_000_000)],
        pin=PIN,
    )
    assert again["status"] == "PENDING_ACCEPTANCE"


def test_the_issuer_may_cancel_before_acceptance_only(consortium):
    c, p = consortium, consortium.platform
    issued = tickets.issue_ticket(
        p,
        c.core,
        payee_org_id="tier1",
        amount_fen=100,
        maturity_date=MATURITY,
        invoices=[invoice("INV-C", 100)],
        pin=PIN,
    )
    with pytest.raises(ForbiddenError):
        tickets.cancel_ticket(p, c.tier1, issued["id"], pin=PIN)
    assert tickets.cancel_ticket(p, c.core, issued["id"], pin=PIN)["status"] == "CANCELLED"
    with pytest.raises(StateConflictError):
        tickets.accept_ticket(p, c.tier1, issued["id"], pin=PIN)


def test_an_invoice_backs_at_most_its_face_amount(consortium):
    c, p = consortium, consortium.platform
    tickets.issue_ticket(
        p,
        c.core,
        payee_org_id="tier1",
        amount_fen=600,
        maturity_date=MATURITY,
        invoices=[invoice("INV-D", 1000)],
        pin=PIN,
    )
    height = p.ledger.height()
    with pytest.raises(RuleViolationError, match="invoice already used"):
        tickets.issue_ticket(
            p,
            c.core,
            payee_org_id="tier2",
            amount_fen=500,
            maturity_date=MATURITY,
            invoices=[invoice("INV-D", 1000)],
            pin=PIN,
        )
    assert p.ledger.height() == height
    tickets.issue_ticket(
        p,
        c.core,
        payee_org_id="tier2",
        amount_fen=400,
        maturity_date=MATURITY,
        invoices=[invoice("INV-D", 1000)],
        pin=PIN,
    )
    changed = {**invoice("INV-D", 1000), "sha256": "00" * 32}
    with pytest.raises(RuleViolationError, match="does not match"):
        tickets.issue_ticket(
            p, c.core, payee_org_id="tier2", amount_fen=1, maturity_date=MATURITY, invoices=[changed], pin=PIN
        )


def test_credit_line_exceeded_and_term_cap(consortium):
    c, p = consortium, consortium.platform
    with pytest.raises(RuleViolationError, match="credit line exceeded"):
        tickets.issue_ticket(
            p,
            c.core,
            payee_org_id="tier1",
            amount_fen=10_000_000_001,
            maturity_date=MATURITY,
            invoices=[invoice("INV-BIG", 10_000_000_001)],
            pin=PIN,
        )
    with pytest.raises(RuleViolationError, match="maturity date is out of range"):
        tickets.issue_ticket(
            p,
            c.core,
            payee_org_id="tier1",
            amount_fen=100,
            maturity_date=dt.date(2027, 12, 2),
            invoices=[invoice("INV-T", 100)],
            pin=PIN,
        )
    ok = tickets.issue_ticket(
        p,
        c.core,
        payee_org_id="tier1",
        amount_fen=100,
        maturity_date=dt.date(2027, 12, 1),
        invoices=[invoice("INV-T", 100)],
        term_reason="a year's term, stated (over six months)",
        pin=PIN,
    )
    assert ok["maturity_date"] == "2027-12-01"


@pytest.mark.parametrize("amount", [0, -5, 1.5, "100", True, None])
def test_bad_amounts_are_refused_and_change_nothing(consortium, issued_ticket, amount):
    c, p = consortium, consortium.platform
    height = p.ledger.height()
    with pytest.raises(InvalidInputError):
        transfers.offer_transfer(
            p, c.tier1, ticket_id=issued_ticket["id"], to_org_id="tier2", amount_fen=amount, pin=PIN
        )
    # the chaincode refuses the same input on its own, whatever a client checked first
    with pytest.raises(InvalidInputError):
        p.submit(
            c.tier1,
            "OfferTransfer",
            {"ticket_id": issued_ticket["id"], "to_org_id": "tier2", "amount_fen": amount},
            pin=PIN,
        )
    assert p.ledger.height() == height


def test_wrong_parties_and_unknown_objects(consortium, issued_ticket):
    c, p = consortium, consortium.platform
    with pytest.raises(ForbiddenError, match="only the holder"):
        transfers.offer_transfer(
            p, c.tier2, ticket_id=issued_ticket["id"], to_org_id="tier3", amount_fen=1, pin=PIN
        )
    with pytest.raises(NotFoundError):
        transfers.offer_transfer(
            p, c.tier1, ticket_id=issued_ticket["id"], to_org_id="nobody", amount_fen=1, pin=PIN
        )
    with pytest.raises(NotFoundError):
        tickets.get_ticket(p, c.tier1, "TKdoesnotexist")
    with pytest.raises(ForbiddenError):
        tickets.issue_ticket(
            p,
            c.tier1,
            payee_org_id="tier2",
            amount_fen=1,
            maturity_date=MATURITY,
            invoices=[invoice("INV-X", 1)],
            pin=PIN,
        )
    with pytest.raises(ForbiddenError):
        credit.grant_credit_line(p, c.core, core_org_id="core", limit_fen=1, pin=PIN)
    with pytest.raises(RuleViolationError, match="amount over balance"):
        transfers.offer_transfer(
            p, c.tier1, ticket_id=issued_ticket["id"], to_org_id="tier2", amount_fen=100_000_001, pin=PIN
        )


def test_offers_lock_and_unlock(consortium, issued_ticket):
    c, p = consortium, consortium.platform
    offer = transfers.offer_transfer(
        p, c.tier1, ticket_id=issued_ticket["id"], to_org_id="tier2", amount_fen=5, pin=PIN
    )
    with pytest.raises(StateConflictError):
        transfers.offer_transfer(
            p, c.tier1, ticket_id=issued_ticket["id"], to_org_id="tier3", amount_fen=5, pin=PIN
        )
    with pytest.raises(StateConflictError):
        financing.apply_financing(
            p,
            c.tier1,
            ticket_id=issued_ticket["id"],
            bank_org_id="bank",
            max_annual_rate_bp=10_000,
            amount_fen=5,
            pin=PIN,
        )
    with pytest.raises(ForbiddenError):
        transfers.accept_offer(p, c.tier3, offer["offer_id"], pin=PIN)
    assert transfers.reject_offer(p, c.tier2, offer["offer_id"], pin=PIN)["status"] == "ACTIVE"
    with pytest.raises(StateConflictError):
        transfers.accept_offer(p, c.tier2, offer["offer_id"], pin=PIN)
    offer = transfers.offer_transfer(
        p, c.tier1, ticket_id=issued_ticket["id"], to_org_id="tier2", amount_fen=100_000_000, pin=PIN
    )
    assert transfers.cancel_offer(p, c.tier1, offer["offer_id"], pin=PIN)["status"] == "ACTIVE"
    offer = transfers.offer_transfer(
        p, c.tier1, ticket_id=issued_ticket["id"], to_org_id="tier2", amount_fen=100_000_000, pin=PIN
    )
    whole = transfers.accept_offer(p, c.tier2, offer["offer_id"], pin=PIN)
    assert whole["remainder"] is None and whole["transferred"]["amount_fen"] == 100_000_000


def test_financing_rejected_unlocks(consortium, issued_ticket):
    c, p = consortium, consortium.platform
    application = financing.apply_financing(
        p,
        c.tier1,
        ticket_id=issued_ticket["id"],
        bank_org_id="bank",
        max_annual_rate_bp=10_000,
        amount_fen=100_000_000,
        pin=PIN,
    )
    with pytest.raises(ForbiddenError):
        financing.approve_financing(
            p,
            c.factor,
            application_id=application["application_id"],
            annual_rate_bp=300,
            value_date=TODAY,
            pin=PIN,
        )
    back = financing.reject_financing(
        p, c.bank, application_id=application["application_id"], reason="no appetite", pin=PIN
    )
    assert back["status"] == "ACTIVE"
    with pytest.raises(RuleViolationError, match="value date"):
        application = financing.apply_financing(
            p,
            c.tier1,
            ticket_id=issued_ticket["id"],
            bank_org_id="bank",
            max_annual_rate_bp=10_000,
            amount_fen=1,
            pin=PIN,
        )
        register(p, c.bank, application["application_id"])
        financing.approve_financing(
            p,
            c.bank,
            application_id=application["application_id"],
            annual_rate_bp=300,
            value_date=MATURITY,
            pin=PIN,
        )


def test_frozen_pieces_are_withheld_then_paid_after_unfreezing(consortium, issued_ticket):
    c, p = consortium, consortium.platform
    root = issued_ticket["id"]
    offer = transfers.offer_transfer(
        p, c.tier1, ticket_id=root, to_org_id="tier2", amount_fen=30_000_000, pin=PIN
    )
    moved = transfers.accept_offer(p, c.tier2, offer["offer_id"], pin=PIN)
    frozen = tickets.freeze_ticket(
        p, c.operator, moved["transferred"]["id"], "court order 2026-001", pin=OPERATOR_PIN
    )
    assert frozen["status"] == "FROZEN"
    with pytest.raises(ForbiddenError):
        tickets.freeze_ticket(p, c.core, moved["remainder"]["id"], "not an operator", pin=PIN)
    with pytest.raises(StateConflictError):
        transfers.offer_transfer(p, c.tier2, ticket_id=frozen["id"], to_org_id="tier3", amount_fen=1, pin=PIN)
    open_offer = transfers.offer_transfer(
        p, c.tier1, ticket_id=moved["remainder"]["id"], to_org_id="tier3", amount_fen=1, pin=PIN
    )

    statement = settlement.settle_ticket(on(p, MATURITY), c.core, root, pin=PIN)
    assert statement["paid"] == [
        {"ticket_id": moved["remainder"]["id"], "holder_org_id": "tier1", "amount_fen": 70_000_000}
    ]
    assert statement["withheld"] == [
        {"ticket_id": frozen["id"], "holder_org_id": "tier2", "amount_fen": 30_000_000}
    ]
    assert statement["cancelled_offer_ids"] == [open_offer["offer_id"]]
    assert statement["total_paid_fen"] + statement["total_withheld_fen"] == 100_000_000

    assert (
        tickets.get_ticket(on(p, MATURITY + dt.timedelta(days=1)), c.core, frozen["id"])["display_status"]
        == "FROZEN"
    )
    tickets.unfreeze_ticket(p, c.operator, frozen["id"], pin=OPERATOR_PIN)
    assert (
        tickets.get_ticket(on(p, MATURITY + dt.timedelta(days=1)), c.core, frozen["id"])["display_status"]
        == "OVERDUE"
    )
    second = settlement.settle_ticket(on(p, MATURITY + dt.timedelta(days=1)), c.core, root, pin=PIN)
    assert second["total_paid_fen"] == 30_000_000 and second["previously_settled_fen"] == 70_000_000
    assert credit.list_credit_lines(p, c.core, "core")[0]["used_fen"] == 0


def test_only_the_issuer_settles(consortium, issued_ticket):
    with pytest.raises(ForbiddenError):
        settlement.settle_ticket(
            on(consortium.platform, MATURITY), consortium.tier1, issued_ticket["id"], pin=PIN
        )
