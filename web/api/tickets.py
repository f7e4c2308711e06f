"""Tickets: issue, accept, reject, cancel, transfer, finance, settle, freeze; read them back
from the read model."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from goldticket.domain.money import parse_yuan
from goldticket.services import exports, financing, reads, settlement, tickets, transfers
from goldticket.services.context import Actor

from ._endpoint import Write, endpoint, portal
from .operations import reviewed, status_of
from .schemas import (
    NewFinancing,
    NewTicket,
    NewTransfer,
    Signed,
    TicketExportQuery,
    TicketFind,
    TicketQuery,
    WithReason,
)

bp = Blueprint("tickets", __name__)


def ticket(result: dict[str, Any]) -> dict[str, Any]:
    return reads.present_ticket(result, portal().platform.today())


def maybe_ticket(result: dict[str, Any] | None) -> dict[str, Any] | None:
    return ticket(result) if result else None


def with_ticket(result: dict[str, Any]) -> dict[str, Any]:
    return {**result, "ticket": ticket(result["ticket"])}


@endpoint(
    bp, "/tickets", "POST", summary="Issue a ticket (core clerk)", body=NewTicket, status=201, write=True
)
def issue(actor: Actor, body: NewTicket, write: Write) -> Any:
    return write.run(
        lambda: tickets.issue_ticket(
            portal().platform,
            actor,
            payee_org_id=body.payee_org_id,
            amount_fen=body.amount_fen,
            maturity_date=body.maturity_date,
            invoices=[invoice.model_dump() for invoice in body.invoices],
            credit_line_id=body.credit_line_id,
            term_reason=body.term_reason,
            grace_days=body.grace_days,
            pin=body.pin,
        ),
        reviewed(ticket),
        status_of(201),
    )


@endpoint(
    bp,
    "/tickets/<ticket_id>/accept",
    "POST",
    summary="The payee accepts an issued ticket",
    body=Signed,
    write=True,
)
def accept(actor: Actor, body: Signed, write: Write, ticket_id: str) -> Any:
    return write.run(lambda: tickets.accept_ticket(portal().platform, actor, ticket_id, pin=body.pin), ticket)


@endpoint(
    bp,
    "/tickets/<ticket_id>/reject",
    "POST",
    summary="The payee refuses an issued ticket",
    body=WithReason,
    write=True,
)
def reject(actor: Actor, body: WithReason, write: Write, ticket_id: str) -> Any:
    return write.run(
        lambda: tickets.reject_ticket(portal().platform, actor, ticket_id, body.reason, pin=body.pin), ticket
    )


@endpoint(
    bp,
    "/tickets/<ticket_id>/cancel",
    "POST",
    summary="The issuer withdraws before acceptance",
    body=Signed,
    write=True,
)
def cancel(actor: Actor, body: Signed, write: Write, ticket_id: str) -> Any:
    return write.run(lambda: tickets.cancel_ticket(portal().platform, actor, ticket_id, pin=body.pin), ticket)


@endpoint(
    bp,
    "/tickets/<ticket_id>/transfers",
    "POST",
    summary="The holder offers part or all of a ticket to another member",
    body=NewTransfer,
    status=201,
    write=True,
)
def transfer(actor: Actor, body: NewTransfer, write: Write, ticket_id: str) -> Any:
    return write.run(
        lambda: transfers.offer_transfer(
            portal().platform,
            actor,
            ticket_id=ticket_id,
            to_org_id=body.to_org_id,
            amount_fen=body.amount_fen,
            pin=body.pin,
        ),
        reviewed(with_ticket),
        status_of(201),
    )


@endpoint(
    bp,
    "/tickets/<ticket_id>/financing",
    "POST",
    summary="The holder applies to a bank to discount part or all of a ticket",
    body=NewFinancing,
    status=201,
    write=True,
)
def finance(actor: Actor, body: NewFinancing, write: Write, ticket_id: str) -> Any:
    return write.run(
        lambda: financing.apply_financing(
            portal().platform,
            actor,
            ticket_id=ticket_id,
            bank_org_id=body.bank_org_id,
            amount_fen=body.amount_fen,
            max_annual_rate_bp=body.max_annual_rate_bp,
            recourse=body.recourse,
            pin=body.pin,
        ),
        with_ticket,
    )


@endpoint(
    bp,
    "/tickets/<ticket_id>/settle",
    "POST",
    summary="The issuer settles a root ticket at maturity",
    body=Signed,
    write=True,
)
def settle(actor: Actor, body: Signed, write: Write, ticket_id: str) -> Any:
    return write.run(
        lambda: settlement.settle_ticket(portal().platform, actor, ticket_id, pin=body.pin),
        status_of=status_of(200),
    )


@endpoint(
    bp,
    "/tickets/<ticket_id>/freeze",
    "POST",
    summary="Freeze a ticket (operator)",
    body=WithReason,
    write=True,
)
def freeze(actor: Actor, body: WithReason, write: Write, ticket_id: str) -> Any:
    return write.run(
        lambda: tickets.freeze_ticket(portal().platform, actor, ticket_id, body.reason, pin=body.pin), ticket
    )


@endpoint(
    bp,
    "/tickets/<ticket_id>/unfreeze",
    "POST",
    summary="Unfreeze a ticket (operator)",
    body=Signed,
    write=True,
)
def unfreeze(actor: Actor, body: Signed, write: Write, ticket_id: str) -> Any:
    return write.run(
        lambda: tickets.unfreeze_ticket(portal().platform, actor, ticket_id, pin=body.pin), ticket
    )


def find_args(query: TicketFind) -> dict[str, Any]:
    """The list's arguments from a query: amounts typed in yuan, kept as fen."""
    return {
        "holder_org_id": query.holder_org_id,
        "root_id": query.root_id,
        "find": reads.TicketFilter(
            q=query.q,
            status=query.status,
            maturity_from=query.maturity_from,
            maturity_to=query.maturity_to,
            amount_min_fen=parse_yuan(query.amount_min) if query.amount_min else None,
            amount_max_fen=parse_yuan(query.amount_max) if query.amount_max else None,
            sort=query.sort,
            order=query.order,
        ),
    }


