"""The operator desk over the API: members, and users' cards. Every use case here is for an
admin of the operator only; the card desk's own steps live in ``cards``."""

from __future__ import annotations

import secrets
from typing import Any

from goldticket import domain as d

from . import access, cards, members
from .platform import Actor
from .portal import Portal


def create_org(
    portal: Portal,
    desk: Actor,
    *,
    name: str,
    role: str,
    org_id: str | None = None,
    name_en: str = "",
    day_basis: int = 360,
    fee_bp: int = 0,
) -> dict[str, Any]:
    """Register a member on the ledger, signed by the operator desk's card."""
    access.require_operator_admin(desk)
    member_id = org_id or f"m{secrets.token_hex(5)}"
    member = members.register_member(
        portal.platform,
        member_id=member_id,
        name=name,
        role=role,
        name_en=name_en,
        day_basis=day_basis,
        fee_bp=fee_bp,
    )
    return present_member(member)


def present_member(member: dict[str, Any]) -> dict[str, Any]:
    return {key: member.get(key) for key in ("id", "name", "name_en", "role", "msp_id")}


def present_card(record: dict[str, Any]) -> dict[str, Any]:
    shown = {key: record[key] for key in ("card_id", "serial", "username", "certificate_pem")}
    shown["status"] = record["status"].lower()
    if record.get("ledger_status") == "PENDING_APPROVAL" and shown["status"] == "active":
        shown["status"] = "pending_approval"  # it signs nothing until its member's admin approves
    return shown


def issue_card(portal: Portal, desk: Actor, *, user_id: str, pin: str) -> dict[str, Any]:
    """Open and issue a card for a user (开卡 + 发卡). Its identity is registered at once while
    the member has no admin with an active card; after that it waits for their approval."""
    access.require_operator_admin(desk)
    cards.check_pin(pin)
    user = portal.platform.actor(d.require_text(user_id, "user_id", 64))
    return present_card(cards.enrol(portal.platform, user.username, pin))


def approve_card(portal: Portal, admin: Actor, card_id: str, *, pin: str) -> dict[str, Any]:
    """An admin of the card's member approves its identity (signed in the admin's card)."""
    _card(portal, card_id)
    return present_card(cards.approve_card(portal.platform, admin, card_id, pin))


def _card(portal: Portal, card_id: str) -> None:
    portal.platform.cards.registry.get(d.require_text(card_id, "card_id", 64))


def report_lost(portal: Portal, desk: Actor, card_id: str) -> dict[str, Any]:
    access.require_operator_admin(desk)
    _card(portal, card_id)
    cards.report_lost(portal.platform, card_id)
    return {"card_id": card_id, "status": "suspended"}


def replace_card(
    portal: Portal, desk: Actor, card_id: str, *, pin: str, operator_password: str
) -> dict[str, Any]:
    """补卡: a new card with the same key (recovered with the PIN and the operator password)."""
    access.require_operator_admin(desk)
    _card(portal, card_id)
    cards.check_pin(pin)
    if not isinstance(operator_password, str) or not operator_password:
        raise d.InvalidInputError("operator_password is required")
    record = cards.replace_card(portal.platform, card_id, pin=pin, operator_password=operator_password)
    return {**present_card(record), "replaces": card_id}


def eliminate_card(portal: Portal, desk: Actor, card_id: str) -> dict[str, Any]:
    access.require_operator_admin(desk)
    _card(portal, card_id)
    cards.eliminate_card(portal.platform, card_id)
    return {"card_id": card_id, "status": "eliminated"}


def unlock_card(portal: Portal, desk: Actor, card_id: str) -> dict[str, Any]:
    """At the desk: forget the wrong PINs of a locked card (its holder present)."""
    access.require_operator_admin(desk)
    _card(portal, card_id)
    record = cards.unlock_card(portal.platform, card_id)
    return {"card_id": card_id, "status": str(record["status"]).lower(), "locked": record["locked"]}
