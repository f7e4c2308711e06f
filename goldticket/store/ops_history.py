"""The operations console's short history: one sample of the platform's figures every few
seconds for the last hour, in ``operations.sqlite`` of the data directory (0600), shared by
every web worker of the host (docs/decisions.md: "The operations console's history").

A sample belongs to a time slot (its time divided by the interval); the slot is the primary
key, so two workers sampling at once store one sample, and a worker that reads the newest
sample sees what any other worker took."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS samples (slot INTEGER PRIMARY KEY, taken REAL NOT NULL, data TEXT NOT NULL)"
)


class History:
    def __init__(self, path: Path, *, interval: float = 5.0, keep: float = 3600.0) -> None:
        self.path = Path(path)
        self.interval = interval
        self.keep = keep
        self._wal = False
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        os.close(fd)
        os.chmod(self.path, 0o600)
        with self._connection() as conn:
            conn.execute(SCHEMA)

    @contextlib.contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        """A connection for one operation (a web server's threads come and go: none is kept)."""
        conn = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        try:
            conn.execute("PRAGMA busy_timeout=10000")
            if not self._wal:
                conn.execute("PRAGMA journal_mode=WAL")
                self._wal = True
            yield conn
        finally:
            conn.close()

    def newest(self) -> dict[str, Any] | None:
        with self._connection() as conn:
            row = conn.execute("SELECT data FROM samples ORDER BY slot DESC LIMIT 1").fetchone()
        return json.loads(row[0]) if row else None

    def due(self, now: float | None = None) -> bool:
        """Whether the newest sample is of an earlier slot than ``now``'s."""
        now = time.time() if now is None else now
        with self._connection() as conn:
            row = conn.execute("SELECT MAX(slot) FROM samples").fetchone()
        return row[0] is None or row[0] < int(now // self.interval)

    def add(self, sample: dict[str, Any]) -> bool:
        """Store ``sample`` (with its ``taken`` time) unless its slot has one; drop samples older
        than the window. True if stored."""
        taken = float(sample["taken"])
        with self._connection() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                cursor = conn.execute(
                    "INSERT OR IGNORE INTO samples (slot, taken, data) VALUES (?, ?, ?)",
                    (int(taken // self.interval), taken, json.dumps(sample, separators=(",", ":"))),
                )
                conn.execute("DELETE FROM samples WHERE taken < ?", (taken - self.keep,))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return cursor.rowcount == 1

    def window(self, now: float | None = None) -> list[dict[str, Any]]:
        """The samples of the last ``keep`` seconds, oldest first."""
        now = time.time() if now is None else now
        with self._connection() as conn:
            rows = conn.execute(
                "SELECT data FROM samples WHERE taken >= ? ORDER BY slot", (now - self.keep,)
            ).fetchall()
        return [json.loads(row[0]) for row in rows]
