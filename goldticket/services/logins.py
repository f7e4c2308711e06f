"""An account's life follows its user's card: a user whose last card was eliminated (销卡, or
every card eliminated with the identity revoked) can no longer log in, and the tokens they hold
answer 401. The state is read from the card registry the desk changes, so the API, the portal
and the command line agree without a second record; the desk also marks the user's tokens
revoked, so they stay dead if the desk later opens a new card for that user."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update

from goldticket.store.database import Database
from goldticket.store.models import Token

from .platform import Platform

LIVE = ("OPENED", "ACTIVE", "SUSPENDED")


def usable(platform: Platform, username: str) -> bool:
    """False once every card the user had is eliminated (or replaced without a live successor);
    a user who never had a card yet (just added, card to come) may log in."""
    records = platform.cards.registry.cards_of(username)
    return not records or any(record.status in LIVE for record in records)


def close_if_cardless(platform: Platform, database: Database, username: str) -> bool:
    """After a card of ``username`` was eliminated: if it was their last, revoke every token of
    theirs at once. True if the account is now disabled."""
    if usable(platform, username):
        return False
    with database.session() as session:
        session.execute(
            update(Token)
            .where(Token.username == username, Token.revoked_at.is_(None))
            .values(revoked_at=dt.datetime.now(dt.UTC))
        )
    return True


def close_if_cardless_offline(platform: Platform, username: str) -> bool:
    """``close_if_cardless`` from the command line, which holds no portal: the portal's database
    is opened for the moment it takes."""
    database = Database(platform.settings.portal_database_url)
    try:
        database.migrate()
        return close_if_cardless(platform, database, username)
    finally:
        database.close()
