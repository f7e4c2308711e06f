"""Operator desk: members (organisations) and their users."""

from __future__ import annotations

from typing import Any

from goldticket import domain as d

from .platform import ROLE_MSP, Actor, Platform


def register_member(
    platform: Platform,
    operator: Actor,
    *,
    member_id: str,
    name: str,
    role: str,
    name_en: str = "",
    day_basis: int = 360,
    fee_bp: int = 0,
) -> dict[str, Any]:
    """Register a core enterprise, supplier or bank. Its MSP follows from its role."""
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
    return platform.submit(operator, "RegisterMember", request).result  # type: ignore[no-any-return]


def get_member(platform: Platform, actor: Actor, member_id: str) -> dict[str, Any]:
    return platform.evaluate(actor, "GetMember", {"id": member_id})  # type: ignore[no-any-return]


def list_members(platform: Platform, actor: Actor) -> list[dict[str, Any]]:
    return platform.evaluate(actor, "ListMembers", {})["items"]  # type: ignore[no-any-return]


def add_user(
    platform: Platform, operator: Actor, *, member_id: str, username: str, role: str = "clerk"
) -> Actor:
    """A new user of ``member_id`` with a certified key registered on the ledger."""
    member = get_member(platform, operator, member_id)
    return platform.enrol_user(operator, username=username, member=member, user_role=role)


def revoke_user(platform: Platform, operator: Actor, username: str, reason: str) -> dict[str, Any]:
    """Revoke a user's identity on the ledger: the key never signs a valid transaction again."""
    identity = platform.actor(username).signer.identity
    request = {
        "msp_id": identity.msp_id,
        "certificate_pem": identity.certificate_pem.decode(),
        "reason": reason,
    }
    return platform.submit(operator, "RevokeIdentity", request).result  # type: ignore[no-any-return]
