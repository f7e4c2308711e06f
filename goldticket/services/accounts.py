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
from sqlalchemy import update

from goldticket import domain as d
from goldticket.store.models import Account, Token

from . import access, demo, desk, login_limits, logins, members
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


ACTIVATION_TTL = dt.timedelta(days=3)
UNUSABLE = "!"  # the password hash of an account not yet activated: no password matches it


def _new_activation_code() -> str:
    """100 random bits as 4 groups of 5 letters and digits (no 0/O, 1/I): read out or typed."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(4))


def _code_digest(code: str) -> str:
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


def issue_activation(portal: Portal, *, username: str, org_id: str, role: str) -> dict[str, Any]:
    """A login account for a new user, unusable until the user sets a password with the
    one-time activation code returned here (shown once; only its SHA-256 is kept)."""
    code = _new_activation_code()
    now = _now()
    expires = now + ACTIVATION_TTL
    with portal.database.session(immediate=True) as session:
        if session.get(Account, username) is not None:
            raise d.StateConflictError(f"user {username} already exists")
        session.add(
            Account(
                username=username,
                org_id=org_id,
                role=role,
                password_hash=UNUSABLE,
                created_at=now,
                activation_sha256=_code_digest(code),
                activation_expires_at=expires,
            )
        )
    return {"activation_code": code, "expires_at": expires.replace(microsecond=0).isoformat()}


def create_user(
    portal: Portal,
    actor: Actor,
    *,
    desk_pin: str,
    org_id: str,
    username: str,
    role: str,
) -> dict[str, Any]:
    """The operator desk adds a user to a member: the user directory entry and a login that the
    user activates with the one-time code returned here (the desk never chooses or sees the
    password). ``desk_pin`` is the acting operator admin's card PIN (see ``desk.authenticate``)."""
    access.require_operator_admin(actor)
    members.get_member(portal.platform, d.require_text(org_id, "org_id", 64))
    with portal.database.session() as session:
        if session.get(Account, username) is not None:
            raise d.StateConflictError(f"user {username} already exists")
    authenticated = desk.authenticate(portal, actor, desk_pin)
    actor = members.add_user(portal.platform, authenticated, member_id=org_id, username=username, role=role)
    activation = issue_activation(portal, username=actor.username, org_id=org_id, role=role)
    portal.platform.audit_desk(authenticated, "activation code", for_user=actor.username)
    return {"id": actor.username, "username": actor.username, "org_id": org_id, "role": role, **activation}


def _desk_on_other(portal: Portal, actor: Actor, desk_pin: str, username: Any) -> Any:
    """The desk acting on another user's login (never its own: another operator admin does)."""
    access.require_operator_admin(actor)
    username = d.require_text(username, "username", 64)
    if username == actor.username:
        raise d.ForbiddenError("the desk does not act on its own account: another operator admin does")
    with portal.database.session() as session:
        if session.get(Account, username) is None:
            raise d.NotFoundError(f"no user {username}")
    return desk.authenticate(portal, actor, desk_pin), username


def _close_login(session: Any, username: str, now: dt.datetime, code: str | None) -> None:
    account = session.get(Account, username)
    account.password_hash = UNUSABLE
    account.activation_sha256 = _code_digest(code) if code else None
    account.activation_expires_at = now + ACTIVATION_TTL if code else None
    session.execute(
        update(Token).where(Token.username == username, Token.revoked_at.is_(None)).values(revoked_at=now)
    )


def disable_user(portal: Portal, actor: Actor, *, desk_pin: str, username: Any) -> dict[str, Any]:
    """The desk disables a user's login at once (someone left, a password leaked): the password
    opens nothing any more, no activation code is pending, every token is revoked. The cards
    are left as they are (the desk reports them lost or eliminates them). Only a new
    activation code (``reset_password``) opens the login again, with a password the user
    chooses. Raises ForbiddenError (its own account), NotFoundError, WrongPinError."""
    authenticated, username = _desk_on_other(portal, actor, desk_pin, username)
    with portal.database.session(immediate=True) as session:
        _close_login(session, username, _now(), None)
    portal.platform.audit_desk(authenticated, "disable login", for_user=username)
    return {"username": username, "login": "disabled"}


def reset_password(portal: Portal, actor: Actor, *, desk_pin: str, username: Any) -> dict[str, Any]:
    """A forgotten password: the desk never chooses one (issue #17). The old password stops
    working, every token is revoked, and a new one-time activation code (shown once) lets the
    user set a password of their own, as at first."""
    authenticated, username = _desk_on_other(portal, actor, desk_pin, username)
    code, now = _new_activation_code(), _now()
    with portal.database.session(immediate=True) as session:
        _close_login(session, username, now, code)
    portal.platform.audit_desk(authenticated, "activation code", for_user=username, reason="password reset")
    expires = (now + ACTIVATION_TTL).replace(microsecond=0).isoformat()
    return {"id": username, "username": username, "activation_code": code, "expires_at": expires}


