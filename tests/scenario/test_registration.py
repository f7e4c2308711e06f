"""#21 registration (中登网) on every ledger: the chaincode refuses an approval without a current
registration of the application, recorded by its own bank (whatever the services check); a
registration expires and is amended by a new record naming the old; the search before funding
shows the other registrations and financings of the same invoices, on other tickets too."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from support import PIN, TODAY, invoice, on, register

from goldticket import domain as d
from goldticket.services import financing, registration, tickets

pytestmark = pytest.mark.scenario
SHARED = invoice("INV-REG-1", 300_000_000)  # backs two tickets of 1,000,000.00 each


def _issue(c, number_of_invoice=SHARED):
    root = tickets.issue_ticket(
        c.platform, c.core, payee_org_id="tier1", amount_fen=100_000_000,
        maturity_date=TODAY + dt.timedelta(days=90), invoices=[number_of_invoice], pin=PIN,
    )  # fmt: skip
    return tickets.accept_ticket(c.platform, c.tier1, root["id"], pin=PIN)


def _apply(c, ticket_id, bank="bank", amount_fen=40_000_000):
    return financing.apply_financing(
        c.platform, c.tier1, ticket_id=ticket_id, bank_org_id=bank, amount_fen=amount_fen,
        max_annual_rate_bp=600, pin=PIN,
    )["application_id"]  # fmt: skip


def _approve(platform, banker, application_id):
    return financing.approve_financing(
        platform,
        banker,
        application_id=application_id,
        annual_rate_bp=500,
        value_date=platform.today(),
        pin=PIN,
    )


def _direct(c, application_id, **change):
    """A RecordRegistration request as a client could sign it, bypassing the services."""
    return {
        "application_id": application_id,
        "registration_number": "ZD-DIRECT",
        "registry": "中登网",
        "registered_on": TODAY.isoformat(),
        "expires_on": (TODAY + dt.timedelta(days=365)).isoformat(),
        "filing_sha256": hashlib.sha256(b"a filing").hexdigest(),
        "invoice_numbers": ["INV-REG-1"],
        **change,
    }


def test_the_chaincode_refuses_an_approval_without_a_registration(consortium):
    c, p = consortium, consortium.platform
    ticket = _issue(c)
    application_id = _apply(c, ticket["id"])
    height = p.ledger.height()
    with pytest.raises(d.RuleViolationError, match="no current registration") as refused:
        _approve(p, c.bank, application_id)
    assert refused.value.code == "rule_violation"
    # nor by a request of the bank's own, straight to the ledger
    request = {"application_id": application_id, "annual_rate_bp": 500, "max_annual_rate_bp": 600,
               "value_date": TODAY.isoformat()}  # fmt: skip
    with pytest.raises(d.RuleViolationError, match="no current registration"):
        p.submit(c.bank, "ApproveFinancing", request, pin=PIN)
    assert p.ledger.height() == height
    assert p.evaluate("GetApplication", {"application_id": application_id})["status"] == "OPEN"
    registered = register(p, c.bank, application_id)
    assert registered["status"] == "current" and registered["invoice_numbers"] == ["INV-REG-1"]
    approved = _approve(p, c.bank, application_id)
    assert approved["financed"]["holder_org_id"] == "bank"


def test_only_the_applications_bank_records_its_registration(consortium):
    c, p = consortium, consortium.platform
    application_id = _apply(c, _issue(c)["id"])
    height = p.ledger.height()
    for actor in (c.factor, c.tier1, c.core):  # another bank, the holder, the issuer
        with pytest.raises(d.ForbiddenError):
            p.submit(actor, "RecordRegistration", _direct(c, application_id), pin=PIN)
    assert p.ledger.height() == height
    # the factor's registration would not let the bank approve anyway: none was written
    with pytest.raises(d.RuleViolationError, match="no current registration"):
        _approve(p, c.bank, application_id)


def test_the_chaincode_checks_a_registration_whatever_a_client_checked(consortium):
    c, p = consortium, consortium.platform
    application_id = _apply(c, _issue(c)["id"])
    height = p.ledger.height()
    for change, code in [
        ({"invoice_numbers": []}, "rule_violation"),  # the filing must describe the ticket's invoices
        ({"invoice_numbers": ["INV-OTHER"]}, "rule_violation"),
        ({"registered_on": (TODAY + dt.timedelta(days=1)).isoformat()}, "rule_violation"),
        ({"expires_on": TODAY.isoformat()}, "invalid_input"),
        ({"filing_sha256": "not a hash"}, "invalid_input"),
        ({"registration_number": " "}, "invalid_input"),
        ({"amends": "RG00000000000000000000"}, "rule_violation"),
    ]:
        with pytest.raises(d.DomainError) as error:
            p.submit(c.bank, "RecordRegistration", _direct(c, application_id, **change), pin=PIN)
        assert error.value.code == code, change
    assert p.ledger.height() == height


def test_the_services_record_only_the_filing_they_prepared(consortium):
    c, p = consortium, consortium.platform
    application_id = _apply(c, _issue(c)["id"])
    filing = registration.prepare_filing(p, c.bank, application_id)
    assert filing["receivable"]["invoices"][0]["number"] == "INV-REG-1"
    assert filing["assignor"]["member_id"] == "tier1" and filing["assignee"]["member_id"] == "bank"
    with pytest.raises(d.ForbiddenError):
        registration.prepare_filing(p, c.factor, application_id)
    with pytest.raises(d.RuleViolationError, match="not the filing prepared"):
        registration.record_registration(
            p, c.bank, application_id=application_id, registration_number="ZD-9", registered_on=TODAY,
            filing_sha256=hashlib.sha256(b"another filing").hexdigest(), pin=PIN,
        )  # fmt: skip
    from goldticket import registry

    recorded = registration.record_registration(
        p, c.bank, application_id=application_id, registration_number="ZD-9", registered_on=TODAY,
        filing_sha256=registry.filing_sha256(filing), pin=PIN,
    )  # fmt: skip
    assert recorded["filing_sha256"] == registry.filing_sha256(filing)


def test_an_expired_registration_is_amended_before_approval(consortium):
    c, p = consortium, consortium.platform
    application_id = _apply(c, _issue(c)["id"])
    first = registration.record_registration(
        p, c.bank, application_id=application_id, registration_number="ZD-SHORT", registered_on=TODAY,
        expires_on=TODAY + dt.timedelta(days=10), pin=PIN,
    )  # fmt: skip
    later = on(p, TODAY + dt.timedelta(days=11))
    with pytest.raises(d.RuleViolationError, match=r"no current registration \(recorded: expired\)"):
        _approve(later, c.bank, application_id)
    listed = registration.registrations(later, c.tier1, application_id)
    assert [item["status"] for item in listed["items"]] == ["expired"] and listed["current"] is None
    amended = registration.record_registration(
        later, c.bank, application_id=application_id, registration_number="ZD-LONG",
        registered_on=later.today(), amends=first["registration_id"], pin=PIN,
    )  # fmt: skip
    assert amended["amends"] == first["registration_id"]
    listed = registration.registrations(later, c.bank, application_id)
    statuses = {item["registration_number"]: item["status"] for item in listed["items"]}
    assert statuses == {"ZD-SHORT": "amended", "ZD-LONG": "current"}
    assert listed["current"] == amended["registration_id"]
    with pytest.raises(d.StateConflictError, match="already amended"):
        registration.record_registration(
            later, c.bank, application_id=application_id, registration_number="ZD-THIRD",
            registered_on=later.today(), amends=first["registration_id"], pin=PIN,
        )  # fmt: skip
    assert _approve(later, c.bank, application_id)["financed"]["holder_org_id"] == "bank"
    # a registration is recorded only while the application is open
    with pytest.raises(d.StateConflictError, match="not open"):
        register(later, c.bank, application_id, number="ZD-AFTER")
    # and only its holder, its bank and the operator read it
    with pytest.raises(d.NotFoundError):
        registration.registrations(p, c.factor, application_id)


def test_search_before_funding_shows_the_same_invoices_on_other_tickets(consortium):
    c, p = consortium, consortium.platform
    first = _issue(c)
    second = _issue(c)  # another ticket on the same invoice document
    unrelated = _issue(c, invoice("INV-REG-OTHER", 100_000_000))
    funded = _apply(c, first["id"])
    register(p, c.bank, funded, number="ZD-FIRST")
    _approve(p, c.bank, funded)
    _apply(c, unrelated["id"], bank="factor")
    asked = _apply(c, second["id"], bank="factor")
    found = registration.search_before_funding(p, c.factor, asked)
    assert [item["registration_number"] for item in found["registrations"]] == ["ZD-FIRST"]
    assert found["registrations"][0]["ticket_id"] == first["id"]
    assert [(item["application_id"], item["status"]) for item in found["financings"]] == [
        (funded, "APPROVED")
    ]
    assert found["financings"][0]["invoice_numbers"] == ["INV-REG-1"]
    assert found["own"]["items"] == []
    # the same search by invoice number; a supplier does not search
    by_number = registration.search(p, c.bank, ["inv-reg-1"])
    assert {item["application_id"] for item in by_number["financings"]} == {funded, asked}
    with pytest.raises(d.ForbiddenError):
        registration.search(p, c.tier1, ["INV-REG-1"])
    with pytest.raises(d.ForbiddenError):
        registration.search_before_funding(p, c.bank, asked)  # not the bank's application


def test_the_chaincode_lets_only_banks_search_and_checks_the_numbers(consortium, tier1_key):
    """Whatever the services check: a supplier's own identity is refused the search; a search
    names 1 to 50 invoice numbers."""
    p = consortium.platform
    with pytest.raises(Exception, match="forbidden"):
        p.contract.evaluate(tier1_key, "SearchRegistrations", {"invoice_numbers": ["INV-REG-1"]})
    for numbers in ([], None, "INV-REG-1", [""], ["N"] * 51):
        with pytest.raises(d.InvalidInputError):
            p.evaluate("SearchRegistrations", {"invoice_numbers": numbers})
    assert p.evaluate("SearchRegistrations", {"invoice_numbers": ["N"] * 50})["registrations"] == []
