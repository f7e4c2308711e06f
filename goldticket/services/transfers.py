"""Transfer with split: offer part or all of a ticket; the payee accepts or rejects."""

from __future__ import annotations

from typing import Any

from goldticket import domain as d

from . import access, dual_control, signed_documents
from .context import Actor
from .platform import Platform


def offer_transfer(
    platform: Platform,
    holder: Actor,
    *,
    ticket_id: str,
    to_org_id: str,
    amount_fen: int,
    pin: str,
    documents: bool = True,
) -> dict[str, Any]:
    """Returns ``{"offer_id", "ticket"}`` with the ticket LOCKED_TRANSFER. With ``documents``
    (#21), the assignment agreement (债权转让协议) and the notice to the debtor (债权转让通知) are
    signed by the holder's card first and their SHA-256 recorded with the offer
    (services.signed_documents)."""
    d.require_fen(amount_fen)
    access.require_holder(platform, holder, ticket_id)
    request: dict[str, Any] = {"ticket_id": ticket_id, "to_org_id": to_org_id, "amount_fen": amount_fen}
    if documents:
        ticket = access.ticket(platform, ticket_id)
        request |= signed_documents.transfer_documents(
            platform,
            holder,
            pin=pin,
            ticket=ticket,
            to_org_id=d.require_text(to_org_id, "to_org_id", 64),
            amount_fen=amount_fen,
        )
    return dual_control.submit(platform, holder, "OfferTransfer", request, amount_fen=amount_fen, pin=pin)


def accept_offer(platform: Platform, payee: Actor, offer_id: str, *, pin: str) -> dict[str, Any]:
    """Returns ``{"transferred": ticket, "remainder": ticket or None}``. An offer with an
    assignment agreement (#21) is accepted with the agreement countersigned by the payee's card;
    the notice to the debtor is recorded as delivered by the same transaction."""
    access.require_offer_party(platform, payee, offer_id, "payee")
    offer = platform.lookup("offer", offer_id)
    request: dict[str, Any] = {"offer_id": offer_id}
    if offer.get("agreement_sha256") and offer.get("status") == "OPEN":
        request["countersigned_sha256"] = signed_documents.countersign_agreement(
            platform, payee, pin=pin, offer=offer
        )
    return platform.submit(payee, "AcceptOffer", request, pin=pin).result  # type: ignore[no-any-return]


def reject_offer(platform: Platform, payee: Actor, offer_id: str, *, pin: str) -> dict[str, Any]:
    access.require_offer_party(platform, payee, offer_id, "payee")
    return platform.submit(payee, "RejectOffer", {"offer_id": offer_id}, pin=pin).result  # type: ignore[no-any-return]


def cancel_offer(platform: Platform, holder: Actor, offer_id: str, *, pin: str) -> dict[str, Any]:
    access.require_offer_party(platform, holder, offer_id, "holder")
    return platform.submit(holder, "CancelOffer", {"offer_id": offer_id}, pin=pin).result  # type: ignore[no-any-return]
