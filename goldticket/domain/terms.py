"""Payment terms: maturity at least one day and at most the term cap after issue."""

from __future__ import annotations

import calendar
import datetime as dt

from .errors import InvalidInputError, RuleViolationError

DEFAULT_MAX_TERM_MONTHS = 12


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later, clamped to the month's end (31 Jan + 1 -> 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def check_term(
    issue_date: dt.date, maturity_date: dt.date, max_term_months: int = DEFAULT_MAX_TERM_MONTHS
) -> None:
    """Raise RuleViolationError unless issue_date < maturity_date <= issue_date + cap."""
    if not 1 <= max_term_months <= 12:
        raise InvalidInputError("the term cap must be between 1 and 12 months")
    if maturity_date <= issue_date:
        raise RuleViolationError("maturity date must be at least one day after the issue date")
    latest = add_months(issue_date, max_term_months)
    if maturity_date > latest:
        raise RuleViolationError(
            f"maturity date is out of range: at most {max_term_months} months after issue ({latest.isoformat()})"
        )
