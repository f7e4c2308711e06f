"""Financing (discount) with a bank, and the quote that shows its figures beforehand."""

from __future__ import annotations

import datetime as dt
from typing import Any

from goldticket import domain as d

from . import access
from .context import Actor
from .platform import Platform


def quote(
    *,
    amount_fen: int,
    annual_rate_bp: int,
    value_date: dt.date | str,
    maturity_date: dt.date | str,
    day_basis: int = 360,
    fee_bp: int = 0,
) -> d.DiscountQuote:
    """The same computation as approval: days, discount interest, fee and proceeds."""
    return d.quote_discount(
        amount_fen=amount_fen,
        annual_rate_bp=annual_rate_bp,
        value_date=d.parse_date(value_date, "value_date"),
        maturity_date=d.parse_date(maturity_date, "maturity_date"),
        day_basis=day_basis,
        fee_bp=fee_bp,
    )


def apply_financing(
    platform: Platform, holder: Actor, *, ticket_id: str, bank_org_id: str, amount_fen: int, pin: str
) -> dict[str, Any]:
    """Returns ``{"application_id", "ticket"}`` with the ticket LOCKED_FINANCING."""
    d.require_fen(amount_fen)
    access.require_holder(platform, holder, ticket_id)
    request = {"ticket_id": ticket_id, "bank_org_id": bank_org_id, "amount_fen": amount_fen}
    return platform.submit(holder, "ApplyFinancing", request, pin=pin).result  # type: ignore[no-any-return]


def approve_financing(
    platform: Platform,
    banker: Actor,
    *,
    application_id: str,
    annual_rate_bp: int,
    value_date: dt.date | str,
    pin: str,
) -> dict[str, Any]:
    """Returns the quote figures plus ``financed`` and ``remainder`` tickets."""
    access.require_application_bank(platform, banker, application_id)
    request = {
        "application_id": application_id,
        "annual_rate_bp": annual_rate_bp,
        "value_date": d.parse_date(value_date, "value_date").isoformat(),
    }
    return platform.submit(banker, "ApproveFinancing", request, pin=pin).result  # type: ignore[no-any-return]


def reject_financing(
    platform: Platform, banker: Actor, *, application_id: str, reason: str, pin: str
) -> dict[str, Any]:
    access.require_application_bank(platform, banker, application_id)
    request = {"application_id": application_id, "reason": reason}
    return platform.submit(banker, "RejectFinancing", request, pin=pin).result  # type: ignore[no-any-return]
