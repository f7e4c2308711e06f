"""Tickets: issue, accept, reject, cancel, freeze, and read them back."""

from __future__ import annotations

import datetime as dt
from typing import Any

from goldticket import domain as d

from . import access, dual_control, pending, signed_documents
from .context import Actor
from .platform import Platform


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
    credit_line_id: str | None = None,
    term_reason: str | None = None,
    grace_days: int | None = None,
    commitment: bool = True,
) -> dict[str, Any]:
    """A core-enterprise clerk issues a ticket to a supplier; it waits for acceptance. It draws
    on the core's credit line ``credit_line_id`` (an active one), or on the first active line
    with room when None. A term over six months states ``term_reason`` (recorded with it).
    ``grace_days`` (0..30; the default 3 when None): how long after maturity an unpaid piece
    waits before it may be marked overdue.

    ``commitment`` (#21): the issuer's payment commitment (付款承诺函) is rendered and signed by
    the clerk's card through the signing gateway first, and its SHA-256 goes into the issue's
    transaction (services.signed_documents); False issues without one (as before #21)."""
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
    if credit_line_id:
        request["credit_line_id"] = d.require_text(credit_line_id, "credit_line_id", 64)
    if term_reason:
        request["term_reason"] = term_reason
    if d.require_grace_days(grace_days) is not None:
        request["grace_days"] = grace_days
    if commitment:
        request["commitment_sha256"] = signed_documents.payment_commitment(
            platform,
            clerk,
            pin=pin,
            payee_org_id=d.require_text(payee_org_id, "payee_org_id", 64),
            amount_fen=amount_fen,
            maturity_date=maturity.isoformat(),
            invoices=invoices,
        )
    # under the core's maker-checker setting, prepared for a reviewer instead (dual_control)
    return dual_control.submit(platform, clerk, "IssueTicket", request, amount_fen=amount_fen, pin=pin)


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
    """The ticket as stored, with ``display_status`` (OVERDUE past maturity, unpaid). A root
    whose maturity was settled shows SETTLED and carries its ``statement``, even when it was
    split and its pieces were what got paid."""
    ticket = with_display_status(platform.evaluate("GetTicket", {"ticket_id": ticket_id}), platform.today())
    if ticket["id"] == ticket["root_id"]:
        statements = pending.statements(platform, ticket["id"])
        if statements:
            ticket["statement"] = statements[-1]
            ticket["display_status"] = d.TicketStatus.SETTLED.value
    return ticket


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
    """Every transaction that touched the ticket, with the block that holds it, the serial of
    the signer's certificate (``certificate_serial``; the ledger's ``card_serial`` field) and
    the serial of the card the desk knows it by (``card``, BS...). A settled root also lists its
    settlement (the statement's transaction), which pays its pieces rather than itself."""
    items = platform.evaluate("GetHistory", {"ticket_id": ticket_id})["items"]
    cards = cards_by_certificate(platform)
    for item in items:
        item["block"] = platform.ledger.commit_status(item["tx_id"]).block_number
        item["certificate_serial"] = item.get("card_serial")
        item["card"] = cards.get(str(item.get("card_serial")))
    ticket = platform.evaluate("GetTicket", {"ticket_id": ticket_id})
    if ticket["id"] == ticket["root_id"] and not any(item.get("action") == "settle" for item in items):
        for statement in pending.statements(platform, ticket["id"]):
            items.append(
                {
                    "action": "settle",
                    "status": d.TicketStatus.SETTLED.value,
                    "statement_id": statement["statement_id"],
                    "settled_on": statement["settled_on"],
                    "total_paid_fen": statement["total_paid_fen"],
                    "by_org_id": ticket["issuer_org_id"],
                }
            )
    return items  # type: ignore[no-any-return]


def cards_by_certificate(platform: Platform) -> dict[str, str]:
    """Certificate serial (hex, as the ledger records it) -> the card serial of this desk."""
    from cryptography import x509

    found: dict[str, str] = {}
    for user in platform.users.users():
        for record in platform.cards.registry.cards_of(user["username"]):
            if record.certificate_pem:
                certificate = x509.load_pem_x509_certificate(record.certificate_pem.encode())
                found[format(certificate.serial_number, "x")] = record.serial  # the newest wins
    return found


def ticket_lineage(platform: Platform, actor: Actor, ticket_id: str) -> dict[str, Any]:
    """The tree from the root down to the pieces held today."""
    return platform.evaluate("GetLineage", {"ticket_id": ticket_id})  # type: ignore[no-any-return]
