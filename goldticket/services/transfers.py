"""Transfer with split: offer part or all of a ticket; the payee accepts or rejects."""

from __future__ import annotations

from typing import Any

from goldticket import domain as d

from . import access, dual_control
from .context import Actor
from .platform import Platform


def offer_transfer(
    platform: Platform, holder: Actor, *, ticket_id: str, to_org_id: str, amount_fen: int, pin: str
) -> dict[str, Any]:
    """Returns ``{"offer_id", "ticket"}`` with the ticket LOCKED_TRANSFER."""
    d.require_fen(amount_fen)
    access.require_holder(platform, holder, ticket_id)
    request = {"ticket_id": ticket_id, "to_org_id": to_org_id, "amount_fen": amount_fen}
    return dual_control.submit(platform, holder, "OfferTransfer", request, amount_fen=amount_fen, pin=pin)


def accept_offer(platform: Platform, payee: Actor, offer_id: str, *, pin: str) -> dict[str, Any]:
    """Returns ``{"transferred": ticket, "remainder": ticket or None}``."""
    access.require_offer_party(platform, payee, offer_id, "payee")
    return platform.submit(payee, "AcceptOffer", {"offer_id": offer_id}, pin=pin).result  # type: ignore[no-any-return]


def reject_offer(platform: Platform, payee: Actor, offer_id: str, *, pin: str) -> dict[str, Any]:
    access.require_offer_party(platform, payee, offer_id, "payee")
    return platform.submit(payee, "RejectOffer", {"offer_id": offer_id}, pin=pin).result  # type: ignore[no-any-return]


def cancel_offer(platform: Platform, holder: Actor, offer_id: str, *, pin: str) -> dict[str, Any]:
    access.require_offer_party(platform, holder, offer_id, "holder")
    return platform.submit(holder, "CancelOffer", {"offer_id": offer_id}, pin=pin).result  # type: ignore[no-any-return]
