"""A change of a member's settlement account (#21): its admin asks (its own card), an operator
admin confirms or declines it (the desk's card); the counterparties read that it changed."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from goldticket import domain as d
from goldticket.services import account_changes
from goldticket.services.context import OPERATOR, Actor

from ._endpoint import Write, endpoint, portal
from .schemas import AccountChangeQuery, AccountChangeReject, AccountChangeRequest, DeskBody

bp = Blueprint("account_changes", __name__)


@endpoint(
    bp,
    "/orgs/<org_id>/account-changes",
    "POST",
    summary="Ask to change your member's settlement account (an admin of the member, its own card);"
    " nothing changes until the operator confirms it",
    body=AccountChangeRequest,
    status=201,
    write=True,
)
def request_change(actor: Actor, body: AccountChangeRequest, write: Write, org_id: str) -> Any:
    def perform() -> dict[str, Any]:
        if org_id != actor.member_id:
            raise d.ForbiddenError("an admin changes only its own member's settlement account")
        return account_changes.request_change(portal(), actor, body.account.model_dump(), pin=body.pin)

    return write.run(perform)


@endpoint(
    bp,
    "/orgs/<org_id>/account-changes",
    "GET",
    summary="A member's settlement account changes, newest first (its own users and the operator)",
    query=AccountChangeQuery,
)
def member_changes(actor: Actor, org_id: str, query: AccountChangeQuery) -> dict[str, Any]:
    items = account_changes.changes(portal(), actor, member_id=org_id, status=query.status)
    return {"items": items, "total": len(items)}


@endpoint(
    bp,
    "/account-changes",
    "GET",
    summary="Every member's settlement account changes (the operator), newest first",
    query=AccountChangeQuery,
)
def all_changes(actor: Actor, query: AccountChangeQuery) -> dict[str, Any]:
    if actor.member_id != OPERATOR:
        raise d.ForbiddenError("only the operator reads every member's account changes")
    items = account_changes.changes(portal(), actor, status=query.status)
    return {"items": items, "total": len(items)}


@endpoint(
    bp,
    "/orgs/<org_id>/account-changes/<change_id>/confirm",
    "POST",
    summary="Confirm a member's settlement account change (operator admin, the desk's card): the new"
    " account is paid from then on",
    body=DeskBody,
    write=True,
)
def confirm(actor: Actor, body: DeskBody, write: Write, org_id: str, change_id: str) -> Any:
    return write.run(
        lambda: account_changes.confirm_change(portal(), actor, org_id, change_id, desk_pin=body.desk_pin)
    )


@endpoint(
    bp,
    "/orgs/<org_id>/account-changes/<change_id>/reject",
    "POST",
    summary="Decline (operator admin, desk_pin) or withdraw (the member's admin, pin) a settlement"
    " account change",
    body=AccountChangeReject,
    write=True,
)
def reject(actor: Actor, body: AccountChangeReject, write: Write, org_id: str, change_id: str) -> Any:
    return write.run(
        lambda: account_changes.reject_change(
            portal(), actor, org_id, change_id, reason=body.reason, pin=body.pin, desk_pin=body.desk_pin
        )
    )


@endpoint(
    bp,
    "/me/account-notices",
    "GET",
    summary="Your counterparties whose settlement account changed, and on which date (never the account)",
)
def notices(actor: Actor) -> dict[str, Any]:
    items = account_changes.notices(portal(), actor)
    return {"items": items, "total": len(items)}
