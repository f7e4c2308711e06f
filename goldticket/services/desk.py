"""The operator desk over the API (and the portal): members, and users' cards. Every use case
here is for an admin of the operator only, who proves it with their own card's PIN
(``desk_pin``) on each action: a stolen session token alone opens no desk. Each action is
audit-logged under that admin. The card desk's own steps live in ``cards``.

Shape: ``use_case(portal, actor, [object id], *, desk_pin, ...fields)`` -> a JSON-ready dict.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from typing import Any

from goldticket import domain as d
from goldticket.store.models import MemberKyc

from . import access, cards, kyc_records, logins, members
from .context import OPERATOR, Actor, Desk
from .portal import Portal


def authenticate(portal: Portal, actor: Actor, desk_pin: Any) -> Desk:
    """The operator desk for ``actor``: an operator admin whose card ``desk_pin`` opens.
    Raises ForbiddenError, InvalidInputError, WrongPinError, CardLockedError."""
    access.require_operator_admin(actor)
    if not isinstance(desk_pin, str) or not desk_pin:
        raise d.InvalidInputError("desk_pin (the operator admin's card PIN) is required")
    return portal.platform.desk(actor, desk_pin)


def create_org(
    portal: Portal,
    actor: Actor,
    *,
    desk_pin: str,
    name: str,
    role: str,
    org_id: str | None = None,
    name_en: str = "",
    day_basis: int = 360,
    fee_bp: int = 0,
    kyc: dict[str, Any] | None = None,
    msp_id: str | None = None,
) -> dict[str, Any]:
    """Register a member on the ledger, signed by the operator desk's card. With ``kyc`` (the
    fields of goldticket.domain.kyc, checked: the 统一社会信用代码's check character, the
    settlement account in the member's own name) the record is kept in the portal's database
    and its SHA-256 on the member's ledger record."""
    checked = d.check_kyc(kyc, d.require_text(name, "name")) if kyc is not None else None
    desk = authenticate(portal, actor, desk_pin)
    member_id = org_id or f"m{secrets.token_hex(5)}"
    if checked is not None:  # kept first: a record whose hash the ledger lacks is never shown
        keep_kyc(portal, d.require_text(member_id, "id", 64), checked)
    member = members.register_member(
        portal.platform,
        desk,
        member_id=member_id,
        name=name,
        role=role,
        name_en=name_en,
        day_basis=day_basis,
        fee_bp=fee_bp,
        kyc_sha256=checked.sha256 if checked is not None else None,
        msp_id=msp_id,
    )
    return present_member(member)


def keep_kyc(portal: Portal, member_id: str, kyc: d.MemberKyc) -> None:
    """Keep a checked KYC record in the portal's database (before the ledger takes its hash)."""
    now = dt.datetime.now(dt.UTC)
    with portal.database.session(immediate=True) as session:
        row = session.get(MemberKyc, member_id)
        doc = json.dumps(kyc.to_dict(), ensure_ascii=False, sort_keys=True)
        if row is None:
            session.add(MemberKyc(member_id=member_id, doc=doc, sha256=kyc.sha256, updated_at=now))
        else:
            row.doc, row.sha256, row.updated_at = doc, kyc.sha256, now


def member_kyc(portal: Portal, actor: Actor, member_id: str) -> dict[str, Any]:
    """A member's KYC record as registered, for the operator and the member's own users only
    (NotFoundError for anyone else, as for a member without one): the record whose SHA-256 the
    ledger's member record holds, with that hash."""
    if actor.member_id not in (OPERATOR, member_id):
        raise d.NotFoundError(f"no KYC record of member {member_id}")
    member = members.get_member(portal.platform, d.require_text(member_id, "id", 64))
    found = kyc_records.registered(portal, member)  # a confirmed change of account included
    if found is None:
        raise d.NotFoundError(f"no KYC record of member {member_id}")
    return {"member_id": member_id, "kyc": found, "kyc_sha256": member["kyc_sha256"]}


def update_org(portal: Portal, actor: Actor, *, desk_pin: str, org_id: str, **details: Any) -> dict[str, Any]:
    """Correct a member's names, or a bank's day basis and fee, signed by the desk's card."""
    desk = authenticate(portal, actor, desk_pin)
    return present_member(members.update_member(portal.platform, desk, org_id, **details))


def present_member(member: dict[str, Any]) -> dict[str, Any]:
    return {key: member.get(key) for key in ("id", "name", "name_en", "role", "msp_id")}


def card_status(record: dict[str, Any]) -> str:
    """The card's status as the API shows it: an opened card waits for its user's PIN, or for
    its user to finish a replacement."""
    if record["status"] == "OPENED":
        return "awaiting_recovery" if record.get("replaces") else "awaiting_pin"
    return str(record["status"]).lower()


