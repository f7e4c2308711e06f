"""Payment terms: maturity at least one day and at most the term cap after issue; a term over
six months needs a stated reason, recorded with the ticket (the 2025 rules on supply-chain
receivables: payment terms of at most 6 months in principle, never over a year)."""

from __future__ import annotations

import calendar
import datetime as dt

from .errors import InvalidInputError, RuleViolationError

DEFAULT_MAX_TERM_MONTHS = 12
# Over this many months a term needs a stated reason.
REASON_OVER_MONTHS = 6
REASON_MAX_LENGTH = 500


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later, clamped to the month's end (31 Jan + 1 -> 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def check_term(
    issue_date: dt.date,
    maturity_date: dt.date,
    max_term_months: int = DEFAULT_MAX_TERM_MONTHS,
    reason: str | None = None,
) -> str | None:
    """Raise RuleViolationError unless issue_date < maturity_date <= issue_date + cap, and,
    when the term is over REASON_OVER_MONTHS, unless a reason is stated. Returns the reason
    (stripped), None when none was given; InvalidInputError for a reason that is not text."""
    if not 1 <= max_term_months <= 12:
        raise InvalidInputError("the term cap must be between 1 and 12 months")
    if maturity_date <= issue_date:
        raise RuleViolationError("maturity date must be at least one day after the issue date")
    latest = add_months(issue_date, max_term_months)
    if maturity_date > latest:
        raise RuleViolationError(
            f"maturity date is out of range: at most {max_term_months} months after issue ({latest.isoformat()})"
        )
    if reason is not None:
        if not isinstance(reason, str) or len(reason) > REASON_MAX_LENGTH:
            raise InvalidInputError(f"term_reason is text of at most {REASON_MAX_LENGTH} characters")
        if any(ord(char) < 0x20 for char in reason):
            raise InvalidInputError("term_reason may not contain control characters")
        reason = reason.strip() or None  # blank: not stated
    if maturity_date > add_months(issue_date, REASON_OVER_MONTHS) and not reason:
        raise RuleViolationError(
            f"a payment term over {REASON_OVER_MONTHS} months needs a stated reason (term_reason), "
            f"recorded with the ticket: maturity after {add_months(issue_date, REASON_OVER_MONTHS).isoformat()}"
        )
    return reason
