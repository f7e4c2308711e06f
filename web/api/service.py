"""Service endpoints of the API: health, the discount quote, the OpenAPI document."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from goldticket.services.financing import quote as make_quote

from ._endpoint import endpoint, portal
from .openapi import document
from .schemas import QuoteQuery

bp = Blueprint("service", __name__)


def health() -> dict[str, Any]:
    ledger = portal().platform.ledger
    return {"status": "ok", "ledger": ledger.kind, "height": ledger.height()}


@endpoint(bp, "/healthz", "GET", summary="Liveness: the ledger kind and its height", auth=False)
def healthz() -> dict[str, Any]:
    return health()


@endpoint(
    bp,
    "/quote",
    "GET",
    summary="Days, discount interest, fee and proceeds of a discount",
    query=QuoteQuery,
    auth=False,
)
def quote(query: QuoteQuery) -> dict[str, Any]:
    result = make_quote(
        amount_fen=query.amount_fen,
        annual_rate_bp=query.annual_rate_bp,
        value_date=query.value_date,
        maturity_date=query.maturity_date,
        day_basis=query.day_basis,
        fee_bp=query.fee_bp,
    )
    return {
        "amount_fen": result.amount_fen,
        "days": result.days,
        "discount_interest_fen": result.discount_interest_fen,
        "fee_fen": result.fee_fen,
        "proceeds_fen": result.proceeds_fen,
    }


@endpoint(bp, "/openapi.json", "GET", summary="This API as an OpenAPI 3.1 document", auth=False)
def openapi() -> dict[str, Any]:
    return document()
