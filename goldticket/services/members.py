"""Operator desk: members (organisations) and their users."""

from __future__ import annotations

from typing import Any

from goldticket import domain as d
from goldticket.settings import ROLE_MSP

from . import cards
from .context import Actor, Desk
from .platform import Platform


def register_member(
    platform: Platform,
    desk: Desk,
    *,
    member_id: str,
    name: str,
    role: str,
    name_en: str = "",
    day_basis: int = 360,
    fee_bp: int = 0,
    kyc_sha256: str | None = None,
) -> dict[str, Any]:
    """Register a core enterprise, supplier or bank, signed by the operator desk. Its MSP
    follows from its role; ``kyc_sha256`` is the SHA-256 of its KYC record (kept off the
    ledger: services.desk)."""
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
    if kyc_sha256 is not None:
        request["kyc_sha256"] = d.require_sha256(kyc_sha256, "kyc_sha256")
    member: dict[str, Any] = platform.submit(desk.actor, "RegisterMember", request, pin=desk.pin).result
    platform.audit_desk(desk, "member add", member=member_id)
    return member


def update_member(platform: Platform, desk: Desk, member_id: str, **details: Any) -> dict[str, Any]:
    """The operator desk corrects a member's details (``name``, ``name_en``, ``day_basis``,
    ``fee_bp``; those given only), signed by the desk's card on the ledger."""
    request = {"id": d.require_text(member_id, "id", 64), **details}
    member: dict[str, Any] = platform.submit(desk.actor, "UpdateMember", request, pin=desk.pin).result
    platform.audit_desk(desk, "member update", member=member_id, fields=sorted(details))
    return member


def require_documents(platform: Platform, desk: Desk) -> dict[str, Any]:
    """The operator desk turns the ledger's documents rule on (#21; once, for good): every later
    issue, transfer offer and financing application must record its signed document."""
    rules: dict[str, Any] = platform.submit(desk.actor, "RequireDocuments", {}, pin=desk.pin).result
    platform.audit_desk(desk, "require documents")
    return rules


def ledger_rules(platform: Platform) -> dict[str, Any]:
    """The ledger's rules (longest payment term, documents rule, environment)."""
    return platform.evaluate("GetLedgerRules", {})  # type: ignore[no-any-return]


def get_member(platform: Platform, member_id: str) -> dict[str, Any]:
    return platform.evaluate("GetMember", {"id": member_id})  # type: ignore[no-any-return]


def list_members(platform: Platform) -> list[dict[str, Any]]:
    return platform.evaluate("ListMembers", {})["items"]  # type: ignore[no-any-return]


def add_user(
    platform: Platform,
    desk: Desk,
    *,
    member_id: str,
    username: str,
    role: str = "clerk",
    pin: str | None = None,
) -> Actor:
    """A new user of ``member_id``; with ``pin``, their card is opened and issued too."""
    get_member(platform, member_id)
    if pin is not None:
        cards.check_pin(pin, strict=platform.settings.env == "prod")
    actor = platform.add_user(username=username, member_id=member_id, user_role=role)
    platform.audit_desk(desk, "user add", for_user=username, member=member_id, role=role)
    if pin is not None:
        cards.enrol(platform, desk, username, pin)
    return actor


def list_users(platform: Platform, member_id: str | None = None) -> list[dict[str, str]]:
    """The user directory (of one member when given), by username."""
    return [user for user in platform.users.users() if member_id is None or user["member_id"] == member_id]


def revoke_user(platform: Platform, desk: Desk, username: str) -> list[dict[str, Any]]:
    """Eliminate every live card of the user: the identity is revoked on the ledger."""
    return [
        cards.eliminate_card(platform, desk, card["serial"])
        for card in cards.cards_of(platform, username)
        if card["status"] in ("ACTIVE", "SUSPENDED", "OPENED")
    ]


def set_term_cap(platform: Platform, desk: Desk, max_term_months: int) -> dict[str, Any]:
    """The operator desk sets the longest payment term of new tickets (1 to 12 months;
    Chinese rules since 2025-06: in principle at most 6, never over 12)."""
    request = {"max_term_months": max_term_months}
    config: dict[str, Any] = platform.submit(desk.actor, "SetTermCap", request, pin=desk.pin).result
    platform.audit_desk(desk, "term cap", max_term_months=max_term_months)
    return config
