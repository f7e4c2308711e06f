"""Tickets: issue, accept, reject, cancel, freeze, and read them back."""

from __future__ import annotations

import datetime as dt
from typing import Any

from goldticket import domain as d

from . import access
from .platform import Actor, Platform


def _result(receipt: Any) -> dict[str, Any]:
    return receipt.result  # type: ignore[no-any-return]


def issue_ticket(
    platform: Platform,
    clerk: Actor,
    *,
    payee_org_id: str,
    amount_fen: int,
    maturity_date: dt.date | str,
    invoices: list[dict[str, Any]],
    pin: str,
) -> dict[str, Any]:
    """A core-enterprise clerk issues a ticket to a supplier; it waits for acceptance."""
    d.require_fen(amount_fen)
    maturity = d.parse_date(maturity_date, "maturity_date")
    for invoice in invoices:
        d.Invoice.from_dict(invoice)
    access.require_member_role(platform, clerk, "core")
    request = {
        "payee_org_id": payee_org_id,
        "amount_fen": amount_fen,
        "maturity_date": maturity.isoformat(),
        "invoices": invoices,
    }
    return _result(platform.submit(clerk, "IssueTicket", request, pin=pin))


def accept_ticket(platform: Platform, actor: Actor, ticket_id: str, *, pin: str) -> dict[str, Any]:
    access.require_holder(platform, actor, ticket_id)
    return _result(platform.submit(actor, "AcceptTicket", {"ticket_id": ticket_id}, pin=pin))


def reject_ticket(
    platform: Platform, actor: Actor, ticket_id: str, reason: str, *, pin: str
) -> dict[str, Any]:
    access.require_holder(platform, actor, ticket_id)
    return _result(
        platform.submit(actor, "RejectTicket", {"ticket_id": ticket_id, "reason": reason}, pin=pin)
    )


def cancel_ticket(platform: Platform, actor: Actor, ticket_id: str, *, pin: str) -> dict[str, Any]:
    access.require_issuer(platform, actor, ticket_id)
    return _result(platform.submit(actor, "CancelTicket", {"ticket_id": ticket_id}, pin=pin))


def freeze_ticket(
    platform: Platform, operator: Actor, ticket_id: str, reason: str, *, pin: str
) -> dict[str, Any]:
    access.require_operator(operator)
    return _result(
        platform.submit(operator, "FreezeTicket", {"ticket_id": ticket_id, "reason": reason}, pin=pin)
    )


def unfreeze_ticket(platform: Platform, operator: Actor, ticket_id: str, *, pin: str) -> dict[str, Any]:
    access.require_operator(operator)
    return _result(platform.submit(operator, "UnfreezeTicket", {"ticket_id": ticket_id}, pin=pin))


def get_ticket(platform: Platform, actor: Actor, ticket_id: str) -> dict[str, Any]:
    """The ticket as stored, with ``display_status`` (OVERDUE past maturity, unpaid)."""
    ticket = platform.evaluate("GetTicket", {"ticket_id": ticket_id})
    return with_display_status(ticket, platform.today())


def with_display_status(ticket: dict[str, Any], today: dt.date) -> dict[str, Any]:
    status = d.TicketStatus(ticket["status"])
    maturity = dt.date.fromisoformat(ticket["maturity_date"])
    return {**ticket, "display_status": d.display_status(status, maturity, today)}


def list_tickets(
    platform: Platform,
    actor: Actor,
    *,
    holder_org_id: str | None = None,
    root_id: str | None = None,
    status: str | None = None,
) -> list[dict[str, Any]]:
    request = {
        key: value
        for key, value in {"holder_org_id": holder_org_id, "root_id": root_id, "status": status}.items()
        if value
    }
    today = platform.today()
    return [with_display_status(t, today) for t in platform.evaluate("ListTickets", request)["items"]]


def ticket_history(platform: Platform, actor: Actor, ticket_id: str) -> list[dict[str, Any]]:
    """Every transaction that touched the ticket, with the block that holds it."""
    items = platform.evaluate("GetHistory", {"ticket_id": ticket_id})["items"]
    for item in items:
        item["block"] = platform.ledger.commit_status(item["tx_id"]).block_number
    return items  # type: ignore[no-any-return]


def ticket_lineage(platform: Platform, actor: Actor, ticket_id: str) -> dict[str, Any]:
    """The tree from the root down to the pieces held today."""
    return platform.evaluate("GetLineage", {"ticket_id": ticket_id})  # type: ignore[no-any-return]
