"""A user's own secrets in the browser: activating the account with the desk's one-time code
(choosing the password), changing the password, choosing or changing a card's PIN and
finishing a card's replacement. Each form posts straight to one service call; nothing here is
done for anyone but the signed-in user (the activation page excepted, which needs the code)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from goldticket import domain as d
from goldticket.services import accounts, self_service

from ._blueprint import OPEN_ENDPOINTS, TypedError, actor, bp, portal
from .service_messages import sentence

OPEN_ENDPOINTS.add("portal.activate")


def _client() -> str:
    return request.remote_addr or "unknown"


@bp.route("/activate", methods=["GET", "POST"])
def activate() -> Any:
    """The user types the desk's code and chooses their password; then they are logged in."""
    error = None
    if request.method == "POST":
        password = request.form.get("password", "")
        try:
            if password != request.form.get("password_again", ""):
                raise d.InvalidInputError(_("The two passwords differ."))
            answer = accounts.activate(
                portal(),
                request.form.get("username", ""),
                request.form.get("activation_code", ""),
                password,
                _client(),
            )
        except TypedError as failure:
            error = sentence(failure)
        else:
            lang = session.get("lang")
            session.clear()
            if lang:
                session["lang"] = lang
            session["token"] = answer["token"]
            session["tour"] = True  # the first login: the work page shows the tour
            flash(_("Your account is active. Now choose your card's PIN below."), "ok")
            return redirect(url_for("portal.account"))
    return render_template("portal/activate.html", error=error), (401 if error else 200)


@bp.get("/me")
def account() -> Any:
    return render_template("portal/account.html", me_info=self_service.me(portal(), actor()))


@bp.post("/me/password")
def change_password() -> Any:
    try:
        if request.form.get("new_password", "") != request.form.get("new_password_again", ""):
            raise d.InvalidInputError(_("The two passwords differ."))
        accounts.change_password(
            portal(),
            actor(),
            session.get("token", ""),
            request.form.get("old_password", ""),
            request.form.get("new_password", ""),
            _client(),
        )
    except TypedError as failure:
        flash(sentence(failure), "error")
    else:
        flash(_("Your password is changed; your other logins are closed."), "ok")
    return redirect(url_for("portal.account"))


@bp.post("/me/cards/<card_id>/pin")
def card_pin(card_id: str) -> Any:
    old_pin = request.form.get("old_pin") or None
    try:
        if request.form.get("new_pin", "") != request.form.get("new_pin_again", ""):
            raise d.InvalidInputError(_("The two PINs differ."))
        self_service.set_card_pin(
            portal(), actor(), card_id, new_pin=request.form.get("new_pin", ""), old_pin=old_pin
        )
        portal().follower.catch_up()
    except TypedError as failure:
        flash(sentence(failure), "error")
    else:
        flash(_("Your card's PIN is set.") if old_pin is None else _("Your card's PIN is changed."), "ok")
    return redirect(url_for("portal.account"))


@bp.post("/me/cards/<card_id>/recover")
def recover_card(card_id: str) -> Any:
    try:
        self_service.recover_card(portal(), actor(), card_id, pin=request.form.get("pin", ""))
        portal().follower.catch_up()
    except TypedError as failure:
        flash(sentence(failure), "error")
    else:
        flash(_("Your new card works: the same key as the old one, under your PIN."), "ok")
    return redirect(url_for("portal.account"))
