"""The portal database: an engine for GOLDTICKET_DATABASE_URL (SQLite under the data
directory by default, PostgreSQL in production), its migrations, and sessions.

SQLite runs in WAL mode with a busy timeout; transactions that must not interleave (the
follower, idempotency claims, login counting) ask for ``immediate`` and take SQLite's write
lock at BEGIN, so two processes never both read an old checkpoint and both write.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).with_name("migrations")


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
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    @contextlib.contextmanager
    def session(self, *, immediate: bool = False) -> Iterator[Session]:
        """A session in one transaction, committed on success and rolled back on error."""
        factory = self._immediate if immediate else self._sessions
        with factory() as session, session.begin():
            yield session

    def close(self) -> None:
        self.engine.dispose()
