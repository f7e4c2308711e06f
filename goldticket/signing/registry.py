"""The card registry: which card belongs to whom, its life-cycle status and its PIN-try count.

One SQLite file beside the cards, owned by the signing gateway. Counting wrong PINs here makes
the 5-try lock hold for every backend, whether or not the token counts on its own. The file holds
every card's seed backup: it is created 0600 in a 0700 directory whatever the umask (SQLite gives
its -wal and -shm files the same mode), and commits with ``synchronous=FULL`` so that a counted
PIN try is on disk before the card sees the PIN, power loss included.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import secrets
import sqlite3
import stat
import threading
from pathlib import Path
from typing import Any

from .errors import CardLockedError, CardNotFoundError, CardRevokedError, CardStateError

MAX_WRONG_PINS = 5
OPENED, ACTIVE, SUSPENDED, REPLACED, ELIMINATED = "OPENED", "ACTIVE", "SUSPENDED", "REPLACED", "ELIMINATED"

SCHEMA = """
CREATE TABLE IF NOT EXISTS cards (
    serial TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    member_id TEXT NOT NULL,
    user_role TEXT NOT NULL,
    backend TEXT NOT NULL,
    status TEXT NOT NULL,
    wrong_pins INTEGER NOT NULL DEFAULT 0,
    msp_id TEXT,
    certificate_pem TEXT,
    backup TEXT,
    replaces TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX IF NOT EXISTS cards_by_user ON cards (username, status);
"""


@dataclasses.dataclass(frozen=True)
class CardRecord:
    serial: str
    username: str
    member_id: str
    user_role: str
    backend: str
    status: str
    wrong_pins: int
    msp_id: str | None
    certificate_pem: str | None
    backup: dict[str, Any] | None
    replaces: str | None

    @property
    def locked(self) -> bool:
        return self.wrong_pins >= MAX_WRONG_PINS

    def public(self) -> dict[str, Any]:
        """What the desk may show: never the backup record."""
        return {
            "card_id": self.serial,
            "serial": self.serial,
            "username": self.username,
            "member_id": self.member_id,
            "status": self.status,
            "locked": self.locked,
            "backend": self.backend,
            "certificate_pem": self.certificate_pem,
            "replaces": self.replaces,
        }


def _private_file(path: Path) -> None:
    """The directory 0700 and the file (and any -wal/-shm beside it) 0600, umask or not."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    for item, mode in ((path.parent, 0o700), (path, 0o600)):
        if stat.S_IMODE(item.stat().st_mode) != mode:
            os.chmod(item, mode)
    for suffix in ("-wal", "-shm", "-journal"):
        side = path.with_name(path.name + suffix)
        if side.exists() and stat.S_IMODE(side.stat().st_mode) != 0o600:
            os.chmod(side, 0o600)


class _Lease:
    """A thread's registry connection. The thread's local storage is released when the thread
    ends, and with it this lease, which hands the connection to the registry's idle list."""

    __slots__ = ("conn", "idle")

    def __init__(self, conn: sqlite3.Connection, idle: list[sqlite3.Connection]) -> None:
        self.conn: sqlite3.Connection | None = conn
        self.idle = idle

    def __del__(self) -> None:
        if self.conn is not None:
            self.idle.append(self.conn)
            self.conn = None


class CardRegistry:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        _private_file(self.path)
        self._local = threading.local()
        self._idle: list[sqlite3.Connection] = []  # connections of threads that ended
        self._conn().executescript(SCHEMA)

    def _conn(self) -> sqlite3.Connection:
        """This thread's connection: one handed on by a thread that ended, or a new one (the
        signing gateway serves each request on a new thread; issue #22)."""
        lease = getattr(self._local, "lease", None)
        if lease is not None and lease.conn is not None:
            return lease.conn
        try:
            conn = self._idle.pop()
        except IndexError:
            # used by one thread at a time: the one whose lease holds it
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=30, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            # WAL + FULL: a counted PIN try survives a power cut, not only a crash of the process.
            conn.execute("PRAGMA synchronous=FULL")
            conn.row_factory = sqlite3.Row
        self._local.lease = _Lease(conn, self._idle)
        return conn

    def close(self) -> None:
        lease = getattr(self._local, "lease", None)
        if lease is not None and lease.conn is not None:
            lease.conn.close()
            lease.conn = None
        self._local.lease = None
        while self._idle:
            with contextlib.suppress(IndexError):
                self._idle.pop().close()

    @staticmethod
    def _record(row: sqlite3.Row) -> CardRecord:
        data = dict(row)
        data.pop("created_at", None)
        data["backup"] = json.loads(data["backup"]) if data["backup"] else None
        return CardRecord(**data)

    def get(self, serial: str) -> CardRecord:
        row = self._conn().execute("SELECT * FROM cards WHERE serial = ?", (serial,)).fetchone()
        if row is None:
            raise CardNotFoundError(f"no card {serial}")
        return self._record(row)

    def active_card(self, username: str) -> CardRecord:
        """The user's card that signs today. Raises CardNotFoundError or CardRevokedError."""
        rows = (
            self._conn()
            .execute(
                "SELECT * FROM cards WHERE username = ? ORDER BY created_at DESC, rowid DESC", (username,)
            )
            .fetchall()
        )
        records = [self._record(row) for row in rows]
        for record in records:
            if record.status == ACTIVE:
                return record
        if any(record.status in (SUSPENDED, ELIMINATED) for record in records):
            raise CardRevokedError(
                f"the card of {username} is suspended or eliminated; ask the operator desk for a new one"
            )
        raise CardNotFoundError(f"{username} has no issued card")

    def all_cards(self) -> list[CardRecord]:
        return [self._record(row) for row in self._conn().execute("SELECT * FROM cards ORDER BY rowid")]

    def cards_of(self, username: str) -> list[CardRecord]:
        rows = self._conn().execute("SELECT * FROM cards WHERE username = ? ORDER BY rowid", (username,))
        return [self._record(row) for row in rows]

    def open(
        self, *, username: str, member_id: str, user_role: str, backend: str, replaces: str | None = None
    ) -> CardRecord:
        """Bind a new blank card to a user (开卡). Returns its record with a fresh serial."""
        serial = "BS" + secrets.token_hex(8).upper()
        self._conn().execute(
            "INSERT INTO cards (serial, username, member_id, user_role, backend, status, replaces)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (serial, username, member_id, user_role, backend, OPENED, replaces),
        )
        return self.get(serial)

    def _transition(self, serial: str, allowed: tuple[str, ...], status: str, **fields: Any) -> CardRecord:
        record = self.get(serial)
        if record.status not in allowed:
            raise CardStateError(f"card {serial} is {record.status} and cannot become {status}")
        assignments = ", ".join(f"{name} = ?" for name in ("status", *fields))
        values = [status, *(json.dumps(v) if name == "backup" else v for name, v in fields.items())]
        self._conn().execute(f"UPDATE cards SET {assignments} WHERE serial = ?", (*values, serial))
        return self.get(serial)

    def activate(
        self, serial: str, *, msp_id: str, certificate_pem: str, backup: dict[str, Any]
    ) -> CardRecord:
        return self._transition(
            serial, (OPENED,), ACTIVE, msp_id=msp_id, certificate_pem=certificate_pem, backup=backup
        )

    def replace_backup(self, serial: str, backup: dict[str, Any]) -> CardRecord:
        """The seed backup of an active card sealed again (its user changed the PIN, or the
        operator's backup key rewrapped it)."""
        record = self.get(serial)
        self._conn().execute("UPDATE cards SET backup = ? WHERE serial = ?", (json.dumps(backup), serial))
        return dataclasses.replace(record, backup=backup)

    def suspend(self, serial: str) -> CardRecord:
        return self._transition(serial, (ACTIVE,), SUSPENDED)

    def mark_replaced(self, serial: str) -> CardRecord:
        return self._transition(serial, (SUSPENDED, ACTIVE), REPLACED)

    def eliminate(self, serial: str) -> CardRecord:
        return self._transition(serial, (OPENED, ACTIVE, SUSPENDED), ELIMINATED)

    def check_can_sign(self, serial: str) -> CardRecord:
        record = self.get(serial)
        if record.status in (SUSPENDED, REPLACED, ELIMINATED):
            raise CardRevokedError(f"card {serial} is {record.status.lower()} and signs nothing")
        if record.status != ACTIVE:
            raise CardStateError(f"card {serial} has not been issued")
        if record.locked:
            raise CardLockedError(
                f"card {serial} is locked after {MAX_WRONG_PINS} wrong PINs: the operator desk unlocks it"
                f" with `goldticket card unlock {serial}`"
            )
        return record

    def reserve_try(self, serial: str) -> None:
        """Count a PIN try before the card sees it, atomically, so that parallel requests cannot
        try more than MAX_WRONG_PINS wrong PINs. Raises CardLockedError when none is left.
        A right PIN then clears the count (``right_pin``); a card error gives the try back."""
        changed = (
            self._conn()
            .execute(
                "UPDATE cards SET wrong_pins = wrong_pins + 1 WHERE serial = ? AND wrong_pins < ?",
                (serial, MAX_WRONG_PINS),
            )
            .rowcount
        )
        if changed == 0:
            self.get(serial)
            raise CardLockedError(
                f"card {serial} is locked after {MAX_WRONG_PINS} wrong PINs: the operator desk unlocks it"
                f" with `goldticket card unlock {serial}`"
            )

    def tries_left(self, serial: str) -> int:
        return max(0, MAX_WRONG_PINS - self.get(serial).wrong_pins)

    def give_back_try(self, serial: str) -> None:
        self._lowering(
            "UPDATE cards SET wrong_pins = wrong_pins - 1 WHERE serial = ? AND wrong_pins > 0", serial
        )

    def right_pin(self, serial: str) -> None:
        self._lowering("UPDATE cards SET wrong_pins = 0 WHERE serial = ? AND wrong_pins > 0", serial)

    def _lowering(self, statement: str, serial: str) -> None:
        """A write that only lowers a count commits without its own fsync (synchronous=NORMAL):
        a power cut can at worst bring back a try that was counted, never lose one, and the next
        durable commit (the next ``reserve_try``) syncs it anyway. One fsync per signature."""
        conn = self._conn()
        conn.execute("PRAGMA synchronous=NORMAL")
        try:
            conn.execute(statement, (serial,))
        finally:
            conn.execute("PRAGMA synchronous=FULL")

    def unlock(self, serial: str) -> CardRecord:
        """Operator desk only: forget the wrong PINs."""
        self.get(serial)
        self._conn().execute("UPDATE cards SET wrong_pins = 0 WHERE serial = ?", (serial,))
        return self.get(serial)
