"""#21: on a ledger bootstrapped with the documents rule (every ledger `goldticket init` makes),
the chaincode refuses a move that does not record its signed document in the same transaction:
an issue without the issuer's payment commitment, a transfer offer without the assignment
agreement and the notice to the debtor, a financing application without the assignment to the
bank. The services always sign them; these requests step around the services, as a client
holding a card could, and change nothing. A ledger bootstrapped before the rule keeps its
history (``ledger verify`` replays it) until the operator turns the rule on, once and for good."""

from __future__ import annotations

import datetime as dt

import pytest
from support import PIN, TODAY, invoice

from goldticket import domain as d
from goldticket.services import financing, members, tickets, transfers

pytestmark = pytest.mark.scenario
MATURITY = (TODAY + dt.timedelta(days=90)).isoformat()


def _issue_request(number: str, amount_fen: int = 10_000) -> dict:
    return {
        "payee_org_id": "tier1",
        "amount_fen": amount_fen,
        "maturity_date": MATURITY,
        "invoices": [invoice(number, amount_fen)],
    }


def _held(consortium, number: str) -> dict:
    issued = tickets.issue_ticket(
        consortium.platform, consortium.core, payee_org_id="tier1", amount_fen=10_000,
        maturity_date=MATURITY, invoices=[invoice(number, 10_000)], pin=PIN,
    )  # fmt: skip
    return tickets.accept_ticket(consortium.platform, consortium.tier1, issued["id"], pin=PIN)


def _pending(platform) -> list[str]:
    return sorted(
        t["id"] for t in platform.evaluate("ListTickets", {"status": "PENDING_ACCEPTANCE"})["items"]
    )


def test_the_ledger_states_that_moves_need_their_documents(consortium):
    rules = consortium.platform.evaluate("GetLedgerRules", {})
    assert rules["documents"] == "required", rules
    assert rules["max_term_months"] == d.DEFAULT_MAX_TERM_MONTHS and rules["environment"] == "test"


def test_an_issue_without_the_payment_commitment_is_refused(consortium):
    platform = consortium.platform
    before = _pending(platform)
    with pytest.raises(d.RuleViolationError, match="payment commitment"):
        platform.submit(consortium.core, "IssueTicket", _issue_request("INV-DR-1"), pin=PIN)
    with pytest.raises(d.RuleViolationError, match="payment commitment"):
        tickets.issue_ticket(
            platform, consortium.core, payee_org_id="tier1", amount_fen=10_000, maturity_date=MATURITY,
            invoices=[invoice("INV-DR-1", 10_000)], pin=PIN, commitment=False,
        )  # fmt: skip
    assert _pending(platform) == before
    # the invoice was not drawn on: the same invoice backs a ticket issued with its commitment
    issued = tickets.issue_ticket(
        platform, consortium.core, payee_org_id="tier1", amount_fen=10_000, maturity_date=MATURITY,
        invoices=[invoice("INV-DR-1", 10_000)], pin=PIN,
    )  # fmt: skip
    assert len(issued["commitment_sha256"]) == 64


def test_an_offer_without_the_agreement_and_notice_is_refused(consortium):
    platform = consortium.platform
    held = _held(consortium, "INV-DR-2")
    request = {"ticket_id": held["id"], "to_org_id": "tier2", "amount_fen": 4_000}
    for missing in ({}, {"agreement_sha256": "a" * 64}, {"notice_sha256": "b" * 64}):
        with pytest.raises((d.RuleViolationError, d.InvalidInputError), match="agreement|notice"):
            platform.submit(consortium.tier1, "OfferTransfer", {**request, **missing}, pin=PIN)
    with pytest.raises(d.RuleViolationError, match="assignment agreement"):
        transfers.offer_transfer(
            platform, consortium.tier1, ticket_id=held["id"], to_org_id="tier2", amount_fen=4_000,
            pin=PIN, documents=False,
        )  # fmt: skip
    ticket = platform.evaluate("GetTicket", {"ticket_id": held["id"]})
    assert (ticket["status"], ticket["amount_fen"]) == ("ACTIVE", 10_000), ticket
    offer = transfers.offer_transfer(
        platform, consortium.tier1, ticket_id=held["id"], to_org_id="tier2", amount_fen=4_000, pin=PIN
    )
    moved = transfers.accept_offer(platform, consortium.tier2, offer["offer_id"], pin=PIN)
    assert moved["transferred"]["amount_fen"] == 4_000


