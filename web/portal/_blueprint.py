"""The portal's one blueprint and what every page of it shares: the CSRF check on every form,
the login every page but a few needs, the page headers, the layout's names, the portal and
the signed-in actor of the request. The page modules (*_views) register their routes on
:data:`bp`."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, current_app, g, redirect, request, session, url_for
from flask_wtf.csrf import CSRFProtect
from werkzeug.wrappers import Response

from goldticket import domain as d
from goldticket.ledger import LedgerError
from goldticket.services import accounts, reads
from goldticket.services.context import OPERATOR, Actor
from goldticket.services.portal import Portal
from goldticket.signing.errors import SigningError

bp = Blueprint(
    "portal", __name__, template_folder="templates", static_folder="static", static_url_path="/static/portal"
)
OPEN_ENDPOINTS = {"portal.login", "portal.language", "portal.static", "portal.public_verify"}
TypedError = (d.DomainError, SigningError, LedgerError)
csrf = CSRFProtect()


def portal() -> Portal:
    return current_app.extensions["goldticket"]  # type: ignore[no-any-return]


def actor() -> Actor:
    return g.actor  # type: ignore[no-any-return]


# endpoint -> the body size it may take from this request (None: the application's 256 KiB),
# decided from the session alone, before the body is read (issue_views: core users only)
UPLOAD_LIMITS: dict[str, Callable[[], int | None]] = {}


@bp.before_request
def upload_limit() -> None:
    """A larger body only where a page takes a file, and only for whom it takes one: set before
    the CSRF check below parses the form."""
    allowance = UPLOAD_LIMITS.get(request.endpoint or "")
    if allowance is not None and request.method == "POST":
        limit = allowance()
        if limit:
            request.max_content_length = limit


@bp.before_request
def forms_are_ours() -> None:
    """Every POST of the portal carries the session's CSRF token (400 otherwise)."""
    csrf.protect()


@bp.before_request
def signed_in() -> Response | None:
    g.actor = None
    token = session.get("token")
    if token:
        try:
            g.actor = accounts.authenticate(portal(), token)
        except d.DomainError:
            session.pop("token", None)
    if g.actor is None and request.endpoint not in OPEN_ENDPOINTS:
        return redirect(url_for("portal.login", next=request.path))
    return None


PAGE_HEADERS = {
    # our own script and styles only; no page of ours in another site's frame (a signing page
    # under a clickjacking overlay); forms post only here
    "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


@bp.after_request
def page_headers(response: Response) -> Response:
    for name, value in PAGE_HEADERS.items():
        if name == "Cache-Control" and request.endpoint == "portal.static":
            continue
        response.headers.setdefault(name, value)
    return response


def member_names() -> dict[str, dict[str, Any]]:
    if "members" not in g:
        items = reads.list_members(portal(), Actor("", OPERATOR, "")).get("items", [])
        g.members = {member["id"]: member for member in items}
    return g.members  # type: ignore[no-any-return]


def org_name(member_id: Any) -> str:
    """A member's name in the page's language (its id for a member unknown here)."""
    member = member_names().get(str(member_id))
    if member is None:
        return str(member_id)
    if session.get("lang") == "en" and member.get("name_en"):
        return str(member["name_en"])
    return str(member["name"])


@bp.app_context_processor
def layout() -> dict[str, Any]:
    if "actor" not in g:  # an error met before the login was read (a body too large): the header stays
        g.actor = None
        token = session.get("token")
        if token:
            with contextlib.suppress(*TypedError):
                g.actor = accounts.authenticate(portal(), token)
    current = g.get("actor")
    member = member_names().get(current.member_id) if current else None
    return {
        "me": current,
        "my_role": member["role"] if member else None,
        "org_name": org_name,
        "lang": session.get("lang", "zh"),
    }


def referrer_path() -> str | None:
    """The path of the page the request came from (its Referer), or None: none, or one
    urlsplit cannot read (a bracket out of place is its ValueError)."""
    try:
        return urlsplit(request.referrer).path if request.referrer else None
    except ValueError:
        return None


def safe_next(target: str | None) -> str:
    """``target`` if it is a path on this site, else the home page (never a redirect away)."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("portal.home")
