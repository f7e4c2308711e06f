"""The portal database: an engine for GOLDTICKET_DATABASE_URL (SQLite under the data
directory by default, PostgreSQL in production), its migrations, and sessions.

SQLite runs in WAL mode with a busy timeout; every transaction that writes asks for
``immediate`` and takes SQLite's write lock at BEGIN. A deferred transaction that reads and then
writes would have to upgrade its read snapshot to a write: when another connection has written
since the read, SQLite answers SQLITE_BUSY at once ("database is locked"), whatever the busy
timeout, so under concurrent writers such a transaction fails instead of waiting its turn. A
deferred session that writes after it read raises :class:`DeferredWriteWarning` (an error in
the tests), so a new write path cannot forget.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).with_name("migrations")
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


class DeferredWriteWarning(RuntimeWarning):
    """A deferred (read) transaction wrote after it read: use ``session(immediate=True)``."""


def _sqlite_hooks(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def connect(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.isolation_level = None  # BEGIN is ours, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: an idempotency record acknowledged to a client survives a power cut too
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get("immediate")
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
        connection.info["goldticket_read"] = False

    @event.listens_for(engine, "before_cursor_execute")
    def watch(connection: Any, cursor: Any, statement: str, *args: Any) -> None:
        if connection.get_execution_options().get("immediate") or not connection.in_transaction():
            return
        verb = statement.lstrip()[:7].upper()
        if verb.startswith(("SELECT", "WITH")):
            connection.info["goldticket_read"] = True
        elif verb.startswith(_WRITES) and connection.info.get("goldticket_read"):
            warnings.warn(
                "a deferred transaction writes after it read: it fails at once when another"
                " connection wrote meanwhile; open it with session(immediate=True)",
                DeferredWriteWarning,
                stacklevel=2,
            )


def _private_file(path: Path) -> None:
    """The database file 0600 in a 0700 folder whatever the umask (it holds password and token
    hashes); SQLite gives its -wal and -shm files the database file's mode."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)


class Database:
    """One engine and two session factories: ordinary, and ``immediate`` for serialised writes."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            path = url.removeprefix("sqlite:///")
            if path and path != ":memory:":
                _private_file(Path(path))
            self.engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
            _sqlite_hooks(self.engine)
        else:
            self.engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._immediate = sessionmaker(self.engine.execution_options(immediate=True), expire_on_commit=False)

    def migrate(self) -> None:
        """Bring the schema to the newest migration (Alembic); safe to run every start."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.execution_options(immediate=True).begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    @contextlib.contextmanager
    def session(self, *, immediate: bool = False) -> Iterator[Session]:
        """A session in one transaction, committed on success and rolled back on error.
        ``immediate``: the transaction writes, so it takes the write lock first (SQLite's BEGIN
        IMMEDIATE; PostgreSQL's row locks are taken with ``with_for_update`` where needed)."""
        factory = self._immediate if immediate else self._sessions
        with factory() as session, session.begin():
            yield session

    def close(self) -> None:
        self.engine.dispose()