def present_card(record: dict[str, Any]) -> dict[str, Any]:
    shown = {key: record[key] for key in ("card_id", "serial", "username", "certificate_pem")}
    shown["status"] = card_status(record)
    if record.get("ledger_status") == "PENDING_APPROVAL" and shown["status"] == "active":
        shown["status"] = "pending_approval"  # it signs nothing until its member's admin approves
    return shown


def issue_card(portal: Portal, actor: Actor, *, desk_pin: str, user_id: str) -> dict[str, Any]:
    """Open and issue a card for a user (开卡 + 发卡): it waits for its own user to choose the
    PIN (``POST /me/cards/{card_id}/pin``) and signs nothing until then. The desk never
    chooses or sees a PIN."""
    access.require_operator_admin(actor)
    user = portal.platform.actor(d.require_text(user_id, "user_id", 64))
    desk = authenticate(portal, actor, desk_pin)
    opened = cards.issue_card(portal.platform, desk, user.username)
    return {key: opened[key] for key in ("card_id", "serial", "username")} | {"status": card_status(opened)}


def approve_card(portal: Portal, admin: Actor, card_id: str, *, pin: str) -> dict[str, Any]:
    """An admin of the card's member approves its identity (signed in the admin's card)."""
    _card(portal, card_id)
    return present_card(cards.approve_card(portal.platform, admin, card_id, pin))


def _card(portal: Portal, card_id: str) -> None:
    portal.platform.cards.registry.get(d.require_text(card_id, "card_id", 64))


def _others_card(portal: Portal, actor: Actor, card_id: str) -> None:
    """The card exists and is not the acting operator admin's own (refused before the desk PIN
    is tried; ``cards`` checks the same)."""
    record = portal.platform.cards.registry.get(d.require_text(card_id, "card_id", 64))
    if record.username == actor.username:
        raise d.ForbiddenError("the desk does not act on its own card: another operator admin does")


def report_lost(portal: Portal, actor: Actor, card_id: str, *, desk_pin: str) -> dict[str, Any]:
    """Suspend a lost card at once."""
    access.require_operator_admin(actor)
    _others_card(portal, actor, card_id)
    cards.report_lost(portal.platform, authenticate(portal, actor, desk_pin), card_id)
    return {"card_id": card_id, "status": "suspended"}


def unlock_card(portal: Portal, actor: Actor, card_id: str, *, desk_pin: str) -> dict[str, Any]:
    """Forget the wrong PINs of a card locked by them (the holder proved who they are at the desk)."""
    access.require_operator_admin(actor)
    _others_card(portal, actor, card_id)
    return present_card(cards.unlock_card(portal.platform, authenticate(portal, actor, desk_pin), card_id))


def replace_card(
    portal: Portal, actor: Actor, card_id: str, *, desk_pin: str, operator_password: str
) -> dict[str, Any]:
    """补卡, the desk's half: with the operator password, a new card that its user finishes
    with their PIN (``POST /me/cards/{card_id}/recover``)."""
    access.require_operator_admin(actor)
    _others_card(portal, actor, card_id)
    if not isinstance(operator_password, str) or not operator_password:
        raise d.InvalidInputError("operator_password is required")
    desk = authenticate(portal, actor, desk_pin)
    record = cards.replace_card(portal.platform, desk, card_id, operator_password=operator_password)
    return {
        "card_id": record["card_id"],
        "serial": record["serial"],
        "status": card_status(record),
        "replaces": card_id,
    }


def eliminate_card(portal: Portal, actor: Actor, card_id: str, *, desk_pin: str) -> dict[str, Any]:
    """销卡: revoke the card's identity on the ledger and destroy its key; the user's last card
    takes the login with it (its tokens are revoked, new logins refused)."""
    access.require_operator_admin(actor)
    _others_card(portal, actor, card_id)
    cards.eliminate_card(portal.platform, authenticate(portal, actor, desk_pin), card_id)
    username = portal.platform.cards.registry.get(card_id).username
    logins.close_if_cardless(portal.platform, portal.database, username)
    return {"card_id": card_id, "status": "eliminated"}


def approve_recovery(portal: Portal, admin: Actor, card_id: str, *, pin: str) -> dict[str, Any]:
    """An admin of another member approves the recovery of the card's member (left without an
    active admin); the card becomes active once a majority of the other members approved."""
    _card(portal, card_id)
    record = cards.approve_recovery(portal.platform, admin, card_id, pin)
    return {**present_card(record), "recovery": record["recovery"]}
