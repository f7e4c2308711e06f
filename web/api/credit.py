"""Credit lines banks grant core enterprises."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from goldticket.services import credit, reads
from goldticket.services.context import Actor

from ._endpoint import Write, endpoint, portal
from .schemas import CreditQuery, NewCreditLine

bp = Blueprint("credit", __name__)


@endpoint(
    bp,
    "/credit-lines",
    "POST",
    summary="A bank grants a core enterprise a credit line",
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


@endpoint(bp, "/credit-lines", "GET", summary="Credit lines the caller may see", query=CreditQuery)
def list_lines(actor: Actor, query: CreditQuery) -> dict[str, Any]:
    return reads.list_credit_lines(
        portal(), actor, core_org_id=query.core_org_id, page=query.page, per_page=query.per_page
    )
