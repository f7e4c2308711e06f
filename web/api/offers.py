"""Transfer offers and financing applications: their payee or bank answers them."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from goldticket.services import financing, transfers
from goldticket.services.context import Actor

from ._endpoint import Write, endpoint, portal
from .operations import reviewed, status_of
from .schemas import Approval, Signed, WithReason
from .tickets import maybe_ticket, ticket

bp = Blueprint("offers", __name__)


def split(result: dict[str, Any], first: str) -> dict[str, Any]:
    return {**result, first: ticket(result[first]), "remainder": maybe_ticket(result.get("remainder"))}


@endpoint(
    bp,
    "/offers/<offer_id>/accept",
    "POST",
    summary="The payee accepts a transfer offer",
    body=Signed,
    write=True,
)
def accept(actor: Actor, body: Signed, write: Write, offer_id: str) -> Any:
    return write.run(
        lambda: transfers.accept_offer(portal().platform, actor, offer_id, pin=body.pin),
        lambda result: split(result, "transferred"),
    )


@endpoint(
    bp,
    "/offers/<offer_id>/reject",
    "POST",
    summary="The payee refuses a transfer offer",
    body=Signed,
    write=True,
)
def reject(actor: Actor, body: Signed, write: Write, offer_id: str) -> Any:
    return write.run(lambda: transfers.reject_offer(portal().platform, actor, offer_id, pin=body.pin), ticket)


@endpoint(
    bp,
    "/offers/<offer_id>/cancel",
    "POST",
    summary="The holder withdraws a transfer offer",
    body=Signed,
    write=True,
)
def cancel(actor: Actor, body: Signed, write: Write, offer_id: str) -> Any:
    return write.run(lambda: transfers.cancel_offer(portal().platform, actor, offer_id, pin=body.pin), ticket)


@endpoint(
    bp,
    "/financing/<application_id>/approve",
    "POST",
    summary="The bank approves: discount interest, fee, proceeds; the piece becomes FINANCED",
    body=Approval,
    write=True,
)
def approve(actor: Actor, body: Approval, write: Write, application_id: str) -> Any:
    return write.run(
        lambda: financing.approve_financing(
            portal().platform,
            actor,
            application_id=application_id,
            annual_rate_bp=body.annual_rate_bp,
            value_date=body.value_date,
            pin=body.pin,
        ),
        reviewed(lambda result: split(result, "financed")),
        status_of(200),
    )


@endpoint(
    bp,
    "/financing/<application_id>/reject",
    "POST",
    summary="The bank declines a financing application",
    body=WithReason,
    write=True,
)
def decline(actor: Actor, body: WithReason, write: Write, application_id: str) -> Any:
    return write.run(
        lambda: financing.reject_financing(
            portal().platform, actor, application_id=application_id, reason=body.reason, pin=body.pin
        ),
        ticket,
    )


@endpoint(
    bp,
    "/financing/<application_id>/terms",
    "GET",
    summary="An approved financing's discount terms, for its holder and its bank only (#19)",
)
def terms(actor: Actor, application_id: str) -> dict[str, Any]:
    return financing.financing_terms(portal().platform, actor, application_id)
