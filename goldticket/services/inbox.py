"""A member's inbox (#20): the notifications the follower wrote for it from the ledger's
events (goldticket.store.notices), newest first, and their read state. Need to know: a member's
users read and mark only their own member's notifications; any other id is absent
(NotFoundError), whoever made it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select

from goldticket import domain as d
from goldticket.store.models import Notification
from goldticket.store.notices import KINDS

__all__ = ["KINDS", "mark_all_read", "mark_read", "notifications", "unread_count"]

from .context import Actor
from .portal import Portal

LIMIT = 50
MAX_LIMIT = 500


def _utc(when: dt.datetime | None) -> str | None:
    """SQLite gives back a naive datetime: it was stored in UTC."""
    if when is None:
        return None
    return (when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)).isoformat()


def _present(row: Notification) -> dict[str, Any]:
    return {
        "id": row.id,
        "kind": row.kind,
        "ticket_id": row.ticket_id or None,  # none: a counterparty's account changed (#21)
        "subject_id": row.subject_id or None,
        "other_org_id": row.other_org_id or None,
        "amount_fen": row.amount_fen if row.ticket_id else None,
        "tx_id": row.tx_id,
        "timestamp": row.timestamp,
        "read": row.read_at is not None,
        "read_at": _utc(row.read_at),
    }


def unread_count(portal: Portal, actor: Actor) -> int:
    """How many of the actor's member's notifications no one of its users has read."""
    query = select(func.count()).where(
        Notification.member_id == actor.member_id, Notification.read_at.is_(None)
    )
    with portal.database.session() as session:
        return int(session.scalar(query) or 0)


def notifications(
    portal: Portal, actor: Actor, *, page: int = 1, per_page: int = LIMIT, unread: bool = False
) -> dict[str, Any]:
    """The actor's member's notifications, newest first (by block and transaction), a page of
    them with the total and how many are unread."""
    per_page = max(1, min(per_page, MAX_LIMIT))
    page = max(1, page)
    mine = Notification.member_id == actor.member_id
    where = [mine, Notification.read_at.is_(None)] if unread else [mine]
    with portal.database.session() as session:
        total = session.scalar(select(func.count()).select_from(Notification).where(*where)) or 0
        rows = session.scalars(
            select(Notification)
            .where(*where)
            .order_by(Notification.block.desc(), Notification.txnum.desc(), Notification.id)
            .offset((page - 1) * per_page)
            .limit(per_page)
        ).all()
        items = [_present(row) for row in rows]
        unread_total = session.scalar(
            select(func.count()).select_from(Notification).where(mine, Notification.read_at.is_(None))
        )
    return {"items": items, "total": int(total), "unread": int(unread_total or 0)}


def mark_read(portal: Portal, actor: Actor, notification_id: str) -> dict[str, Any]:
    """Mark one of the actor's member's notifications read (again: it keeps its first time).
    Raises NotFoundError for an id that is not its member's."""
    key = d.require_text(notification_id, "notification_id", 64)
    with portal.database.session(immediate=True) as session:
        row = session.get(Notification, key)
        if row is None or row.member_id != actor.member_id:
            raise d.NotFoundError(f"no notification {key}")
        if row.read_at is None:
            row.read_at = dt.datetime.now(dt.UTC)
        return _present(row)


def mark_all_read(portal: Portal, actor: Actor) -> int:
    """Mark every unread notification of the actor's member read; returns how many."""
    now = dt.datetime.now(dt.UTC)
    with portal.database.session(immediate=True) as session:
        rows = session.scalars(
            select(Notification).where(
                Notification.member_id == actor.member_id, Notification.read_at.is_(None)
            )
        ).all()
        for row in rows:
            row.read_at = now
        return len(rows)
