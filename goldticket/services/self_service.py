"""What a signed-in user does for themself with their own secrets: who they are and their
cards (``GET /me``), choosing or changing a card's PIN, finishing a card's replacement. The
password is changed in ``accounts``. No one else, the operator desk included, can do these."""

from __future__ import annotations

from typing import Any

from goldticket import domain as d

from . import cards, desk
from .context import Actor
from .portal import Portal


def me(portal: Portal, actor: Actor) -> dict[str, Any]:
    """The user and their cards with each card's status."""
    shown = []
    for record in cards.cards_of(portal.platform, actor.username):
        shown.append(
            {
                "card_id": record["card_id"],
                "serial": record["serial"],
                "status": desk.present_card(record)["status"],
                "locked": record["locked"],
            }
        )
    return {"username": actor.username, "org_id": actor.member_id, "role": actor.role, "cards": shown}


def _card_id(card_id: Any) -> str:
    return d.require_text(card_id, "card_id", 64)


def set_card_pin(
    portal: Portal, actor: Actor, card_id: Any, *, new_pin: Any, old_pin: Any = None
) -> dict[str, Any]:
    """The first time: the card's key is made under ``new_pin`` and its identity registered (or
    proposed for approval); afterwards ``old_pin`` and ``new_pin`` change it."""
    record = cards.set_pin(portal.platform, actor, _card_id(card_id), new_pin, old_pin)
    shown = desk.present_card(record)
    return {key: shown[key] for key in ("card_id", "serial", "certificate_pem", "status")}


def recover_card(portal: Portal, actor: Actor, card_id: Any, *, pin: Any) -> dict[str, Any]:
    """Finish a replacement the desk started: the same key and certificate, under ``pin``."""
    record = cards.recover_card(portal.platform, actor, _card_id(card_id), pin)
    shown = desk.present_card(record)
    return {key: shown[key] for key in ("card_id", "serial", "certificate_pem", "status")}
