"""Registration of a financing (#21, 中登网: 动产融资统一登记公示系统). Before a bank's approval
commits, the financing must have a current registration: a record by the financing bank of the
registration number the registry gave, the registry, the dates it was registered and expires,
the SHA-256 of the filing it filed and the invoice numbers the filing describes. A registration
is amended by a new record naming the one it replaces; the replaced one is no longer current.
Pure rules over plain dicts: the chaincode stores them (kinds ``registration`` and
``registration_invoice``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from .errors import ForbiddenError, InvalidInputError, RuleViolationError, StateConflictError
from .kyc import require_sha256
from .ticket import Ticket, normalise_invoice_number, parse_date, require_text

DEFAULT_REGISTRY = "中登网"
MAX_TERM_YEARS = 30  # the registry's own limit on a registration's term
DEFAULT_TERM_YEARS = 1  # a registration's term when the bank states none (the registry allows 1-30)


def default_expiry(registered_on: dt.date, term_years: int = DEFAULT_TERM_YEARS) -> dt.date:
    """``term_years`` after ``registered_on`` (28 February for a 29 February in another year)."""
    try:
        return registered_on.replace(year=registered_on.year + term_years)
    except ValueError:  # 29 February
        return registered_on.replace(year=registered_on.year + term_years, day=28)


def require_invoice_numbers(value: Any, ticket: Ticket) -> list[str]:
    """The invoice numbers a filing describes: exactly the ticket's, in its order (a filing that
    leaves one out does not cover the receivable). InvalidInputError / RuleViolationError."""
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InvalidInputError("invoice_numbers must be a list of invoice numbers")
    expected = [invoice.number for invoice in ticket.invoices]
    if sorted(normalise_invoice_number(item) for item in value) != sorted(expected):
        raise RuleViolationError(
            f"the filing must describe the ticket's invoices ({', '.join(expected)}), "
            f"not {', '.join(value) or 'none'}"
        )
    return expected


def record_registration(
    *,
    registration_id: str,
    application: dict[str, Any],
    ticket: Ticket,
    by_org_id: str,
    request: dict[str, Any],
    existing: list[dict[str, Any]],
    today: dt.date,
    tx_id: str,
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The registration record the financing bank files for ``application``, and the record it
    amends (marked replaced) or None. The caller's role is checked by the chaincode; here:
    ForbiddenError unless the bank is the application's; StateConflictError when the application
    is no longer open, the number is already recorded or the amended registration was amended
    already; InvalidInputError / RuleViolationError for bad or expired dates, a hash that is not
    one, invoice numbers that are not the ticket's, an amendment of nothing of this application."""
    if application["bank_org_id"] != by_org_id:
        raise ForbiddenError(f"only the bank of application {application['id']} registers its financing")
    if application["status"] != "OPEN":
        raise StateConflictError(f"application {application['id']} is {application['status']}, not open")
    number = require_text(request.get("registration_number"), "registration_number", 64)
    registry = require_text(request.get("registry") or DEFAULT_REGISTRY, "registry", 100)
    registered_on = parse_date(request.get("registered_on"), "registered_on")
    expires_on = parse_date(request.get("expires_on"), "expires_on")
    if registered_on > today:
        raise RuleViolationError(f"registered_on {registered_on} is after today ({today})")
    if expires_on <= registered_on:
        raise InvalidInputError("expires_on must be after registered_on")
    if expires_on.year - registered_on.year > MAX_TERM_YEARS:
        raise InvalidInputError(f"a registration's term is at most {MAX_TERM_YEARS} years")
    if expires_on < today:
        raise RuleViolationError(f"registration {number} expired on {expires_on}")
    filing_sha256 = require_sha256(request.get("filing_sha256"), "filing_sha256")
    invoice_numbers = require_invoice_numbers(request.get("invoice_numbers"), ticket)
    if any(item["registration_number"] == number and item["registry"] == registry for item in existing):
        raise StateConflictError(f"registration {number} is already recorded for this financing")
    amended = None
    amends = request.get("amends")
    if amends is not None:
        amends = require_text(amends, "amends", 64)
        found = [item for item in existing if item["registration_id"] == amends]
        if not found:
            raise RuleViolationError(f"no registration {amends} of application {application['id']} to amend")
        if found[0].get("amended_by"):
            raise StateConflictError(f"registration {amends} was already amended by {found[0]['amended_by']}")
        amended = {**found[0], "amended_by": registration_id}
    record = {
        "registration_id": registration_id,
        "application_id": application["id"],
        "ticket_id": ticket.id,
        "root_id": ticket.root_id,
        "bank_org_id": by_org_id,
        "holder_org_id": application["holder_org_id"],
        "amount_fen": application["amount_fen"],
        "registration_number": number,
        "registry": registry,
        "registered_on": registered_on.isoformat(),
        "expires_on": expires_on.isoformat(),
        "filing_sha256": filing_sha256,
        "invoice_numbers": invoice_numbers,
        "amends": amends,
        "amended_by": None,
        "recorded_on": today.isoformat(),
        "tx_id": tx_id,
    }
    return record, amended


def registration_status(record: dict[str, Any], today: dt.date) -> str:
    """ "amended" (replaced by a later record), "expired" (past its expiry date), "pending" (its
    registration date is still to come) or "current"."""
    if record.get("amended_by"):
        return "amended"
    if dt.date.fromisoformat(record["expires_on"]) < today:
        return "expired"
    if dt.date.fromisoformat(record["registered_on"]) > today:
        return "pending"
    return "current"


def current_registration(registrations: list[dict[str, Any]], today: dt.date) -> dict[str, Any] | None:
    """The application's current registration (the latest recorded), or None."""
    current = [item for item in registrations if registration_status(item, today) == "current"]
    return max(current, key=lambda item: item["recorded_on"] + item["tx_id"]) if current else None


def require_current_registration(
    application_id: str, registrations: list[dict[str, Any]], today: dt.date
) -> dict[str, Any]:
    """The current registration, or RuleViolationError: approval needs one (中登网)."""
    current = current_registration(registrations, today)
    if current is None:
        states = sorted({registration_status(item, today) for item in registrations})
        detail = f" (recorded: {', '.join(states)})" if states else ""
        raise RuleViolationError(
            f"application {application_id} has no current registration{detail}: "
            "record the financing's registration (中登网) before approving"
        )
    return current


def with_status(record: dict[str, Any], today: dt.date) -> dict[str, Any]:
    return {**record, "status": registration_status(record, today)}
