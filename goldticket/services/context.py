"""What every use case shares and none owns: who is acting (Actor, the authenticated operator
Desk), what a committed write returns (Receipt), the operator member's id and the platform's
clock. Imports no use case, so every module of ``goldticket.services`` can stand on it."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

CHINA = dt.timezone(dt.timedelta(hours=8))
OPERATOR = "operator"


@dataclasses.dataclass(frozen=True)
class Actor:
    """A signed-in user. What they sign, they sign with their card and a PIN per operation."""

    username: str
    member_id: str
    role: str


@dataclasses.dataclass(frozen=True)
class Desk:
    """The operator desk, authenticated: an admin of the operator member who has just proved
    their card PIN (:meth:`Platform.desk`). Every desk action takes one and is audit-logged
    under its user; the ledger writes it makes are signed in that admin's card with that PIN."""

    actor: Actor
    pin: str = dataclasses.field(repr=False)


@dataclasses.dataclass(frozen=True)
class Receipt:
    """The result of a committed transaction."""

    result: Any
    tx_id: str
    block: int


def china_clock(today: dt.date | None) -> dt.datetime:
    """Now, or now's time of day on ``today`` (China time) when the clock is set."""
    now = dt.datetime.now(dt.UTC)
    if today is None:
        return now
    return dt.datetime.combine(today, now.astimezone(CHINA).time(), CHINA).astimezone(dt.UTC)
