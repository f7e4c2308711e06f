"""Overdue and recourse (逾期与追索, #21): overdue pieces, marking a piece overdue, demands for
payment with their signed documents, and closing a demand."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from goldticket.services import recourse
from goldticket.services.context import Actor

from ._endpoint import Write, endpoint, portal
from .schemas import DemandClose, NewDemand, Signed

bp = Blueprint("overdue", __name__)


@endpoint(
    bp,
    "/overdue",
    "GET",
    summary="The overdue pieces your member holds or issued, or of which payment was demanded of it",
)
def overdue_list(actor: Actor) -> dict[str, Any]:
    items = recourse.list_overdue(portal().platform, actor)
    return {"items": items, "total": len(items)}


@endpoint(
    bp,
    "/tickets/<ticket_id>/overdue",
    "GET",
    summary="A piece's overdue record, its demands, what is unpaid, from when it may be marked and whom"
    " its holder may demand payment of (its holder, issuer, the operator; an obligor its demands)",
)
def overdue_detail(actor: Actor, ticket_id: str) -> dict[str, Any]:
    return recourse.overdue_detail(portal().platform, actor, ticket_id)


@endpoint(
    bp,
    "/tickets/<ticket_id>/overdue",
    "POST",
    summary="Mark an unpaid piece OVERDUE after maturity plus its grace days (its holder or the operator)",
    body=Signed,
    status=201,
    write=True,
)
def mark(actor: Actor, body: Signed, write: Write, ticket_id: str) -> Any:
    return write.run(lambda: recourse.mark_overdue(portal().platform, actor, ticket_id, pin=body.pin))


@endpoint(
    bp,
    "/tickets/<ticket_id>/demands",
    "POST",
    summary="Demand payment (追索) of an overdue piece of the issuer or, with recourse, an earlier holder"
    " (its holder): a signed document whose SHA-256 goes on the ledger",
    body=NewDemand,
    status=201,
    write=True,
)
def demand(actor: Actor, body: NewDemand, write: Write, ticket_id: str) -> Any:
    return write.run(
        lambda: recourse.demand_payment(
            portal().platform,
            actor,
            ticket_id,
            obligor_org_id=body.obligor_org_id,
            amount_fen=body.amount_fen,
            pin=body.pin,
        )
    )


@endpoint(
    bp,
    "/tickets/<ticket_id>/demands/<demand_id>/document",
    "GET",
    summary="A demand's signed document (追索通知书, PDF), as recorded by its hash on the ledger",
    produces="application/pdf",
)
def document(actor: Actor, ticket_id: str, demand_id: str) -> Response:
    data = recourse.demand_pdf(portal().platform, actor, ticket_id, demand_id)
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="demand-{demand_id}.pdf"'
    response.headers["Cache-Control"] = "no-store"
    return response


@endpoint(
    bp,
    "/tickets/<ticket_id>/demands/<demand_id>/close",
    "POST",
    summary="Close a demand: paid (the bank booked the piece, or the holder confirms the obligor paid) or"
    " written off (the holder)",
    body=DemandClose,
    write=True,
)
def close(actor: Actor, body: DemandClose, write: Write, ticket_id: str, demand_id: str) -> Any:
    return write.run(
        lambda: recourse.close_demand(
            portal().platform,
            actor,
            ticket_id,
            demand_id,
            outcome=body.outcome,
            payment_reference=body.payment_reference,
            pin=body.pin,
        )
    )
