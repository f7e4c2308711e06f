"""Operator desk: members (organisations) and their users."""

from __future__ import annotations

from typing import Any

from goldticket import domain as d

from . import cards
from .platform import ROLE_MSP, Actor, Platform


def register_member(
    platform: Platform,
    *,
    member_id: str,
    name: str,
    role: str,
    name_en: str = "",
    day_basis: int = 360,
    fee_bp: int = 0,
) -> dict[str, Any]:
    """Register a core enterprise, supplier or bank, signed by the operator desk. Its MSP
    follows from its role."""
    if role not in ("core", "supplier", "bank"):
        raise d.InvalidInputError("role must be core, supplier or bank")
    request = {
        "id": member_id,
        "name": name,
        "name_en": name_en,
        "role": role,
        "msp_id": ROLE_MSP[role],
        "day_basis": day_basis,
        "fee_bp": fee_bp,
    }
    operator, pin = platform.operator()
    return platform.submit(operator, "RegisterMember", request, pin=pin).result  # type: ignore[no-any-return]


def get_member(platform: Platform, member_id: str) -> dict[str, Any]:
    return platform.evaluate("GetMember", {"id": member_id})  # type: ignore[no-any-return]


def list_members(platform: Platform) -> list[dict[str, Any]]:
    return platform.evaluate("ListMembers", {})["items"]  # type: ignore[no-any-return]


def add_user(
    platform: Platform, *, member_id: str, username: str, role: str = "clerk", pin: str | None = None
) -> Actor:
    """A new user of ``member_id``; with ``pin``, their card is opened and issued too."""
    get_member(platform, member_id)
    if pin is not None:
        cards.check_pin(pin)
    actor = platform.add_user(username=username, member_id=member_id, user_role=role)
    if pin is not None:
        cards.enrol(platform, username, pin)
    return actor


def revoke_user(platform: Platform, username: str) -> list[dict[str, Any]]:
    """Eliminate every live card of the user: the identity is revoked on the ledger."""
    return [
        cards.eliminate_card(platform, card["serial"])
        for card in cards.cards_of(platform, username)
        if card["status"] in ("ACTIVE", "SUSPENDED", "OPENED")
    ]


def set_term_cap(platform: Platform, max_term_months: int) -> dict[str, Any]:
    """The operator desk sets the longest payment term of new tickets (1 to 12 months;
    Chinese rules since 2025-06: in principle at most 6, never over 12)."""
    operator, pin = platform.operator()
    return platform.submit(operator, "SetTermCap", {"max_term_months": max_term_months}, pin=pin).result  # type: ignore[no-any-return]