def login_state(account: Account) -> str:
    """``active``, ``awaiting_activation`` (a code is pending) or ``disabled``."""
    if account.password_hash != UNUSABLE:
        return "active"
    return "awaiting_activation" if account.activation_sha256 else "disabled"


def activate(portal: Portal, username: Any, code: Any, password: Any, client: str) -> dict[str, Any]:
    """The user sets their own password with the activation code (once, before it expires) and
    is logged in. Wrong codes count like wrong passwords (``login_limits``). Raises
    UnauthenticatedError, RateLimitedError, InvalidInputError."""
    if not isinstance(username, str) or not isinstance(code, str) or len(code) > 64:
        raise d.InvalidInputError("username and activation_code are strings")
    check_password(password)
    username = username[:64]
    now = _now()
    attempt = login_limits.reserve(portal, username, client, now)
    with portal.database.session(immediate=True) as session:
        account = session.get(Account, username)
        expires = account.activation_expires_at if account is not None else None
        if (
            account is None
            or account.activation_sha256 is None
            or expires is None
            or _aware(expires) <= now
            or not secrets.compare_digest(account.activation_sha256, _code_digest(code))
        ):
            raise UnauthenticatedError(
                "the activation code is wrong, used or expired; the operator desk can issue a new one",
                tries_left=attempt.tries_left,
            )
        account.password_hash = hasher(portal).hash(password)
        account.activation_sha256 = None
        account.activation_expires_at = None
    login_limits.succeeded(portal, attempt)
    return _new_token(portal, username, now)


def change_password(
    portal: Portal, actor: Actor, token: str, old_password: Any, new_password: Any, client: str
) -> dict[str, Any]:
    """The user changes their own password; every other token of theirs is revoked. A wrong
    old password counts like a wrong login. Raises UnauthenticatedError, RateLimitedError,
    InvalidInputError, RuleViolationError (the new password equal to the old: a rule between
    two fields, each valid by itself)."""
    if not isinstance(old_password, str) or len(old_password) > 256:
        raise d.InvalidInputError("old_password is a string")
    check_password(new_password)
    if new_password == old_password:
        raise d.RuleViolationError("the new password must differ from the old one")
    now = _now()
    attempt = login_limits.reserve(portal, actor.username, client, now)
    with portal.database.session() as session:
        account = session.get(Account, actor.username)
    if account is None or not _verify(portal, account.password_hash, old_password):
        raise UnauthenticatedError(_wrong_password(attempt.tries_left), tries_left=attempt.tries_left)
    login_limits.succeeded(portal, attempt)
    with portal.database.session(immediate=True) as session:
        session.get(Account, actor.username).password_hash = hasher(portal).hash(new_password)  # type: ignore[union-attr]
        session.execute(
            update(Token)
            .where(
                Token.username == actor.username,
                Token.token_sha256 != _token_digest(token),
                Token.revoked_at.is_(None),
            )
            .values(revoked_at=now)
        )
    return {"username": actor.username, "changed": True}


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
    _refuse_disabled(portal, username)
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
    _refuse_disabled(portal, account.username)
    return Actor(account.username, account.org_id, account.role)


def _refuse_disabled(portal: Portal, username: str) -> None:
    """An account whose user's last card was eliminated is disabled (services.logins)."""
    if not logins.usable(portal.platform, username):
        raise UnauthenticatedError("the account is disabled: its user's last card was eliminated")


def revoke(portal: Portal, token: str) -> None:
    """Revoke a token at once (logout); later requests with it are unauthenticated."""
    with portal.database.session(immediate=True) as session:
        row = session.get(Token, _token_digest(token))
        if row is not None and row.revoked_at is None:
            row.revoked_at = _now()


DEMO_PASSWORD = "demo password"  # documented demo credentials (README), never for real use


def ensure_demo_accounts(portal: Portal) -> list[str]:
    """Logins for the demo consortium's users (``goldticket demo``): each gets an activation
    code as the desk would give it, and activates it with the documented demo password, the
    way a user does. Returns their usernames."""
    names = []
    for member_id, _, _, _, username in demo.MEMBERS:
        with portal.database.session() as session:
            exists = session.get(Account, username) is not None
        if not exists:
            user = portal.platform.actor(username)
            code = issue_activation(portal, username=username, org_id=member_id, role=user.role)
            activate(portal, username, code["activation_code"], DEMO_PASSWORD, "demo")
        names.append(username)
    return names
