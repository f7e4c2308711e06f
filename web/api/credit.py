"""Credit lines: a bank offers one to a core enterprise, which accepts or declines it."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from goldticket.services import credit, reads
from goldticket.services.context import Actor

from ._endpoint import Write, endpoint, portal
from .schemas import CreditQuery, NewCreditLine, Signed

bp = Blueprint("credit", __name__)


@endpoint(
    bp,
    "/credit-lines",
    "POST",
    summary="A bank offers a core enterprise a credit line (status offered)",
    body=NewCreditLine,
    status=201,
    write=True,
)
def grant(actor: Actor, body: NewCreditLine, write: Write) -> Any:
    return write.run(
        lambda: credit.grant_credit_line(
            portal().platform, actor, core_org_id=body.core_org_id, limit_fen=body.limit_fen, pin=body.pin
        )
    )


@endpoint(
    bp,
    "/credit-lines/<line_id>/accept",
    "POST",
    summary="The core enterprise accepts a credit line offered to it (status active)",
    body=Signed,
    write=True,
)
def accept(actor: Actor, body: Signed, write: Write, line_id: str) -> Any:
    return write.run(
        lambda: credit.accept_credit_line(portal().platform, actor, credit_line_id=line_id, pin=body.pin)
    )


@endpoint(
    bp,
    "/credit-lines/<line_id>/decline",
    "POST",
    summary="The core enterprise declines a credit line offered to it (status declined)",
    body=Signed,
    write=True,
)
def decline(actor: Actor, body: Signed, write: Write, line_id: str) -> Any:
    return write.run(
        lambda: credit.decline_credit_line(portal().platform, actor, credit_line_id=line_id, pin=body.pin)
    )


@endpoint(bp, "/credit-lines", "GET", summary="Credit lines the caller may see", query=CreditQuery)
def list_lines(actor: Actor, query: CreditQuery) -> dict[str, Any]:
    return reads.list_credit_lines(
        portal(), actor, core_org_id=query.core_org_id, page=query.page, per_page=query.per_page
    )
