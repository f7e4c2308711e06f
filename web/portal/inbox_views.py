"""The inbox page (#20): the member's notifications from the ledger's events, newest first,
each marked read by a form (CSRF like every form); and the navigation's to-do badges, counted by
the services for the signed-in user's member on every page."""

from __future__ import annotations

import logging
from typing import Any

from flask import abort, g, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from goldticket import domain as d
from goldticket.services import inbox, worklists
from goldticket.services.context import OPERATOR, Actor

from ._blueprint import actor, bp, member_names, portal

log = logging.getLogger("goldticket.web")

# what each notification says, by kind (goldticket.store.notices.KINDS)
NOTICE_TEXT = {
    "ticket_issued": _l("A ticket was issued to you: accept or reject it"),
    "ticket_accepted": _l("Your ticket was accepted by its payee"),
    "ticket_rejected": _l("Your ticket was rejected by its payee"),
    "ticket_cancelled": _l("A ticket issued to you was withdrawn by its issuer"),
    "ticket_settled": _l("A piece you held was paid at maturity"),
    "ticket_frozen": _l("A piece you hold was frozen by the operator"),
    "ticket_unfrozen": _l("A piece you hold was unfrozen by the operator"),
    "offer_received": _l("A transfer was offered to you: accept or reject it"),
    "offer_accepted": _l("Your transfer offer was accepted"),
    "offer_rejected": _l("Your transfer offer was rejected"),
    "offer_withdrawn": _l("A transfer offered to you was withdrawn"),
    "assignment_notified": _l("Notice of assignment: a receivable you owe was assigned"),
    "financing_requested": _l("A financing application waits for your review"),
    "financing_approved": _l("Your financing application was approved"),
    "financing_rejected": _l("Your financing application was declined"),
    "account_changed": _l("A counterparty's settlement account changed"),
}
# the nav's to-do entries by role: (kind of worklists.todo_counts, label, the home page's section)
TODO_ENTRIES = {
    "supplier": [
        ("tickets_to_accept", _l("To accept"), "inbox"),
        ("offers_to_accept", _l("Offers"), "inbox"),
        ("pieces_due_soon", _l("Due soon"), "holdings"),
    ],
    "bank": [
        ("applications_to_review", _l("To review"), "applications"),
        ("pieces_due_soon", _l("Due soon"), "portfolio"),
    ],
    "core": [("pieces_due_soon", _l("Due soon"), "due")],
}


def nav_counts(me: Actor, role: str | None) -> dict[str, Any]:
    """The layout's badges: the role's to-do entries with their counts, the maker-checker
    operations waiting for this user's review (on the link to the review page), and the unread
    notifications (none for the operator, whom no event concerns)."""
    if me.member_id == OPERATOR or role is None:
        return {"todo": [], "unread": None, "reviews": 0}
    counts = worklists.todo_counts(portal(), me)
    entries = [
        {"kind": kind, "label": label, "anchor": anchor, "count": counts[kind]}
        for kind, label, anchor in TODO_ENTRIES.get(role, [])
    ]
    return {
        "todo": entries,
        "unread": inbox.unread_count(portal(), me),
        "reviews": counts["operations_to_review"],
    }


@bp.app_context_processor
def badges() -> dict[str, Any]:
    """``nav`` for the layout, counted once per request, after the login was read (the
    layout's own processor reads it where a page failed before; then no badge is shown)."""
    if "nav" not in g:
        me = g.get("actor")
        role = member_names().get(me.member_id, {}).get("role") if me else None
        g.nav = {"todo": [], "unread": None, "reviews": 0}
        try:
            if me is not None:
                g.nav = nav_counts(me, role)
        except Exception:  # an error page for a database down: shown, without its badges
            log.exception("the navigation's counts failed")
    return {"nav": g.nav}


def _page() -> int:
    try:
        return min(max(1, int(request.args.get("page", "1"))), 1_000_000)  # as the API's Paging
    except ValueError:
        return 1


@bp.get("/inbox")
def notifications() -> Any:
    me = actor()
    if me.member_id == OPERATOR:
        abort(404)
    page = _page()
    listed = inbox.notifications(portal(), me, page=page)
    return render_template(
        "portal/inbox.html", listed=listed, page=page, per_page=inbox.LIMIT, texts=NOTICE_TEXT
    )


@bp.post("/inbox/<notification_id>/read")
def mark_read(notification_id: str) -> Any:
    try:
        inbox.mark_read(portal(), actor(), notification_id)
    except d.NotFoundError:
        abort(404)
    return redirect(url_for("portal.notifications", page=request.form.get("page", "1")))


@bp.post("/inbox/read")
def mark_all_read() -> Any:
    if actor().member_id == OPERATOR:
        abort(404)
    inbox.mark_all_read(portal(), actor())
    return redirect(url_for("portal.notifications"))
