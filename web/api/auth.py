"""Tokens: log in for a bearer token, log out (revoke it)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from goldticket.services import accounts
from goldticket.services.context import Actor

from ._endpoint import endpoint, portal
from .schemas import Login

bp = Blueprint("auth", __name__, url_prefix="/auth")


@endpoint(bp, "/token", "POST", summary="Log in: a bearer token and when it expires", body=Login, auth=False)
def create_token(body: Login) -> dict[str, Any]:
    client = request.remote_addr or "unknown"
    return accounts.login(portal(), body.username, body.password, client)


@endpoint(bp, "/token", "DELETE", summary="Log out: revoke the token of this request")
def revoke_token(actor: Actor) -> dict[str, Any]:
    token = request.headers["Authorization"].partition(" ")[2].strip()
    accounts.revoke(portal(), token)
    return {"revoked": True}


@endpoint(bp, "/me", "GET", summary="Who the token belongs to")
def me(actor: Actor) -> dict[str, Any]:
    return {"username": actor.username, "org_id": actor.member_id, "role": actor.role}
