"""#21 registration rules (中登网): who records, when a registration is current, amendment and
expiry, and that approval needs a current one."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from goldticket import domain as d

pytestmark = pytest.mark.unit
TODAY = dt.date(2026, 12, 1)
SHA = hashlib.sha256(b"filing").hexdigest()
TICKET = d.Ticket.from_dict(
    {
        "id": "TK1",
        "root_id": "TK1",
        "parent_id": None,
        "issuer_org_id": "core",
        "holder_org_id": "tier1",
        "amount_fen": 1000,
        "issue_date": "2026-11-01",
        "maturity_date": "2027-02-01",
        "status": "LOCKED_FINANCING",
        "invoices": [
            {"number": "INV-1", "amount_fen": 600, "sha256": "a" * 64},
            {"number": "INV-2", "amount_fen": 400, "sha256": "b" * 64},
        ],
        "tx_id": "t",
    }
)
APPLICATION = {"id": "FA1", "ticket_id": "TK1", "holder_org_id": "tier1", "bank_org_id": "bank",
               "amount_fen": 500, "status": "OPEN"}  # fmt: skip


def request(**change):
    return {
        "registration_number": "ZD-1",
        "registered_on": "2026-12-01",
        "expires_on": "2027-12-01",
        "filing_sha256": SHA,
        "invoice_numbers": ["INV-2", "inv-1"],
        **change,
    }


def record(existing=(), by="bank", registration_id="RG1", today=TODAY, application=APPLICATION, **change):
    return d.record_registration(
        registration_id=registration_id, application=application, ticket=TICKET, by_org_id=by,
        request=request(**change), existing=list(existing), today=today, tx_id="tx" + registration_id,
    )  # fmt: skip


def test_a_registration_records_what_the_bank_obtained():
    made, amended = record()
    assert amended is None
    assert made["registry"] == d.DEFAULT_REGISTRY
    assert made["invoice_numbers"] == ["INV-1", "INV-2"]  # the ticket's, normalised
    assert (made["registered_on"], made["expires_on"], made["filing_sha256"]) == (
        "2026-12-01",
        "2027-12-01",
        SHA,
    )
    assert d.registration_status(made, TODAY) == "current"
    assert d.require_current_registration("FA1", [made], TODAY) == made


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"by": "factor"}, d.ForbiddenError),  # not the application's bank
        ({"application": {**APPLICATION, "status": "APPROVED"}}, d.StateConflictError),
        ({"registration_number": ""}, d.InvalidInputError),
        ({"registered_on": "2026-12-02"}, d.RuleViolationError),  # a date still to come
        ({"expires_on": "2026-12-01"}, d.InvalidInputError),  # not after the registration
        ({"registered_on": "2025-01-01", "expires_on": "2026-11-30"}, d.RuleViolationError),  # expired
        ({"expires_on": "2057-12-01"}, d.InvalidInputError),  # over 30 years
        ({"filing_sha256": "F" * 64}, d.InvalidInputError),
        ({"invoice_numbers": ["INV-1"]}, d.RuleViolationError),  # leaves one out
        ({"invoice_numbers": ["INV-1", "INV-2", "INV-3"]}, d.RuleViolationError),
        ({"invoice_numbers": "INV-1"}, d.InvalidInputError),
        ({"amends": "RG9"}, d.RuleViolationError),  # nothing of this application to amend
    ],
)
def test_a_registration_is_refused(change, error):
    kwargs = {key: change.pop(key) for key in ("by", "application") if key in change}
    with pytest.raises(error):
        record(**kwargs, **change)


def test_the_same_number_twice_is_a_conflict():
    first, _ = record()
    with pytest.raises(d.StateConflictError):
        record([first], registration_id="RG2")


def test_an_amendment_replaces_the_registration_it_names_once():
    first, _ = record()
    second, replaced = record([first], registration_id="RG2", registration_number="ZD-2", amends="RG1")
    assert replaced == {**first, "amended_by": "RG2"}
    assert second["amends"] == "RG1"
    assert d.registration_status(replaced, TODAY) == "amended"
    assert d.require_current_registration("FA1", [replaced, second], TODAY) == second
    with pytest.raises(d.StateConflictError, match="already amended"):
        record([replaced, second], registration_id="RG3", registration_number="ZD-3", amends="RG1")


def test_approval_needs_a_current_registration():
    with pytest.raises(d.RuleViolationError, match="no current registration"):
        d.require_current_registration("FA1", [], TODAY)
    made, _ = record()
    after_expiry = dt.date(2027, 12, 2)
    assert d.registration_status(made, after_expiry) == "expired"
    with pytest.raises(d.RuleViolationError, match=r"recorded: expired"):
        d.require_current_registration("FA1", [made], after_expiry)
    assert d.registration_status(made, dt.date(2027, 12, 1)) == "current"  # the last day counts
    assert d.registration_status(made, dt.date(2026, 11, 30)) == "pending"


def test_the_default_expiry_is_the_term_after_registration_and_29_february_falls_to_28() -> None:
    from goldticket.domain.registration import default_expiry

    assert default_expiry(dt.date(2026, 12, 5)) == dt.date(2027, 12, 5)
    assert default_expiry(dt.date(2028, 2, 29)) == dt.date(2029, 2, 28)
    assert default_expiry(dt.date(2028, 2, 29), 4) == dt.date(2032, 2, 29)
