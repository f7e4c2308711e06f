"""A member's notification deliveries (#20): what it has sent by e-mail and to its webhook,
set by its own admin (goldticket.services.notify.preferences), and the state of what was sent."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from goldticket.services.context import Actor
from goldticket.services.notify import preferences

from ._endpoint import endpoint, portal
from .schemas import NotifySettings

bp = Blueprint("notify", __name__)
RULE = "/orgs/<org_id>/notification-settings"


@endpoint(bp, RULE, "GET", summary="The member's e-mail and webhook delivery preferences (its admin)")
def get_settings(actor: Actor, org_id: str) -> dict[str, Any]:
    return preferences.get(portal(), actor, org_id)


@endpoint(
    bp,
    RULE,
    "PUT",
    summary="Replace the member's delivery preferences; a new webhook's secret is answered once",
    body=NotifySettings,
)
def put_settings(actor: Actor, org_id: str, body: NotifySettings) -> dict[str, Any]:
    return preferences.update(portal(), actor, org_id, **body.model_dump())


@endpoint(
    bp,
    RULE + "/webhook-secret",
    "POST",
    summary="A new webhook signing secret, answered once (the old one stops at once)",
)
def rotate_secret(actor: Actor, org_id: str) -> dict[str, Any]:
    return preferences.rotate_secret(portal(), actor, org_id)


@endpoint(bp, "/orgs/<org_id>/deliveries", "GET", summary="The member's latest e-mail and webhook deliveries")
def deliveries(actor: Actor, org_id: str) -> dict[str, Any]:
    return {"items": preferences.deliveries(portal(), actor, org_id)}
