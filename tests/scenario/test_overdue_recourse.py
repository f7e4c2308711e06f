"""#21 overdue and recourse on every ledger. A piece unpaid after maturity plus its root's grace
days is marked OVERDUE (by its holder or the operator, never before: the chaincode takes the
date from the transaction, and refuses even when the services are bypassed); its holder demands
payment of the issuer, of earlier holders only where the financing was with recourse; a demand
on a paid piece is refused; a demand is closed as paid or written off."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from support import OPERATOR_PIN, PIN, TODAY, on, register

from goldticket import domain as d
from goldticket.services import financing, recourse, settlement, tickets

pytestmark = pytest.mark.scenario
SHA = hashlib.sha256(b"a demand document").hexdigest()


@pytest.fixture
def overdue_tree(consortium):
    """A root of 1,000,000.00 (core -> tier1, 5 grace days): 300,000.00 financed by ``bank``
    with recourse (F), 200,000.00 by ``factor`` without (G), 500,000.00 left with tier1 (R);
    settled at maturity; the bank booked all of R and half of G, nothing of F."""
    c = consortium
    root = tickets.issue_ticket(
        c.platform, c.core, payee_org_id="tier1", amount_fen=100_000_000,
        maturity_date=TODAY + dt.timedelta(days=90), invoices=[_invoice()], grace_days=5, pin=PIN,
    )  # fmt: skip
    assert root["grace_days"] == 5
    tickets.accept_ticket(c.platform, c.tier1, root["id"], pin=PIN)

    def finance(ticket_id, bank, amount_fen, with_recourse):
        applied = financing.apply_financing(
            c.platform, c.tier1, ticket_id=ticket_id, bank_org_id=bank.member_id, amount_fen=amount_fen,
            max_annual_rate_bp=600, recourse=with_recourse, pin=PIN,
        )  # fmt: skip
        application = c.platform.evaluate("GetApplication", {"application_id": applied["application_id"]})
        assert application["recourse"] is with_recourse
        register(c.platform, bank, applied["application_id"])
        return financing.approve_financing(
            c.platform, bank, application_id=applied["application_id"], annual_rate_bp=500, value_date=TODAY,
            pin=PIN,
        )  # fmt: skip

    first = finance(root["id"], c.bank, 30_000_000, True)
    second = finance(first["remainder"]["id"], c.factor, 20_000_000, False)
    f, g, r = first["financed"]["id"], second["financed"]["id"], second["remainder"]["id"]
    maturity = TODAY + dt.timedelta(days=90)
    statement = settlement.settle_ticket(on(c.platform, maturity), c.core, root["id"], pin=PIN)
    booked = [
        {
            "ticket_id": r,
            "amount_fen": 50_000_000,
            "bank_reference": "B-R",
            "booked_on": maturity.isoformat(),
        },
        {
            "ticket_id": g,
            "amount_fen": 10_000_000,
            "bank_reference": "B-G",
            "booked_on": maturity.isoformat(),
        },
    ]
    request = {"root_id": root["id"], "statement_id": statement["statement_id"], "entries": booked}
    c.platform.submit(c.core, "RecordBankPayments", request, pin=PIN)
    return {"root": root["id"], "F": f, "G": g, "R": r, "maturity": maturity, "statement": statement}


def _invoice():
    return {
        "number": "INV-OD-1",
        "amount_fen": 100_000_000,
        "sha256": hashlib.sha256(b"INV-OD-1").hexdigest(),
    }


def _mark(platform, actor, ticket_id, pin=PIN):
    return platform.submit(actor, "MarkOverdue", {"ticket_id": ticket_id}, pin=pin).result


def test_overdue_only_after_maturity_plus_grace_by_the_ledgers_date(consortium, overdue_tree) -> None:
    c, t = consortium, overdue_tree
    last_grace_day = on(c.platform, t["maturity"] + dt.timedelta(days=5))
    # the services bypassed: the chaincode refuses by the transaction's date
    with pytest.raises(d.RuleViolationError, match="not overdue"):
        _mark(last_grace_day, c.bank, t["F"])
    late = on(c.platform, t["maturity"] + dt.timedelta(days=6))
    with pytest.raises(d.ForbiddenError):  # not its holder
        _mark(late, c.tier1, t["F"])
    with pytest.raises(d.RuleViolationError, match="paid in full"):
        _mark(late, c.tier1, t["R"])
    marked = recourse.mark_overdue(late, c.bank, t["F"], pin=PIN)
    assert (marked["status"], marked["unpaid_fen"], marked["grace_days"]) == ("OVERDUE", 30_000_000, 5)
    with pytest.raises(d.StateConflictError, match="already"):
        _mark(late, c.bank, t["F"])
    # the operator may mark a piece too
    by_operator = recourse.mark_overdue(late, c.operator, t["G"], pin=OPERATOR_PIN)
    assert by_operator["unpaid_fen"] == 10_000_000
    listed = {item["ticket_id"] for item in recourse.list_overdue(late, c.core)}
    assert listed == {t["F"], t["G"]}
    assert {item["ticket_id"] for item in recourse.list_overdue(late, c.bank)} == {t["F"]}
    assert recourse.list_overdue(late, c.tier2) == []


def test_demands_follow_recourse_and_close(consortium, overdue_tree) -> None:
    c, t = consortium, overdue_tree
    late = on(c.platform, t["maturity"] + dt.timedelta(days=6))
    recourse.mark_overdue(late, c.bank, t["F"], pin=PIN)
    recourse.mark_overdue(late, c.factor, t["G"], pin=PIN)
    with_recourse = recourse.overdue_detail(late, c.bank, t["F"])["obligors"]
    assert with_recourse == {"core": "issuer", "tier1": "recourse"}
    assert recourse.overdue_detail(late, c.factor, t["G"])["obligors"] == {"core": "issuer"}

    def demand(actor, ticket_id, obligor, amount_fen):
        request = {
            "ticket_id": ticket_id,
            "obligor_org_id": obligor,
            "amount_fen": amount_fen,
            "document_sha256": SHA,
        }
        return late.submit(actor, "DemandPayment", request, pin=PIN).result

    # not on a piece never marked overdue; no demand closed that was never made
    with pytest.raises(d.StateConflictError, match="not marked overdue"):
        demand(c.tier1, t["R"], "core", 1)
    with pytest.raises(d.NotFoundError):
        late.submit(
            c.bank,
            "CloseDemand",
            {"ticket_id": t["F"], "demand_id": "DM0000", "outcome": "written_off"},
            pin=PIN,
        )
    # a non-holder cannot demand; not from an earlier holder without recourse; not more than unpaid
    with pytest.raises(d.ForbiddenError, match="only the holder"):
        demand(c.tier1, t["F"], "core", 1)
    with pytest.raises(d.ForbiddenError, match="not liable"):
        demand(c.factor, t["G"], "tier1", 1)
    with pytest.raises(d.ForbiddenError, match="not liable"):
        demand(c.bank, t["F"], "tier2", 1)
    with pytest.raises(d.RuleViolationError, match="unpaid"):
        demand(c.factor, t["G"], "core", 10_000_001)

    # through the services: a signed demand document whose hash is on the ledger
    made = recourse.demand_payment(late, c.bank, t["F"], obligor_org_id="tier1", pin=PIN)
    assert (made["amount_fen"], made["basis"], made["status"]) == (30_000_000, "recourse", "OPEN")
    document = recourse.demand_pdf(late, c.tier1, t["F"], made["demand_id"])
    assert document.startswith(b"%PDF") and hashlib.sha256(document).hexdigest() == made["document_sha256"]
    with pytest.raises(d.NotFoundError):
        recourse.demand_pdf(late, c.tier2, t["F"], made["demand_id"])

    # the issuer's bank books F in full: a new demand on the paid piece is refused, the open one closes
    later = on(c.platform, t["maturity"] + dt.timedelta(days=8))
    paid = {
        "ticket_id": t["F"],
        "amount_fen": 30_000_000,
        "bank_reference": "B-F",
        "booked_on": later.today().isoformat(),
    }
    request = {"root_id": t["root"], "statement_id": t["statement"]["statement_id"], "entries": [paid]}
    later.submit(c.core, "RecordBankPayments", request, pin=PIN)
    with pytest.raises(d.RuleViolationError, match="paid in full"):
        later.submit(
            c.bank, "DemandPayment",
            {"ticket_id": t["F"], "obligor_org_id": "core", "amount_fen": 1, "document_sha256": SHA}, pin=PIN,
        )  # fmt: skip
    closed = recourse.close_demand(later, c.tier1, t["F"], made["demand_id"], outcome="paid", pin=PIN)
    assert (closed["status"], closed["paid_by"]) == ("PAID", "bank")

    # G: the obligor's word does not close a claim; the holder confirms a payment or writes off
    on_g = recourse.demand_payment(later, c.factor, t["G"], obligor_org_id="core", pin=PIN)
    assert on_g["amount_fen"] == 10_000_000
    with pytest.raises(d.ForbiddenError, match="own word"):
        later.submit(
            c.core, "CloseDemand",
            {"ticket_id": t["G"], "demand_id": on_g["demand_id"], "outcome": "paid", "payment_reference": "X"},
            pin=PIN,
        )  # fmt: skip
    with pytest.raises(d.ForbiddenError, match="writes off"):
        later.submit(
            c.core, "CloseDemand", {"ticket_id": t["G"], "demand_id": on_g["demand_id"], "outcome": "written_off"},
            pin=PIN,
        )  # fmt: skip
    confirmed = recourse.close_demand(
        later, c.factor, t["G"], on_g["demand_id"], outcome="paid", payment_reference="WIRE-7", pin=PIN
    )
    assert confirmed["paid_by"] == "obligor"
    detail = recourse.overdue_detail(later, c.factor, t["G"])
    assert (detail["unpaid_fen"], detail["overdue"]["recovered_fen"], detail["bank_paid_fen"]) == (
        0,
        10_000_000,
        10_000_000,
    )
    with pytest.raises(d.RuleViolationError, match="paid in full"):
        recourse.demand_payment(later, c.factor, t["G"], obligor_org_id="core", pin=PIN)


def _text(document: bytes) -> str:
    import io
    import re

    from pypdf import PdfReader

    return re.sub(r"\s+", "", "".join(page.extract_text() for page in PdfReader(io.BytesIO(document)).pages))


def test_the_statement_and_certificates_show_the_recourse_choice(consortium, overdue_tree) -> None:
    from goldticket.services import certificates

    c, t = consortium, overdue_tree
    statement = certificates.statement_pdf(c.platform, c.core, t["root"], t["statement"]["statement_id"])
    text = _text(statement)
    assert text.count("有追索Withrecourse") == 1 and text.count("无追索Withoutrecourse") == 1
    assert "有追索Withrecourse" in _text(certificates.issue_certificate(c.platform, c.bank, t["F"]).pdf)
    assert "无追索Withoutrecourse" in _text(certificates.issue_certificate(c.platform, c.factor, t["G"]).pdf)
    # R was never financed: no recourse row
    assert "Financingrecourse" not in _text(certificates.issue_certificate(c.platform, c.tier1, t["R"]).pdf)


def test_a_bank_payment_after_a_confirmed_recovery_never_pays_more_than_the_piece(
    consortium, overdue_tree
) -> None:
    c, t = consortium, overdue_tree
    late = on(c.platform, t["maturity"] + dt.timedelta(days=6))
    recourse.mark_overdue(late, c.factor, t["G"], pin=PIN)
    made = recourse.demand_payment(
        late, c.factor, t["G"], obligor_org_id="core", amount_fen=4_000_000, pin=PIN
    )
    recourse.close_demand(
        late, c.factor, t["G"], made["demand_id"], outcome="paid", payment_reference="W", pin=PIN
    )
    # G: 10,000,000 booked by the bank, 4,000,000 recovered: 6,000,000 left
    entry = {"ticket_id": t["G"], "bank_reference": "B-G2", "booked_on": late.today().isoformat()}
    request = {"root_id": t["root"], "statement_id": t["statement"]["statement_id"]}
    with pytest.raises(d.RuleViolationError, match="confirmed"):
        late.submit(
            c.core,
            "RecordBankPayments",
            {**request, "entries": [{**entry, "amount_fen": 6_000_001}]},
            pin=PIN,
        )
    late.submit(
        c.core, "RecordBankPayments", {**request, "entries": [{**entry, "amount_fen": 6_000_000}]}, pin=PIN
    )
    assert recourse.overdue_detail(late, c.factor, t["G"])["unpaid_fen"] == 0
