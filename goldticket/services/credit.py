"""Credit lines: a bank grants a core enterprise room to issue tickets."""

from __future__ import annotations

from typing import Any

from goldticket import domain as d

from . import access
from .context import Actor
from .platform import Platform


def grant_credit_line(
    platform: Platform, bank_user: Actor, *, core_org_id: str, limit_fen: int, pin: str
) -> dict[str, Any]:
    d.require_fen(limit_fen, "limit_fen")
    access.require_member_role(platform, bank_user, "bank")
    return platform.submit(
        bank_user, "GrantCreditLine", {"core_org_id": core_org_id, "limit_fen": limit_fen}, pin=pin
    ).result  # type: ignore[no-any-return]


def list_credit_lines(
    platform: Platform, actor: Actor, core_org_id: str | None = None
) -> list[dict[str, Any]]:
    request = {"core_org_id": core_org_id} if core_org_id else {}
    return platform.evaluate("ListCreditLines", request)["items"]  # type: ignore[no-any-return]
