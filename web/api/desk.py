"""The operator desk: members, users and their cards."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from goldticket.services import accounts, desk, reads
from goldticket.services.context import Actor

from ._endpoint import Write, endpoint, portal
from .schemas import DeskBody, NewCard, NewOrg, NewUser, OrgChange, ReplaceCard, Signed

bp = Blueprint("desk", __name__)


@endpoint(
    bp, "/orgs", "POST", summary="Register a member (operator admin)", body=NewOrg, status=201, write=True
)
def create_org(actor: Actor, body: NewOrg, write: Write) -> Any:
    return write.run(
        lambda: desk.create_org(
            portal(),
            actor,
            desk_pin=body.desk_pin,
            name=body.name,
            role=body.role,
            org_id=body.id,
            name_en=body.name_en,
            day_basis=body.day_basis,
            fee_bp=body.fee_bp,
            kyc=body.kyc.model_dump() if body.kyc is not None else None,
            msp_id=body.msp_id,
        ),
        desk.present_member,
    )


@endpoint(
    bp, "/orgs/<org_id>/kyc", "GET", summary="A member's KYC record, for the operator and its own users"
)
def org_kyc(actor: Actor, org_id: str) -> dict[str, Any]:
    return desk.member_kyc(portal(), actor, org_id)


@endpoint(
    bp,
    "/orgs/<org_id>",
    "PATCH",
    summary="Correct a member's names, or a bank's day basis and fee (operator admin); only the fields given",
    body=OrgChange,
    write=True,
)
def update_org(actor: Actor, body: OrgChange, write: Write, org_id: str) -> Any:
    details = body.model_dump(exclude_none=True, exclude={"desk_pin"})
    return write.run(
        lambda: desk.update_org(portal(), actor, desk_pin=body.desk_pin, org_id=org_id, **details),
        desk.present_member,
    )


@endpoint(bp, "/orgs", "GET", summary="Every member: id, names, role, MSP")
def list_orgs(actor: Actor) -> dict[str, Any]:
    return reads.list_members(portal(), actor)


@endpoint(
    bp,
    "/users",
    "POST",
    summary="Add a user to a member (operator admin): a one-time activation code, shown once",
    body=NewUser,
    status=201,
)
def create_user(actor: Actor, body: NewUser) -> Any:
    # not an idempotent write: its answer (the activation code) must not be kept, and a
    # retry answers 409 (the user exists; the desk issues a new code if this one was lost)
    return accounts.create_user(
        portal(), actor, desk_pin=body.desk_pin, org_id=body.org_id, username=body.username, role=body.role
    )


@endpoint(
    bp,
    "/users/<username>/disable",
    "POST",
    summary="Disable a user's login at once: password and tokens stop working (operator admin, never its own)",
    body=DeskBody,
)
def disable_user(actor: Actor, body: DeskBody, username: str) -> Any:
    return accounts.disable_user(portal(), actor, desk_pin=body.desk_pin, username=username)


@endpoint(
    bp,
    "/users/<username>/reset-password",
    "POST",
    summary="A forgotten password: the old one stops working and a new one-time activation code is shown once",
    body=DeskBody,
)
def reset_password(actor: Actor, body: DeskBody, username: str) -> Any:
    # like POST /users, not kept for replays: the activation code is shown once
    return accounts.reset_password(portal(), actor, desk_pin=body.desk_pin, username=username)


@endpoint(
    bp,
    "/cards",
    "POST",
    summary="Open and issue a user's card; it waits for its user's PIN (operator admin)",
    body=NewCard,
    status=201,
    write=True,
)
def create_card(actor: Actor, body: NewCard, write: Write) -> Any:
    return write.run(lambda: desk.issue_card(portal(), actor, desk_pin=body.desk_pin, user_id=body.user_id))


@endpoint(
    bp,
    "/cards/<card_id>/approve",
    "POST",
    summary="An admin of the card's member approves its identity",
    body=Signed,
    write=True,
)
def approve_card(actor: Actor, body: Signed, write: Write, card_id: str) -> Any:
    return write.run(
        lambda: desk.approve_card(portal(), actor, card_id, pin=body.pin),
        lambda result: result if "card_id" in result else {"card_id": card_id, "status": "active"},
    )


@endpoint(
    bp,
    "/cards/<card_id>/recovery-approvals",
    "POST",
    summary=(
        "An admin of another member approves the recovery of a member left without an active admin:"
        " the admin card the desk proposed for it becomes active once admins of more than half of the"
        " other members (core enterprises, suppliers, banks) approved, each member once"
    ),
    body=Signed,
    write=True,
)
def approve_recovery(actor: Actor, body: Signed, write: Write, card_id: str) -> Any:
    return write.run(
        lambda: desk.approve_recovery(portal(), actor, card_id, pin=body.pin),
        lambda result: result if "card_id" in result else {"card_id": card_id},
    )


@endpoint(
    bp,
    "/cards/<card_id>/report-lost",
    "POST",
    summary="Suspend a lost card at once (operator admin)",
    body=DeskBody,
    write=True,
)
def report_lost(actor: Actor, body: DeskBody, write: Write, card_id: str) -> Any:
    return write.run(lambda: desk.report_lost(portal(), actor, card_id, desk_pin=body.desk_pin))


@endpoint(
    bp,
    "/cards/<card_id>/unlock",
    "POST",
    summary="Unlock a card locked by wrong PINs (operator admin)",
    body=DeskBody,
    write=True,
)
def unlock_card(actor: Actor, body: DeskBody, write: Write, card_id: str) -> Any:
    return write.run(lambda: desk.unlock_card(portal(), actor, card_id, desk_pin=body.desk_pin))


@endpoint(
    bp,
    "/cards/<card_id>/replace",
    "POST",
    summary="Start a replacement with the same key (补卡); its user finishes it with their PIN",
    body=ReplaceCard,
    status=201,
    write=True,
)
def replace_card(actor: Actor, body: ReplaceCard, write: Write, card_id: str) -> Any:
    return write.run(
        lambda: desk.replace_card(
            portal(),
            actor,
            card_id,
            desk_pin=body.desk_pin,
            operator_password=body.operator_password,
        )
    )


@endpoint(
    bp,
    "/cards/<card_id>",
    "DELETE",
    summary="Eliminate a card: revoke its identity (销卡)",
    body=DeskBody,
    write=True,
)
def eliminate_card(actor: Actor, body: DeskBody, write: Write, card_id: str) -> Any:
    return write.run(
        lambda: desk.eliminate_card(portal(), actor, card_id, desk_pin=body.desk_pin),
        lambda result: {"card_id": card_id, "status": "eliminated"},
    )
