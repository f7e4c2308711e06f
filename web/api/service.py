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
    """``status`` is ``degraded`` (still HTTP 200: reads and logins work, so a load balancer
    keeps the node) while the signing gateway does not answer: writes answer 503 meanwhile.
    ``signer`` is ``ok``, ``unavailable`` or ``in_process`` (no gateway configured)."""
    platform = portal().platform
    ledger = platform.ledger
    height = ledger.height()
    if platform.gateway is None:
        signer = "in_process"
    else:
        signer = "ok" if platform.gateway.reachable(timeout=1.0) else "unavailable"
    status = "degraded" if signer == "unavailable" else "ok"
    return {"status": status, "ledger": ledger.kind, "height": height, "signer": signer}


@endpoint(
    bp,
    "/healthz",
    "GET",
    summary="Liveness: ok or degraded (the signing gateway down), the ledger kind and its height",
    auth=False,
)
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
        "annualised_cost_bp": result.annualised_cost_bp,
    }


@endpoint(bp, "/openapi.json", "GET", summary="This API as an OpenAPI 3.1 document", auth=False)
def openapi() -> dict[str, Any]:
    return document()
