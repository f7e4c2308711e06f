"""The outbox of notices to deliver by e-mail and webhook (#20): as the follower writes a
notice (:mod:`.notices`), one :class:`~.models.Delivery` row per channel its member chose for
that kind (``notify_preferences``). Queued in the same database transaction as the notice, so
a notice is queued once or not at all; the row's id is a digest of (notice, channel), and the
pair is UNIQUE, so nothing queues it twice (a rebuild finds the notice written and queues
nothing). A notice written before its member chose a channel is not sent by it afterwards.
goldticket.services.notify delivers the rows."""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy.orm import Session

from .models import Delivery, NotifyPreference

CHANNELS = ("email", "webhook")


def delivery_id(notification_id: str, channel: str) -> str:
    """The delivery's id, the same on every attempt and in every process (the receiver's
    deduplication key)."""
    return "DL" + hashlib.sha256(f"{notification_id}\x00{channel}".encode()).hexdigest()[:32]


def chosen(preference: NotifyPreference | None, channel: str, kind: str) -> bool:
    """Whether the member has ``kind`` delivered by ``channel`` (and has where to)."""
    if preference is None:
        return False
    if channel == "email":
        return bool(preference.email_to) and kind in preference.email_kinds.split()
    return (
        bool(preference.webhook_url and preference.webhook_secret)
        and kind in preference.webhook_kinds.split()
    )


def enqueue(session: Session, notification_id: str, member_id: str, kind: str, now: dt.datetime) -> int:
    """Queue the notice by each channel its member chose for ``kind``; returns how many."""
    preference = session.get(NotifyPreference, member_id)
    queued = 0
    for channel in CHANNELS:
        if not chosen(preference, channel, kind):
            continue
        key = delivery_id(notification_id, channel)
        if session.get(Delivery, key) is not None:
            continue
        session.add(
            Delivery(
                id=key,
                notification_id=notification_id,
                member_id=member_id,
                channel=channel,
                state="pending",
                attempts=0,
                next_attempt_at=now,
                lease_until=None,
                last_error="",
                created_at=now,
                delivered_at=None,
            )
        )
        queued += 1
    return queued
