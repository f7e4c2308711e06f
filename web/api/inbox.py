"""What waits for the caller's member (#20): its to-do counts, and its inbox of notifications
from the ledger's events, which its users mark read. A member reads only its own."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from goldticket.services import inbox, worklists
from goldticket.services.context import Actor

from ._endpoint import endpoint, portal
from .schemas import NotificationQuery

bp = Blueprint("inbox", __name__)


@endpoint(bp, "/todo", "GET", summary="How many items of each kind wait for the caller's member")
def todo(actor: Actor) -> dict[str, Any]:
    return worklists.todo_counts(portal(), actor)


@endpoint(
    bp,
    "/notifications",
    "GET",
    summary="The caller's member's notifications, newest first",
    query=NotificationQuery,
)
def notifications(actor: Actor, query: NotificationQuery) -> dict[str, Any]:
    return inbox.notifications(portal(), actor, page=query.page, per_page=query.per_page, unread=query.unread)


@endpoint(
    bp, "/notifications/<notification_id>/read", "POST", summary="Mark one of the member's notifications read"
)
def mark_read(actor: Actor, notification_id: str) -> dict[str, Any]:
    return inbox.mark_read(portal(), actor, notification_id)
