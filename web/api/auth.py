"""Tokens: log in for a bearer token, log out (revoke it); activate an account with its
one-time code; and what a user does with their own secrets: change the password, choose or
change a card's PIN, finish a card's replacement (``/me``)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from goldticket.services import accounts, self_service
from goldticket.services.context import Actor

from ._endpoint import Write, endpoint, portal
from .schemas import Activation, CardPin, Login, PasswordChange, Signed

bp = Blueprint("auth", __name__, url_prefix="/auth")
me_bp = Blueprint("me", __name__, url_prefix="/me")


def _client() -> str:
    return request.remote_addr or "unknown"


def _token() -> str:
    return request.headers["Authorization"].partition(" ")[2].strip()


@endpoint(bp, "/token", "POST", summary="Log in: a bearer token and when it expires", body=Login, auth=False)
def create_token(body: Login) -> dict[str, Any]:
    return accounts.login(portal(), body.username, body.password, _client())


@endpoint(
    bp,
    "/activate",
    "POST",
    summary="Set your own password with the one-time activation code: a bearer token",
    body=Activation,
    auth=False,
)
def activate(body: Activation) -> dict[str, Any]:
    return accounts.activate(portal(), body.username, body.activation_code, body.password, _client())


@endpoint(bp, "/token", "DELETE", summary="Log out: revoke the token of this request")
def revoke_token(actor: Actor) -> dict[str, Any]:
    accounts.revoke(portal(), _token())
    return {"revoked": True}


@endpoint(bp, "/me", "GET", summary="Who the token belongs to")
def me(actor: Actor) -> dict[str, Any]:
    return self_service.me(portal(), actor)


@endpoint(me_bp, "", "GET", summary="You and your cards")
def whoami(actor: Actor) -> dict[str, Any]:
    return self_service.me(portal(), actor)


@endpoint(
    me_bp,
    "/password",
    "POST",
    summary="Change your password; your other tokens are revoked",
    body=PasswordChange,
)
def change_password(actor: Actor, body: PasswordChange) -> dict[str, Any]:
    return accounts.change_password(
        portal(), actor, _token(), body.old_password, body.new_password, _client()
    )


@endpoint(
    me_bp,
    "/cards/<card_id>/pin",
    "POST",
    summary="Choose your new card's PIN (key made, identity registered), or change it",
    body=CardPin,
    write=True,
)
def card_pin(actor: Actor, body: CardPin, write: Write, card_id: str) -> Any:
    return write.run(
        lambda: self_service.set_card_pin(
            portal(), actor, card_id, new_pin=body.new_pin, old_pin=body.old_pin
        )
    )


@endpoint(
    me_bp,
    "/cards/<card_id>/recover",
    "POST",
    summary="Finish your card's replacement with your PIN: the same key and certificate",
    body=Signed,
    write=True,
)
def recover_card(actor: Actor, body: Signed, write: Write, card_id: str) -> Any:
    return write.run(lambda: self_service.recover_card(portal(), actor, card_id, pin=body.pin))
