"""The portal in the browser: server-rendered pages over the same services and read model as
the API. Signed session cookies (HttpOnly, SameSite=Lax, Secure on HTTPS) carry the login's
token; every form carries a CSRF token (Flask-WTF); pages speak Simplified Chinese first and
English (Flask-Babel, catalogs in translations/, compiled by ``make install``)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_babel import Babel

from . import (  # noqa: F401  (the *_views modules add their pages to the blueprint)
    account_change_views,
    account_views,
    certificate_views,
    dashboard_views,
    find_views,
    formatting,
    help_views,
    inbox_views,
    issue_views,
    notify_views,
    operations_views,
    overdue_views,
    session_views,
    signing_views,
    ticket_views,
    worklist_views,
)
from ._blueprint import bp, csrf

LANGUAGES = ("zh", "en")


class PortalSessions(SecureCookieSessionInterface):
    """The session cookie is Secure whenever the request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure


def secret_key(data_dir: Path) -> str:
    """The key that signs session cookies: made once, 0600, shared by every worker."""
    path = data_dir / "portal-session.key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def locale() -> str:
    chosen = session.get("lang")
    return chosen if chosen in LANGUAGES else "zh"


def init_app(app: Flask, data_dir: Path) -> None:
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = os.environ.get("GOLDTICKET_SESSION_KEY") or secret_key(data_dir)
    app.config.update(
        SESSION_COOKIE_NAME="goldticket_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        BABEL_DEFAULT_LOCALE="zh",
        BABEL_TRANSLATION_DIRECTORIES=str(Path(__file__).parent / "translations"),
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        WTF_CSRF_CHECK_DEFAULT=False,  # checked on the portal's forms only (_blueprint.forms_are_ours);
    )  # the JSON API authenticates each request by its bearer token, not by a cookie
    app.session_interface = PortalSessions()
    Babel(app, locale_selector=locale)
    csrf.init_app(app)
    formatting.init_app(app)
    app.register_blueprint(bp)