def test_an_application_without_the_assignment_is_refused(consortium):
    platform = consortium.platform
    held = _held(consortium, "INV-DR-3")
    request = {
        "ticket_id": held["id"],
        "bank_org_id": "bank",
        "amount_fen": 10_000,
        "max_annual_rate_bp": 600,
    }
    with pytest.raises(d.RuleViolationError, match="assignment"):
        platform.submit(consortium.tier1, "ApplyFinancing", request, pin=PIN)
    with pytest.raises(d.RuleViolationError, match="assignment"):
        financing.apply_financing(
            platform, consortium.tier1, ticket_id=held["id"], bank_org_id="bank", amount_fen=10_000,
            max_annual_rate_bp=600, pin=PIN, documents=False,
        )  # fmt: skip
    assert platform.evaluate("GetTicket", {"ticket_id": held["id"]})["status"] == "ACTIVE"
    applied = financing.apply_financing(
        platform, consortium.tier1, ticket_id=held["id"], bank_org_id="bank", amount_fen=10_000,
        max_annual_rate_bp=600, pin=PIN,
    )  # fmt: skip
    assert platform.evaluate("GetApplication", {"application_id": applied["application_id"]})[
        "assignment_sha256"
    ]


@pytest.mark.documents_optional
def test_a_ledger_from_before_the_rule_takes_moves_without_documents_until_the_operator_requires_them(
    consortium,
):
    platform, desk = consortium.platform, consortium.platform.desk()
    assert platform.evaluate("GetLedgerRules", {})["documents"] == "optional"
    issued = tickets.issue_ticket(
        platform, consortium.core, payee_org_id="tier1", amount_fen=10_000, maturity_date=MATURITY,
        invoices=[invoice("INV-DR-4", 10_000)], pin=PIN, commitment=False,
    )  # fmt: skip
    assert "commitment_sha256" not in issued
    # nobody but the operator's admin turns the rule on
    for outsider in (consortium.core, consortium.bank, consortium.tier1):
        with pytest.raises(d.ForbiddenError):
            platform.submit(outsider, "RequireDocuments", {}, pin=PIN)
    rules = members.require_documents(platform, desk)
    assert rules["documents"] == "required"
    assert platform.evaluate("GetLedgerRules", {})["documents"] == "required"
    with pytest.raises(d.RuleViolationError, match="payment commitment"):
        platform.submit(consortium.core, "IssueTicket", _issue_request("INV-DR-5"), pin=PIN)
    # once and for good: no request turns it off again
    with pytest.raises(d.StateConflictError, match="already"):
        members.require_documents(platform, desk)
    with pytest.raises(d.StateConflictError, match="bootstrapped"):
        platform.submit(platform.actor("operator"), "Bootstrap", {"id": "operator", "name": "x",
                        "documents": "optional"}, pin=platform.settings.operator_pin)  # fmt: skip
    assert platform.evaluate("GetLedgerRules", {})["documents"] == "required"
    # a ticket issued before the rule moves on: the rule asks documents of new moves
    tickets.accept_ticket(platform, consortium.tier1, issued["id"], pin=PIN)
    offer = transfers.offer_transfer(
        platform, consortium.tier1, ticket_id=issued["id"], to_org_id="tier2", amount_fen=1_000, pin=PIN
    )
    assert offer["ticket"]["status"] == "LOCKED_TRANSFER"
