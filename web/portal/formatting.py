"""Template filters: money per locale (integer fen, never a float) and in Chinese capitals,
dates per locale, member names in the page's language, state colours."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal
from flask import Flask
from flask_babel import get_locale

from goldticket import domain as d

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


def state_class(status: Any) -> str:
    return STATE_CLASS.get(str(status), "closed")


def percent_bp(bp: Any) -> str:
    return format_decimal(Decimal(int(bp)).scaleb(-2), format="0.00", locale=_locale()) + "%"


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(
        money=money, plain=plain, capital=capital, date=date, state_class=state_class, percent_bp=percent_bp
    )
