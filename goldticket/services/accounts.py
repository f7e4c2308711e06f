"""Accounts: logins of member users, passwords hashed with argon2id, API tokens that expire
and can be revoked, and login rate limiting.

A token is 32 random bytes shown to its owner once; the database keeps only its SHA-256.
Failed logins are counted in the database (every worker process sees the same count) and
slowed down by a growing delay per account and per client address (``login_limits``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from goldticket import domain as d
from goldticket.store.models import Account, Token

from . import access, demo, desk, login_limits, members
from .context import Actor
from .errors import UnauthenticatedError
from .portal import Portal

_DUMMY_HASHES: dict[int, str] = {}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)  # SQLite forgets the zone


def hasher(portal: Portal) -> PasswordHasher:
    return PasswordHasher(memory_cost=portal.settings.password_memory_kib, time_cost=2, parallelism=2)


def check_password(password: Any) -> str:
    if not isinstance(password, str) or not 10 <= len(password) <= 256:
        raise d.InvalidInputError("a password is 10 to 256 characters")
    return password


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def ensure_account(portal: Portal, *, username: str, org_id: str, role: str, password: str) -> bool:
    """Create the login account unless it exists (``init`` and the demo). True if created."""
    with portal.database.session(immediate=True) as session:
        if session.get(Account, username) is not None:
            return False
        session.add(
            Account(
                username=username,
                org_id=org_id,
                role=role,
                password_hash=hasher(portal).hash(check_password(password)),
                created_at=_now(),
            )
        )
        return True


def create_user(
    portal: Portal,
    actor: Actor,
    *,
    desk_pin: str,
    org_id: str,
    username: str,
    password: str,
    role: str,
) -> dict[str, Any]:
    """The operator desk adds a user to a member: the user directory entry and a login.
    ``desk_pin`` is the acting operator admin's card PIN (see ``desk.authenticate``)."""
    access.require_operator_admin(actor)
    check_password(password)
    members.get_member(portal.platform, d.require_text(org_id, "org_id", 64))
    with portal.database.session() as session:
        if session.get(Account, username) is not None:
            raise d.StateConflictError(f"user {username} already exists")
    authenticated = desk.authenticate(portal, actor, desk_pin)
    actor = members.add_user(portal.platform, authenticated, member_id=org_id, username=username, role=role)
    ensure_account(portal, username=actor.username, org_id=org_id, role=role, password=password)
    return {"id": actor.username, "username": actor.username, "org_id": org_id, "role": role}


def login(portal: Portal, username: Any, password: Any, client: str) -> dict[str, Any]:
    """A new token for a right password. Raises UnauthenticatedError (with ``tries_left``) or
    RateLimitedError (with ``retry_after``): see ``login_limits``."""
    if not isinstance(username, str) or not isinstance(password, str) or len(password) > 256:
        raise d.InvalidInputError("username and password are strings")
    username = username[:64]
    now = _now()
    attempt = login_limits.reserve(portal, username, client, now)
    with portal.database.session() as session:
        account = session.get(Account, username)
    if not _verify(portal, account.password_hash if account else None, password):
        raise UnauthenticatedError(_wrong_password(attempt.tries_left), tries_left=attempt.tries_left)
    assert account is not None
    login_limits.succeeded(portal, attempt)
    return _new_token(portal, username, now)


def _wrong_password(tries_left: int) -> str:
    if tries_left:
        return f"wrong username or password; {tries_left} tries left before logins wait"
    return "wrong username or password; further logins wait a while"


def _new_token(portal: Portal, username: str, now: dt.datetime) -> dict[str, Any]:
    token = secrets.token_urlsafe(32)
    expires = now + dt.timedelta(seconds=portal.settings.token_ttl)
    with portal.database.session(immediate=True) as session:
        session.add(
            Token(token_sha256=_token_digest(token), username=username, created_at=now, expires_at=expires)
        )
    return {"token": token, "expires_at": expires.replace(microsecond=0).isoformat()}


def _verify(portal: Portal, stored: str | None, password: str) -> bool:
    """Argon2 verification; an unknown user costs the same as a known one."""
    if stored is None:
        memory = portal.settings.password_memory_kib
        if memory not in _DUMMY_HASHES:
            _DUMMY_HASHES[memory] = hasher(portal).hash("not anyone's password")
        stored = _DUMMY_HASHES[memory]
        known = False
    else:
        known = True
    try:
        hasher(portal).verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False
    return known


def authenticate(portal: Portal, token: str) -> Actor:
    """The user a bearer token belongs to. Raises UnauthenticatedError."""
    with portal.database.session() as session:
        row = session.get(Token, _token_digest(token))
        if row is None or row.revoked_at is not None or _aware(row.expires_at) <= _now():
            raise UnauthenticatedError("the token is unknown, expired or revoked")
        account = session.get(Account, row.username)
        if account is None:
            raise UnauthenticatedError("the token's user no longer exists")
        return Actor(account.username, account.org_id, account.role)


def revoke(portal: Portal, token: str) -> None:
    """Revoke a token at once (logout); later requests with it are unauthenticated."""
    with portal.database.session() as session:
        row = session.get(Token, _token_digest(token))
        if row is not None and row.revoked_at is None:
            row.revoked_at = _now()


DEMO_PASSWORD = "demo password"  # documented demo credentials (README), never for real use


def ensure_demo_accounts(portal: Portal) -> list[str]:
    """Logins for the demo consortium's users (``goldticket demo``); returns their usernames."""
    names = []
    for member_id, _, _, _, username in demo.MEMBERS:
        ensure_account(portal, username=username, org_id=member_id, role="clerk", password=DEMO_PASSWORD)
        names.append(username)
    return names
