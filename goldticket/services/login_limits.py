"""How fast wrong passwords may be tried: a delay that grows with each failure, per account and
per client address, instead of a lockout anyone can keep up.

Every attempt takes its place before the password is checked, in one serialised database
transaction (BEGIN IMMEDIATE on SQLite, a table lock on PostgreSQL): the attempt is recorded
as a failure at once and forgotten if the password was right, so however many attempts
arrive together, no more than the allowed number are ever checked.

Three counts, each over :data:`WINDOW`:
- the account from this address: after :data:`FREE_TRIES` failures, each further attempt waits
  ``BASE_DELAY * 2**(failures - FREE_TRIES)`` (at most :data:`MAX_DELAY`) after the last one;
- the account from every address, where one address counts for at most :data:`FREE_TRIES`
  failures: so one address alone delays the account's other addresses once, by BASE_DELAY,
  and cannot prolong it (its further tries only delay itself);
- the address over every account, from :data:`FREE_TRIES_PER_CLIENT` failures on.
An attempt refused for a delay is not recorded: waiting is the only way on, and the right
password works as soon as the delay has passed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Iterable

from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from goldticket.store.models import LoginFailure

from .errors import RateLimitedError
from .portal import Portal

WINDOW = dt.timedelta(hours=24)
FREE_TRIES = 5
FREE_TRIES_PER_CLIENT = 20
BASE_DELAY = dt.timedelta(seconds=30)
MAX_DELAY = dt.timedelta(hours=1)


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)  # SQLite forgets the zone


def delay_after(failures: int, free: int = FREE_TRIES) -> dt.timedelta:
    """The wait after the last of ``failures`` before the next try (none below ``free``)."""
    if failures < free:
        return dt.timedelta(0)
    return min(BASE_DELAY * 2 ** min(failures - free, 20), MAX_DELAY)


def _next_allowed(times: list[dt.datetime], free: int) -> dt.datetime | None:
    if len(times) < free:
        return None
    return max(times) + delay_after(len(times), free)


@dataclasses.dataclass(frozen=True)
class Attempt:
    """A reserved attempt: its row (a failure until :func:`succeeded` forgets it)."""

    row_id: int
    username: str
    client: str
    tries_left: int  # if this attempt fails, how many more may follow before a delay


def _account_times(rows: Iterable[LoginFailure]) -> list[dt.datetime]:
    """The account's failures with at most FREE_TRIES from each address."""
    by_client: dict[str, list[dt.datetime]] = {}
    for row in rows:
        by_client.setdefault(row.client, []).append(_aware(row.at))
    return [at for times in by_client.values() for at in sorted(times)[:FREE_TRIES]]


def _lock(session: Session, portal: Portal) -> None:
    if not portal.database.is_sqlite:  # SQLite's BEGIN IMMEDIATE already serialises writers
        session.execute(text("LOCK TABLE login_failures IN SHARE ROW EXCLUSIVE MODE"))


def reserve(portal: Portal, username: str, client: str, now: dt.datetime) -> Attempt:
    """Take a place for one password check by ``client`` for ``username``, counted as a failure
    until :func:`succeeded`. Raises RateLimitedError (with ``retry_after`` seconds) while a
    delay runs; nothing is recorded then."""
    client = client[:64]
    with portal.database.session(immediate=True) as session:
        _lock(session, portal)
        session.execute(delete(LoginFailure).where(LoginFailure.at < now - WINDOW))
        account_rows = list(session.scalars(select(LoginFailure).where(LoginFailure.username == username)))
        client_times = [
            _aware(at) for at in session.scalars(select(LoginFailure.at).where(LoginFailure.client == client))
        ]
        pair = [_aware(row.at) for row in account_rows if row.client == client]
        account = _account_times(account_rows)
        waits = [
            _next_allowed(pair, FREE_TRIES),
            _next_allowed(account, FREE_TRIES),
            _next_allowed(client_times, FREE_TRIES_PER_CLIENT),
        ]
        until = max((at for at in waits if at is not None), default=None)
        if until is not None and until > now:
            seconds = max(1, math.ceil((until - now).total_seconds()))
            raise RateLimitedError(
                f"too many failed logins; try again in {seconds} seconds", retry_after=seconds
            )
        row = LoginFailure(username=username, client=client, at=now)
        session.add(row)
        session.flush()
        account_count = len(account) + (1 if len(pair) < FREE_TRIES else 0)
        tries_left = max(
            0,
            min(
                FREE_TRIES - len(pair) - 1,
                FREE_TRIES - account_count,
                FREE_TRIES_PER_CLIENT - len(client_times) - 1,
            ),
        )
        return Attempt(row.id, username, client, tries_left)


def succeeded(portal: Portal, attempt: Attempt) -> None:
    """The password was right: forget this account's failures from this address."""
    with portal.database.session(immediate=True) as session:
        session.execute(
            delete(LoginFailure).where(
                LoginFailure.username == attempt.username, LoginFailure.client == attempt.client
            )
        )
