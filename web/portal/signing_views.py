"""The two steps of every portal write. ``/sign/<name>`` shows the confirmation page: exactly
what will be signed (action, ticket, counterparty, amount in figures and in capitals) and the
secrets to type (the card PIN); ``/sign/<name>/commit`` signs with them under the idempotency
record of the API (a double submit signs once) and shows a refusal as a sentence on the
confirmation page. The writes themselves are the :data:`actions.ACTIONS`."""

from __future__ import annotations

import secrets
from typing import Any

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from goldticket.services import dual_control, idempotency, rehearsal

# each *_actions module adds its writes to ACTIONS
from . import (  # noqa: F401
    approval_views,
    desk_actions,
    financing_actions,
    overdue_actions,
    reconciliation_actions,
    registration_actions,
    review_views,
    ticket_actions,
    transfer_actions,
)
from ._blueprint import TypedError, actor, bp, portal, referrer_path, safe_next
from .actions import ACTIONS, Summary
from .service_messages import sentence


def confirmation(name: str, values: dict[str, str], error: str | None = None) -> Any:
    action = ACTIONS[name]
    summary: Summary = action.prepare(portal(), actor(), values)
    carried = {field: summary.values.get(field, "") for field in action.fields}
    if error is None and action.rehearses:  # the chaincode's own rules, before the PIN
        me, blank = actor(), {field: "" for field, _label in action.secrets}
        rehearsal.rehearse(portal(), lambda stand_in: action.perform(stand_in, me, carried, blank))
    return render_template(
        "portal/confirm.html",
        action=action,
        summary=summary,
        carried=carried,
        request_key=request.form.get("request_key") or secrets.token_urlsafe(16),
        error=error,
        for_review=review_views.for_review(portal(), actor(), name, summary.amount_fen),
    ), (422 if error else 200)


@bp.post("/sign/<name>")
def confirm(name: str) -> Any:
    if name not in ACTIONS:
        abort(404)
    values = {field: request.form.get(field, "") for field in ACTIONS[name].fields}
    try:
        return confirmation(name, values)
    except TypedError as failure:
        flash(sentence(failure), "error")
        session["form_values"] = values  # the form shows them again beside the error (never a secret)
        back = request.form.get("back")
        return redirect(safe_next(back or referrer_path()))


@bp.post("/sign/<name>/commit")
def commit(name: str) -> Any:
    if name not in ACTIONS:
        abort(404)
    action = ACTIONS[name]
    values = {field: request.form.get(field, "") for field in action.fields}
    typed = {field: request.form.get(field, "") for field, _label in action.secrets}
    key = request.form.get("request_key") or None
    p, me = portal(), actor()

    def once() -> tuple[int, Any]:
        result = action.perform(p, me, values, typed)
        p.follower.catch_up()
        return 200, result

    def recover(result: Any) -> tuple[int, Any]:
        p.follower.catch_up()
        return 200, result

    try:
        if not action.keeps_answer:
            result = action.perform(p, me, values, typed)
            return render_template("portal/activation_code.html", result=result, action=action)
        fingerprint = idempotency.fingerprint("PORTAL", name, values)
        outcome = idempotency.run(p, me, key and f"portal:{key}", fingerprint, once, recover)
    except TypedError as failure:
        try:
            return confirmation(name, values, error=sentence(failure))
        except TypedError as again:  # the thing to sign is gone (e.g. already answered)
            flash(sentence(again), "error")
            return redirect(url_for("portal.home"))
    result = outcome.body
    if dual_control.is_pending(result):  # maker-checker: prepared, a reviewer signs it into effect
        flash(
            _(
                "Prepared for review: %(action)s. Another user of your member reviews and signs it.",
                action=action.title,
            ),
            "ok",
        )
        return redirect(review_views.pending_page(result))
    flash(_("Signed and committed: %(action)s.", action=action.title), "ok")
    if name == "settle":  # the clearing statement on a page of its own (a reload signs nothing)
        return redirect(
            url_for("portal.statement", root_id=result["root_id"], statement_id=result["statement_id"])
        )
    target = action.done(result, values)
    if not target:
        return redirect(url_for("portal.credit_lines"))
    if target.startswith("/"):
        return redirect(target)
    return redirect(url_for("portal.ticket", ticket_id=target))
