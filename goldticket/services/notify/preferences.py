"""A member's delivery preferences (#20): which kinds of notice go to its e-mail addresses and
which to its webhook, the e-mails' language, and the webhook's URL and signing secret.

Only an admin of the member itself reads or changes them: not its clerks, not another member,
not the operator (ForbiddenError). The webhook's secret is made by the platform
(``secrets.token_urlsafe``), answered once, when the webhook is first set or the secret
rotated, and never again: reads say only whether one is set. It is never logged, and no error
message carries it.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select

from goldticket import domain as d
from goldticket.store.models import Delivery, NotifyPreference
from goldticket.store.notices import KINDS

from ..context import Actor
from ..portal import Portal
from . import channels, sealed
from .texts import LANGUAGES

MAX_ADDRESSES = 5
MAX_URL = 500
# an address as people type it: local@domain.tld, no spaces, no angle brackets or commas
ADDRESS = r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$"
_ADDRESS = re.compile(ADDRESS)
# a URL as the API's schema takes it: http(s), a host (no user:password@), no white space
# control characters spelled out: Python's \s counts \x1c-\x1f and \x85 as space, a JSON Schema
# (ECMA) \s does not, so a URL valid by the published schema was refused as 400 (#20 found it)
# A bracket only around an IPv6 address ("http://[::1]:8080/"): one elsewhere in the host is no URL
# (urlsplit raises on it; schemathesis drew "https://ÿ]U")
URL = (
    r"^https?://(\[[0-9A-Fa-f:.]+\](:[0-9]+)?|[^\s\x00-\x20\x7f-\xa0/?#@\[\]]+)"
    r"([/?#][^\s\x00-\x20\x7f-\xa0]*)?$"
)
SECRET_PREFIX = "whsec_"


def require_member_admin(actor: Actor, member_id: str) -> None:
    """The member's own admin, no one else (the operator's desk neither)."""
    if actor.member_id != member_id or actor.role != "admin":
        raise d.ForbiddenError("only an admin of this member may see or change its notification settings")


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _kinds(value: Any, name: str) -> str:
    if not isinstance(value, list | tuple) or not all(isinstance(kind, str) for kind in value):
        raise d.InvalidInputError(f"{name} is a list of notice kinds")
    unknown = sorted(set(value) - set(KINDS))
    if unknown:
        raise d.InvalidInputError(f"{name}: unknown notice kind {unknown[0][:40]!r}")
    return " ".join(kind for kind in KINDS if kind in value)


def _addresses(value: Any) -> str:
    if not isinstance(value, list | tuple) or not all(isinstance(item, str) for item in value):
        raise d.InvalidInputError("email_to is a list of e-mail addresses")
    if len(value) > MAX_ADDRESSES:
        raise d.InvalidInputError(f"at most {MAX_ADDRESSES} e-mail addresses")
    cleaned = [item.strip() for item in value if item.strip()]
    for item in cleaned:
        if len(item) > 254 or not _ADDRESS.match(item):
            raise d.InvalidInputError("email_to: not an e-mail address")
    return ",".join(dict.fromkeys(cleaned))


def _url(portal: Portal, value: Any) -> str:
    """A webhook URL: https (http only in dev and test, where receivers run on 127.0.0.1), a
    host, no user or password in it; in production a public host. Never echoed in the error
    (it may carry a token). Raises InvalidInputError (not a URL), RuleViolationError (a URL
    this platform does not post to)."""
    if value is None or value == "":
        return ""
    if not isinstance(value, str) or len(value) > MAX_URL:
        raise d.InvalidInputError(f"webhook_url is a URL of at most {MAX_URL} characters")
    if not re.match(URL, value.strip()):
        raise d.InvalidInputError("webhook_url must name a host, with no user or password in it")
    try:  # a bracket out of place ("http://[127.0.0.1/") is a ValueError of urlsplit's
        parts = urlsplit(value.strip())
        hostname, _port = parts.hostname, parts.port
    except ValueError:  # of the schema's shape, not a host ("[1.2.3.4]", "[:::::]")
        raise d.RuleViolationError("webhook_url must name a host this platform can post to") from None
    schemes = ("https",) if portal.settings.env == "prod" else ("https", "http")
    if parts.scheme not in schemes:
        raise d.RuleViolationError(f"webhook_url must be an {' or '.join(schemes)} URL")
    if not hostname or parts.username or parts.password or any(c.isspace() for c in value.strip()):
        raise d.InvalidInputError("webhook_url must name a host, with no user or password in it")
    if portal.settings.env == "prod" and not channels.public_host(hostname):
        raise d.RuleViolationError("webhook_url must name a public host, not one of this network")
    return value.strip()


def _present(row: NotifyPreference | None, member_id: str) -> dict[str, Any]:
    if row is None:
        return {
            "member_id": member_id,
            "language": "zh",
            "email_to": [],
            "email_kinds": [],
            "webhook_url": None,
            "webhook_kinds": [],
            "webhook_secret_set": False,
            "updated_by": None,
            "updated_at": None,
        }
    updated = row.updated_at if row.updated_at.tzinfo else row.updated_at.replace(tzinfo=dt.UTC)
    return {
        "member_id": row.member_id,
        "language": row.language,
        "email_to": [item for item in row.email_to.split(",") if item],
        "email_kinds": row.email_kinds.split(),
        "webhook_url": row.webhook_url or None,
        "webhook_kinds": row.webhook_kinds.split(),
        "webhook_secret_set": bool(row.webhook_secret),
        "updated_by": row.updated_by,
        "updated_at": updated.isoformat(),
    }


def get(portal: Portal, actor: Actor, member_id: str) -> dict[str, Any]:
    """The member's preferences, without the secret. Raises ForbiddenError."""
    require_member_admin(actor, member_id)
    with portal.database.session() as session:
        return _present(session.get(NotifyPreference, member_id), member_id)


