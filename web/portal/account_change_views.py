"""The settlement account page (#21): a member's registered account for its own users, its
account changes, and for its admin the form that asks for a change; the operator's pending
changes are on the desk. The counterparties' notice ("changed on DATE") is shown on the ticket
and statement pages (:func:`notices_of`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import abort, render_template, session

from goldticket import domain as d
from goldticket.services import account_changes, desk
from goldticket.services.context import OPERATOR

from . import account_change_actions  # noqa: F401  (its writes join ACTIONS)
from ._blueprint import actor, bp, portal


@bp.get("/settlement-account")
def settlement_account() -> Any:
    p, me = portal(), actor()
    if me.member_id == OPERATOR:
        abort(404)  # the operator's are on the desk
    try:
        registered = desk.member_kyc(p, me, me.member_id)["kyc"]
    except d.NotFoundError:
        registered = None
    return render_template(
        "portal/settlement_account.html",
        registered=registered,
        changes=account_changes.changes(p, me),
        form=session.pop("form_values", {}),
    )


def notices_of(member_ids: Iterable[str]) -> list[dict[str, Any]]:
    """The signed-in member's counterparties among ``member_ids`` whose account changed."""
    return account_changes.notices(portal(), actor(), set(member_ids))
