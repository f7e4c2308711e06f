"""Template filters: money per locale (integer fen, never a float) and in Chinese capitals,
dates per locale, member names in the page's language, state colours."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal
from flask import Flask
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from goldticket import domain as d
from goldticket.services.context import CHINA

STATE_CLASS = {
    "PENDING_ACCEPTANCE": "pending",
    "ACTIVE": "active",
    "LOCKED_TRANSFER": "locked",
    "LOCKED_FINANCING": "locked",
    "SPLIT": "split",
    "FINANCED": "financed",
    "SETTLED": "settled",
    "REJECTED": "closed",
    "CANCELLED": "closed",
    "FROZEN": "frozen",
    "OVERDUE": "overdue",
}


STATUS_TEXT = {
    "PENDING_ACCEPTANCE": _l("Pending acceptance"),
    "ACTIVE": _l("Active"),
    "LOCKED_TRANSFER": _l("Offered for transfer"),
    "LOCKED_FINANCING": _l("Applied for financing"),
    "SPLIT": _l("Split"),
    "FINANCED": _l("Financed"),
    "SETTLED": _l("Settled"),
    "REJECTED": _l("Rejected"),
    "CANCELLED": _l("Cancelled"),
    "FROZEN": _l("Frozen"),
    "OVERDUE": _l("Overdue"),
}


# the ledger's action codes (chaincode save(..., action)) as the history shows them
ACTION_TEXT = {
    "issue": _l("Issued"),
    "accept": _l("Accepted"),
    "reject": _l("Rejected by the payee"),
    "cancel": _l("Withdrawn by the issuer"),
    "offer_transfer": _l("Offered for transfer"),
    "accept_transfer": _l("Transfer accepted (split)"),
    "rejected_transfer": _l("Transfer offer rejected"),
    "cancelled_transfer": _l("Transfer offer withdrawn"),
    "apply_financing": _l("Applied for financing"),
    "approve_financing": _l("Financing approved (discounted)"),
    "reject_financing": _l("Financing declined"),
    "settle": _l("Settled at maturity"),
    "freeze": _l("Frozen by the operator"),
    "unfreeze": _l("Unfrozen by the operator"),
}
ROLE_TEXT = {
    "core": _l("Core enterprise"),
    "supplier": _l("Supplier"),
    "bank": _l("Bank"),
    "operator": _l("Operator"),
    "admin": _l("Administrator"),
    "clerk": _l("Clerk"),
}
# a user's own card as /me states it (services.self_service)
CARD_TEXT = {
    "awaiting_pin": _l("Waiting for you to choose its PIN"),
    "awaiting_recovery": _l("Replacement: waiting for your PIN"),
    "active": _l("In use"),
    "pending_approval": _l("Waiting for its member admin's approval"),
    "suspended": _l("Suspended (reported lost)"),
    "replaced": _l("Replaced"),
    "eliminated": _l("Eliminated"),
    "revoked": _l("Revoked on the ledger"),
}


def _label(table: dict[str, Any], code: Any) -> str:
    label = table.get(str(code))
    return str(label) if label is not None else str(code)


def action_text(code: Any) -> str:
    return _label(ACTION_TEXT, code)


def role_text(code: Any) -> str:
    return _label(ROLE_TEXT, code)


def card_text(code: Any) -> str:
    return _label(CARD_TEXT, str(code).lower())


def status_text(status: Any) -> str:
    """A state's name in the page's language (one catalog look-up, not one per state)."""
    label = STATUS_TEXT.get(str(status))
    return str(label) if label is not None else str(status)


def _locale() -> str:
    return str(get_locale() or "zh")


def yuan(fen: int) -> Decimal:
    return Decimal(int(fen)).scaleb(-2)  # exact: 123456 -> Decimal("1234.56")


def money(fen: Any) -> str:
    """``¥1,000,000.00`` in either language; exact to the fen."""
    return format_currency(yuan(fen), "CNY", locale=_locale(), format_type="standard")


def plain(fen: Any) -> str:
    """``1,000,000.00`` (for form fields and tables)."""
    return format_decimal(yuan(fen), format="#,##0.00", locale=_locale())


def capital(fen: Any) -> str:
    return d.chinese_capital(int(fen))


def date(value: Any) -> str:
    if not value:
        return ""
    day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
    return format_date(day, "medium", locale=_locale())


def moment(value: Any) -> str:
    """A ledger timestamp (ISO, UTC unless it says otherwise) in China's time (Asia/Shanghai),
    with the page's one date format and the zone: ``2027年4月30日 14:03:05 (UTC+8)``."""
    if not value:
        return ""
    when = dt.datetime.fromisoformat(str(value))
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    local = when.astimezone(CHINA)
    return f"{date(local.date())} {local:%H:%M:%S} (UTC+8)"


def month(value: Any) -> str:
    """A ``YYYY-MM`` month in the page's language (``2027年4月``, ``Apr 2027``)."""
    if not value:
        return ""
    day = dt.date.fromisoformat(f"{str(value)[:7]}-01")
    return format_date(day, "yMMM", locale=_locale())


ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def fact(value: Any) -> Any:
    """A value of a confirmation page's row: a date (or an ISO date) in the page's format."""
    if isinstance(value, dt.date) or (isinstance(value, str) and ISO_DAY.match(value)):
        return date(value)
    return value


def state_class(status: Any) -> str:
    return STATE_CLASS.get(str(status), "closed")


def percent_bp(bp: Any) -> str:
    return format_decimal(Decimal(int(bp)).scaleb(-2), format="0.00", locale=_locale()) + "%"


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(
        money=money,
        plain=plain,
        capital=capital,
        date=date,
        moment=moment,
        month=month,
        fact=fact,
        state_class=state_class,
        percent_bp=percent_bp,
        status_text=status_text,
        action_text=action_text,
        role_text=role_text,
        card_text=card_text,
    )
