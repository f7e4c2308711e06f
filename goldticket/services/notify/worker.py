"""Delivering the outbox (goldticket.store.outbox): each round claims the deliveries that are
due, sends them, and records the outcome.

A round takes the due rows with the write lock and leases them (``lease_until``), so workers
in several processes never send the same row at once; it sends outside any transaction, then
marks each row delivered, or schedules its next attempt after an exponential backoff
(GOLDTICKET_NOTIFY_BACKOFF_SECONDS, doubled each attempt), or marks it failed after
GOLDTICKET_NOTIFY_MAX_ATTEMPTS. A process that dies between sending and marking leaves the
lease to expire and the row is sent again with the same delivery id: delivery is
at-least-once and receivers deduplicate on the id. A member who turns a channel off before
the row is sent has it cancelled, not sent. E-mail waits while no SMTP host is set."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import threading
from typing import Any

from sqlalchemy import or_, select

from goldticket.store.models import Delivery, MemberRow, Notification, NotifyPreference
from goldticket.store.outbox import chosen

from ..portal import Portal
from . import channels, sealed, texts

log = logging.getLogger("goldticket.notify")
BATCH = 50
LEASE = dt.timedelta(minutes=5)


@dataclasses.dataclass
class Round:
    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    cancelled: int = 0


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _claim(portal: Portal, now: dt.datetime, limit: int) -> list[str]:
    channels_on = ["webhook"] + (["email"] if portal.settings.smtp_host else [])
    with portal.database.session(immediate=True) as session:
        rows = session.scalars(
            select(Delivery)
            .where(
                Delivery.state == "pending",
                Delivery.next_attempt_at <= now,
                Delivery.channel.in_(channels_on),
                or_(Delivery.lease_until.is_(None), Delivery.lease_until <= now),
            )
            .order_by(Delivery.next_attempt_at, Delivery.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        for row in rows:
            row.lease_until = now + LEASE
            row.attempts += 1
        return [row.id for row in rows]


def _notice(row: Notification) -> dict[str, Any]:
    return {
        "id": row.id,
        "kind": row.kind,
        "ticket_id": row.ticket_id,
        "subject_id": row.subject_id or None,
        "other_org_id": row.other_org_id or None,
        "amount_fen": row.amount_fen,
        "tx_id": row.tx_id,
        "timestamp": row.timestamp,
    }


def _counterparty(session: Any, org_id: str) -> str:
    if not org_id:
        return ""
    row = session.get(MemberRow, org_id)
    name = json.loads(row.doc).get("name") if row is not None else None
    return f"{name} ({org_id})" if name else org_id


def _send(portal: Portal, key: str) -> str:
    """Send one claimed delivery: "delivered" or "cancelled"; raises DeliveryFailed."""
    with portal.database.session() as session:
        row = session.get(Delivery, key)
        notice = session.get(Notification, row.notification_id) if row is not None else None
        preference = session.get(NotifyPreference, row.member_id) if row is not None else None
        if row is None or notice is None or not chosen(preference, row.channel, notice.kind):
            return "cancelled"
        assert preference is not None
        channel, member_id = row.channel, row.member_id
        document = _notice(notice)
        counterparty = _counterparty(session, notice.other_org_id)
        language, addresses = preference.language, [a for a in preference.email_to.split(",") if a]
        url, secret = preference.webhook_url, preference.webhook_secret
    if channel == "webhook":
        try:
            secret = sealed.unseal(portal.platform.keystore.sealing_key(), member_id, secret)
        except sealed.SealError as error:
            raise channels.DeliveryFailed(str(error)) from None
        body = channels.webhook_body(key, member_id, document)
        channels.post_webhook(
            url, secret, key, body, portal.settings.webhook_timeout, public_only=portal.settings.env == "prod"
        )
    else:
        text = texts.body(
            language,
            document["kind"],
            ticket_id=document["ticket_id"],
            amount_fen=document["amount_fen"],
            counterparty=counterparty,
            timestamp=document["timestamp"],
            url=f"{portal.settings.public_url.rstrip('/')}/tickets/{document['ticket_id']}"
            if document["ticket_id"]
            else f"{portal.settings.public_url.rstrip('/')}/inbox",
        )
        subject = texts.subject(language, document["kind"])
        channels.send_email(portal.settings, to=addresses, subject=subject, text=text, delivery_id=key)
    return "delivered"


def _backoff(portal: Portal, attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=portal.settings.notify_backoff_seconds * 2 ** max(0, attempts - 1))


def run_once(portal: Portal, *, now: dt.datetime | None = None, limit: int = BATCH) -> Round:
    """One round: every due delivery (at most ``limit``) sent once. ``now`` decides what is
    due (a test moves it past a backoff)."""
    now = now or _now()
    done = Round()
    for key in _claim(portal, now, limit):
        try:
            outcome, reason = _send(portal, key), ""
        except channels.DeliveryFailed as error:
            outcome, reason = "failed", str(error)
        except Exception as error:  # a bug here must not stop the other deliveries
            log.exception("delivery %s could not be sent", key)
            outcome, reason = "failed", f"internal error ({type(error).__name__})"
        finished = _now()
        with portal.database.session(immediate=True) as session:
            row = session.get(Delivery, key)
            if row is None:
                continue
            row.lease_until = None
            if outcome == "delivered":
                row.state, row.delivered_at, row.last_error = "delivered", finished, ""
                done.delivered += 1
            elif outcome == "cancelled":
                row.state = "cancelled"
                done.cancelled += 1
            elif row.attempts >= portal.settings.notify_max_attempts:
                row.state, row.last_error = "failed", reason[:300]
                done.failed += 1
                log.warning("delivery %s by %s failed for good: %s", key, row.channel, reason)
            else:
                row.next_attempt_at = now + _backoff(portal, row.attempts)
                row.last_error = reason[:300]
                done.retrying += 1
                log.info("delivery %s by %s will be tried again: %s", key, row.channel, reason)
    return done


def start(portal: Portal, every: float) -> threading.Event:
    """Deliver in a background thread every ``every`` seconds (the web app, when
    GOLDTICKET_NOTIFY_SECONDS is set); set the returned event to stop it."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(every):
            try:
                run_once(portal)
            except Exception:  # the next round tries again
                log.exception("the notification deliveries could not run")

    threading.Thread(target=loop, name="goldticket-notify", daemon=True).start()
    return stop
