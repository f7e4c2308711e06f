"""Regressions for what the code review found: each of these once went wrong."""

from __future__ import annotations

import datetime as dt

import pytest
from support import PIN, TODAY, invoice, on, register

from goldticket.domain import RuleViolationError, StateConflictError
from goldticket.services import financing, tickets, transfers

pytestmark = pytest.mark.scenario
MATURITY = TODAY + dt.timedelta(days=90)


def test_rejecting_a_ticket_gives_back_only_what_it_drew_from_each_invoice(consortium):
    c, p = consortium, consortium.platform
    a, b = invoice("INV-A", 100), invoice("INV-B", 100)
    tickets.issue_ticket(
        p, c.core, payee_org_id="tier1", amount_fen=30, maturity_date=MATURITY, invoices=[b], pin=PIN
    )
    t2 = tickets.issue_ticket(
        p, c.core, payee_org_id="tier1", amount_fen=150, maturity_date=MATURITY, invoices=[a, b], pin=PIN
    )
    tickets.reject_ticket(p, c.tier1, t2["id"], "wrong", pin=PIN)
    with pytest.raises(RuleViolationError, match="invoice already used"):
        tickets.issue_ticket(
            p, c.core, payee_org_id="tier2", amount_fen=71, maturity_date=MATURITY, invoices=[b], pin=PIN
        )
    tickets.issue_ticket(
        p, c.core, payee_org_id="tier2", amount_fen=70, maturity_date=MATURITY, invoices=[b], pin=PIN
    )
    tickets.issue_ticket(
        p, c.core, payee_org_id="tier2", amount_fen=100, maturity_date=MATURITY, invoices=[a], pin=PIN
    )


def test_no_backdated_value_date_and_nothing_moves_after_maturity(consortium, issued_ticket):
    c, p = consortium, consortium.platform
    application = financing.apply_financing(
        p,
        c.tier1,
        ticket_id=issued_ticket["id"],
        bank_org_id="bank",
        max_annual_rate_bp=10_000,
        amount_fen=1000,
        pin=PIN,
    )
    register(p, c.bank, application["application_id"])
    with pytest.raises(RuleViolationError, match="value date is in the past"):
        financing.approve_financing(
            on(p, TODAY + dt.timedelta(days=5)),
            c.bank,
            application_id=application["application_id"],
            annual_rate_bp=300,
            value_date=TODAY,
            pin=PIN,
        )
    financing.reject_financing(p, c.bank, application_id=application["application_id"], reason="no", pin=PIN)
    offer = transfers.offer_transfer(
        p, c.tier1, ticket_id=issued_ticket["id"], to_org_id="tier2", amount_fen=5, pin=PIN
    )
    with pytest.raises(RuleViolationError, match="reached maturity"):
        transfers.accept_offer(on(p, MATURITY), c.tier2, offer["offer_id"], pin=PIN)


def test_a_certificate_hash_is_recorded_once_through_the_card(consortium, issued_ticket):
    c, p = consortium, consortium.platform
    desk = p.desk()  # the platform's identity records certificates (issue #17)
    request = {
        "ticket_id": issued_ticket["id"],
        "sha256": "ab" * 32,
        "requested_by": "tier1",
        "requested_by_user": c.tier1.username,
    }
    record = p.submit(
        desk.actor, "RecordCertificate", {**request, "certificate_id": "CT" + "1" * 20}, pin=desk.pin
    )
    assert record.result["ticket_id"] == issued_ticket["id"]
    with pytest.raises(StateConflictError, match="already recorded"):
        p.submit(
            desk.actor, "RecordCertificate", {**request, "certificate_id": "CT" + "2" * 20}, pin=desk.pin
        )


def test_the_operator_sets_the_term_cap_and_lists_by_status(consortium, issued_ticket):
    from goldticket.services import members

    c, p = consortium, consortium.platform
    assert members.set_term_cap(p, p.desk(), 6)["max_term_months"] == 6
    with pytest.raises(RuleViolationError, match="at most 6 months"):
        tickets.issue_ticket(
            p,
            c.core,
            payee_org_id="tier1",
            amount_fen=1,
            maturity_date=TODAY + dt.timedelta(days=200),
            invoices=[invoice("INV-CAP", 1)],
            pin=PIN,
        )
    from goldticket.domain import InvalidInputError

    with pytest.raises(InvalidInputError):
        members.set_term_cap(p, p.desk(), 13)
    active = tickets.list_tickets(p, c.core, status="ACTIVE")
    assert [t["id"] for t in active] == [issued_ticket["id"]]
