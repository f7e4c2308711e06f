"""Settlement at maturity: the issuer pays every live piece of a root ticket."""

from __future__ import annotations

from typing import Any

from . import access, dual_control
from .context import Actor
from .platform import Platform


def settle_ticket(platform: Platform, issuer: Actor, root_id: str, *, pin: str) -> dict[str, Any]:
    """Returns the clearing statement: ``statement_id``, ``paid``, ``withheld``, ``total_paid_fen``."""
    access.require_issuer(platform, issuer, root_id)
    amount_fen = int(access.ticket(platform, root_id)["amount_fen"])
    return dual_control.submit(
        platform, issuer, "SettleTicket", {"root_id": root_id}, amount_fen=amount_fen, pin=pin
    )
