"""The portal's login and session: the login form (a new session for each login, back only to
a page of this site), logout (the login's token revoked) and the page language, kept across
logins."""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from goldticket import domain as d
from goldticket.services import accounts

from ._blueprint import bp, portal, safe_next
from .service_messages import sentence


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    error = None
    if request.method == "POST":
        try:
            answer = accounts.login(
                portal(),
                request.form.get("username", ""),
                request.form.get("password", ""),
                request.remote_addr or "unknown",
            )
        except d.DomainError as failure:
            error = sentence(failure)
        else:
            lang = session.get("lang")
            session.clear()  # a new session for the new login
            if lang:
                session["lang"] = lang
            session["token"] = answer["token"]
            return redirect(safe_next(request.args.get("next")))
    return render_template("portal/login.html", error=error), (401 if error else 200)


@bp.post("/logout")
def logout() -> Response:
    token = session.get("token")
    if token:
        accounts.revoke(portal(), token)
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    return redirect(url_for("portal.login"))


@bp.get("/lang/<code>")
def language(code: str) -> Response:
    if code in ("zh", "en"):
        session["lang"] = code
    return redirect(safe_next(request.args.get("next")))
