"""Credit lines: a bank offers a core enterprise room to issue tickets; the core accepts (or
declines) the offer, and only accepted lines are drawn."""

from __future__ import annotations

from typing import Any

from goldticket import domain as d

from . import access
from .context import OPERATOR, Actor
from .platform import Platform


def grant_credit_line(
    platform: Platform, bank_user: Actor, *, core_org_id: str, limit_fen: int, pin: str
) -> dict[str, Any]:
    d.require_fen(limit_fen, "limit_fen")
    access.require_member_role(platform, bank_user, "bank")
    return platform.submit(
        bank_user, "GrantCreditLine", {"core_org_id": core_org_id, "limit_fen": limit_fen}, pin=pin
    ).result  # type: ignore[no-any-return]


def accept_credit_line(
    platform: Platform, core_user: Actor, *, credit_line_id: str, pin: str
) -> dict[str, Any]:
    """The core enterprise accepts a line a bank offered it: ``"status": "active"``."""
    return _answer(platform, core_user, "AcceptCreditLine", credit_line_id, pin)


def decline_credit_line(
    platform: Platform, core_user: Actor, *, credit_line_id: str, pin: str
) -> dict[str, Any]:
    """The core enterprise declines a line a bank offered it: ``"status": "declined"``."""
    return _answer(platform, core_user, "DeclineCreditLine", credit_line_id, pin)


def _answer(
    platform: Platform, core_user: Actor, function: str, credit_line_id: str, pin: str
) -> dict[str, Any]:
    line_id = d.require_text(credit_line_id, "credit_line_id", 64)
    access.require_member_role(platform, core_user, "core")
    return platform.submit(core_user, function, {"credit_line_id": line_id}, pin=pin).result  # type: ignore[no-any-return]


def list_credit_lines(
    platform: Platform, actor: Actor | None, core_org_id: str | None = None
) -> list[dict[str, Any]]:
    """The lines ``actor`` may see: a bank those it offered, a core enterprise its own, the
    operator (or no actor: the platform itself) every line."""
    request = {"core_org_id": core_org_id} if core_org_id else {}
    items: list[dict[str, Any]] = platform.evaluate("ListCreditLines", request)["items"]
    if actor is None or actor.member_id == OPERATOR:
        return items
    return [line for line in items if actor.member_id in (line["bank_org_id"], line["core_org_id"])]
