"""A member admin's notification settings page (#20): which notices its member receives by
e-mail and at its webhook, the e-mails' language, and the state of the latest deliveries. The
webhook's signing secret is shown once, on the page that answers the save that made it (or a
rotation), never stored in the session cookie and never shown again. Anyone but an admin of
the member gets 403, as from the API (goldticket.services.notify.preferences)."""

from __future__ import annotations

import re
from typing import Any

from flask import abort, make_response, render_template, request
from flask_babel import gettext as _

from goldticket import domain as d
from goldticket.services.context import OPERATOR
from goldticket.services.notify import preferences
from goldticket.store.notices import KINDS

from ._blueprint import actor, bp, portal
from .inbox_views import NOTICE_TEXT
from .service_messages import sentence


def failure_text(reason: str | None) -> str:
    """A delivery's last error (goldticket.services.notify.channels) in the page's language."""
    if not reason:
        return ""
    status = re.fullmatch(r"the receiver answered HTTP (\d+)", reason)
    if status:
        return _("The receiver answered HTTP %(status)s.", status=status.group(1))
    kind = re.search(r"\(([^)]*)\)$", reason)
    detail = f" ({kind.group(1)})" if kind else ""
    if reason == "the receiver did not answer in time":
        return _("The receiver did not answer in time.")
    if reason.startswith("no answer from the receiver"):
        return _("The receiver could not be reached.") + detail
    if reason.startswith("the SMTP server refused"):
        return _("The mail server refused the e-mail.") + detail
    return _("The e-mail could not be sent.") + detail


def _render(
    settings: dict[str, Any], *, secret: str | None = None, error: str | None = None, saved: bool = False
) -> Any:
    me = actor()
    page = render_template(
        "portal/notify_settings.html",
        settings=settings,
        kinds=KINDS,
        texts=NOTICE_TEXT,
        deliveries=preferences.deliveries(portal(), me, me.member_id, limit=20),
        failure_text=failure_text,
        secret=secret,
        error=error,
        saved=saved,
    )
    response = make_response(page, 400 if error else 200)
    response.headers["Cache-Control"] = "no-store"  # a page may carry the secret, once
    return response


def _mine() -> dict[str, Any]:
    me = actor()
    if me.member_id == OPERATOR:
        abort(404)
    try:
        return preferences.get(portal(), me, me.member_id)
    except d.ForbiddenError:
        abort(403)


@bp.get("/settings/notifications")
def notify_settings() -> Any:
    return _render(_mine())


@bp.post("/settings/notifications")
def save_notify_settings() -> Any:
    current = _mine()
    form = request.form
    wanted: dict[str, Any] = {
        "language": form.get("language", "zh"),
        "email_to": [item for item in re.split(r"[\s,;]+", form.get("email_to", "")) if item],
        "email_kinds": [kind for kind in form.getlist("email_kinds") if kind in KINDS],
        "webhook_url": form.get("webhook_url", "").strip() or None,
        "webhook_kinds": [kind for kind in form.getlist("webhook_kinds") if kind in KINDS],
    }
    me = actor()
    try:
        saved = preferences.update(portal(), me, me.member_id, **wanted)
    except (d.InvalidInputError, d.RuleViolationError) as failure:
        return _render({**current, **wanted}, error=sentence(failure))
    return _render(saved, secret=saved.get("webhook_secret"), saved=True)


@bp.post("/settings/notifications/secret")
def rotate_webhook_secret() -> Any:
    current = _mine()
    me = actor()
    try:
        rotated = preferences.rotate_secret(portal(), me, me.member_id)
    except d.StateConflictError as failure:
        return _render(current, error=sentence(failure))
    return _render(rotated, secret=rotated["webhook_secret"])