@endpoint(
    bp,
    "/tickets",
    "GET",
    summary="Tickets the caller may see: search, filter, sort and page",
    query=TicketQuery,
)
def list_tickets(actor: Actor, query: TicketQuery) -> dict[str, Any]:
    return reads.list_tickets(portal(), actor, page=query.page, per_page=query.per_page, **find_args(query))


@endpoint(
    bp,
    "/tickets/export",
    "GET",
    summary="The filtered ticket list as CSV (UTF-8 with BOM) or XLSX: the rows the list shows",
    query=TicketExportQuery,
    produces=",".join(exports.FORMATS[kind].split(";")[0] for kind in ("csv", "xlsx")),
)
def export(actor: Actor, query: TicketExportQuery) -> Response:
    made = exports.export_tickets(portal(), actor, query.format, language=query.lang, **find_args(query))
    response = Response(made.data, mimetype=made.mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{made.filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@endpoint(bp, "/tickets/<ticket_id>", "GET", summary="One ticket")
def get_ticket(actor: Actor, ticket_id: str) -> dict[str, Any]:
    return reads.get_ticket(portal(), actor, ticket_id)


@endpoint(bp, "/tickets/<ticket_id>/history", "GET", summary="Every transaction that touched the ticket")
def history(actor: Actor, ticket_id: str) -> list[dict[str, Any]]:
    return reads.ticket_history(portal(), actor, ticket_id)


@endpoint(bp, "/tickets/<ticket_id>/lineage", "GET", summary="The tree from the root to today's pieces")
def lineage(actor: Actor, ticket_id: str) -> dict[str, Any]:
    return reads.ticket_lineage(portal(), actor, ticket_id)
