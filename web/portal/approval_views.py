"""A member admin's approvals (issue #17): the identities of its member's new cards, which sign
nothing the ledger accepts until an admin of the member approves them, and the recovery of
another member left without an admin, approved by admins of a majority of the other members.
Each approval is signed with the admin's own card on the confirmation page; the page and the
writes are refused to anyone else, as the API's are."""

from __future__ import annotations

from typing import Any

from flask import abort, render_template, url_for
from flask_babel import lazy_gettext as _l

from goldticket import domain as d
from goldticket.services import cards, desk
from goldticket.services.context import Actor
from goldticket.services.portal import Portal

from ._blueprint import actor, bp, portal
from .actions import ACTIONS, Action, Summary, text


@bp.get("/approvals")
def approvals() -> Any:
    try:
        waiting = cards.awaiting_approval(portal().platform, actor())
    except d.ForbiddenError:
        abort(403)
    return render_template("portal/approvals.html", waiting=waiting)


def _waiting(portal_: Portal, admin: Actor, values: dict[str, str], kind: str) -> Summary:
    """The card named in the form, if it is one this admin may approve now (else refused before
    the PIN is asked for: nothing is signed)."""
    serial = text(values, "card_id", 32)
    for card in cards.awaiting_approval(portal_.platform, admin)[kind]:
        if card["card_id"] == serial:
            rows: list[tuple[Any, Any]] = [(_l("User"), card["username"]), (_l("Card"), serial)]
            if card["recovery"]:
                progress = card["recovery"]
                rows.append(
                    (_l("Approvals so far"), f"{progress['approvals']} / {progress['needed'] or '-'}")
                )
            return Summary(values, counterparty=card["member_id"], rows=rows)
    raise d.NotFoundError(f"card {serial} is not waiting for your approval")


ACTIONS.update(
    {
        action.name: action
        for action in [
            Action(
                "approve_card",
                _l("Approve the identity of a new card of your member"),
                ("card_id",),
                lambda p, a, v: _waiting(p, a, v, "members"),
                lambda p, a, v, s: desk.approve_card(p, a, text(v, "card_id", 32), pin=s["pin"]),
                lambda result, v: url_for("portal.approvals"),
            ),
            Action(
                "approve_recovery",
                _l("Approve the recovery of a member without an admin"),
                ("card_id",),
                lambda p, a, v: _waiting(p, a, v, "recoveries"),
                lambda p, a, v, s: desk.approve_recovery(p, a, text(v, "card_id", 32), pin=s["pin"]),
                lambda result, v: url_for("portal.approvals"),
            ),
        ]
    }
)