def update(
    portal: Portal,
    actor: Actor,
    member_id: str,
    *,
    language: Any = "zh",
    email_to: Iterable[str] = (),
    email_kinds: Iterable[str] = (),
    webhook_url: Any = None,
    webhook_kinds: Iterable[str] = (),
) -> dict[str, Any]:
    """Replace the member's preferences (each field as given; nothing changes on a refusal).
    When a webhook URL is set and the member has no secret yet, the platform makes one and the
    answer carries it, once, as ``webhook_secret``; removing the URL forgets the secret.
    Raises ForbiddenError, InvalidInputError, RuleViolationError (kinds with nowhere to go, a
    webhook URL this platform does not post to)."""
    require_member_admin(actor, member_id)
    if language not in LANGUAGES:
        raise d.InvalidInputError(f"language is one of {', '.join(LANGUAGES)}")
    addresses = _addresses(list(email_to))
    mail_kinds = _kinds(list(email_kinds), "email_kinds")
    url = _url(portal, webhook_url)
    hook_kinds = _kinds(list(webhook_kinds), "webhook_kinds")
    if mail_kinds and not addresses:
        raise d.RuleViolationError("email_kinds need at least one address in email_to")
    if hook_kinds and not url:
        raise d.RuleViolationError("webhook_kinds need a webhook_url")
    made = None
    with portal.database.session(immediate=True) as session:
        row = session.get(NotifyPreference, member_id)
        if row is None:
            row = NotifyPreference(member_id=member_id, webhook_secret="")
            session.add(row)
        row.language = language
        row.email_to, row.email_kinds = addresses, mail_kinds
        row.webhook_url, row.webhook_kinds = url, hook_kinds
        if not url:
            row.webhook_secret = ""
        elif not row.webhook_secret:
            made = new_secret()
            row.webhook_secret = sealed.seal(portal.platform.keystore.sealing_key(), member_id, made)
        row.updated_by, row.updated_at = actor.username, dt.datetime.now(dt.UTC)
        answer = _present(row, member_id)
    return {**answer, "webhook_secret": made} if made else answer


def rotate_secret(portal: Portal, actor: Actor, member_id: str) -> dict[str, Any]:
    """A new webhook secret (the old one stops signing at once), answered once. Raises
    ForbiddenError, StateConflictError (no webhook set)."""
    require_member_admin(actor, member_id)
    with portal.database.session(immediate=True) as session:
        row = session.get(NotifyPreference, member_id)
        if row is None or not row.webhook_url:
            raise d.StateConflictError("set a webhook_url first")
        made = new_secret()
        row.webhook_secret = sealed.seal(portal.platform.keystore.sealing_key(), member_id, made)
        row.updated_by, row.updated_at = actor.username, dt.datetime.now(dt.UTC)
        return {**_present(row, member_id), "webhook_secret": made}


def _utc(when: dt.datetime | None) -> str | None:
    if when is None:
        return None
    return (when if when.tzinfo else when.replace(tzinfo=dt.UTC)).isoformat()


def deliveries(portal: Portal, actor: Actor, member_id: str, *, limit: int = 50) -> list[dict[str, Any]]:
    """The member's latest deliveries, newest first, with their state (pending, delivered,
    failed after the last attempt, cancelled when the member turned the channel off)."""
    require_member_admin(actor, member_id)
    with portal.database.session() as session:
        rows = session.scalars(
            select(Delivery)
            .where(Delivery.member_id == member_id)
            .order_by(Delivery.created_at.desc(), Delivery.id)
            .limit(max(1, min(limit, 500)))
        ).all()
        return [
            {
                "id": row.id,
                "notification_id": row.notification_id,
                "channel": row.channel,
                "state": row.state,
                "attempts": row.attempts,
                "last_error": row.last_error or None,
                "created_at": _utc(row.created_at),
                "next_attempt_at": _utc(row.next_attempt_at) if row.state == "pending" else None,
                "delivered_at": _utc(row.delivered_at),
            }
            for row in rows
        ]
