"""The embedded ledger's SQLite file: versioned world state, per-key history, blocks."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

from fabric_protos.peer import transaction_pb2

from goldticket.messages import ReadWriteSet, new_block

from ..errors import DuplicateTransactionError

VALID = transaction_pb2.VALID
MVCC_READ_CONFLICT = transaction_pb2.MVCC_READ_CONFLICT
CODE_NAMES = {value.number: value.name for value in transaction_pb2.TxValidationCode.DESCRIPTOR.values}

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS msp (msp_id TEXT PRIMARY KEY, ca_pem BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS state (
    key TEXT PRIMARY KEY, value BLOB NOT NULL, block INTEGER NOT NULL, txnum INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS history (
    key TEXT NOT NULL, block INTEGER NOT NULL, txnum INTEGER NOT NULL, tx_id TEXT NOT NULL,
    value BLOB, is_delete INTEGER NOT NULL, seconds INTEGER NOT NULL, nanos INTEGER NOT NULL,
    PRIMARY KEY (key, block, txnum)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS blocks (number INTEGER PRIMARY KEY, hash BLOB NOT NULL, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS transactions (
    tx_id TEXT PRIMARY KEY, block INTEGER NOT NULL, txnum INTEGER NOT NULL, code TEXT NOT NULL
) WITHOUT ROWID;
"""


class LedgerStore:
    """One SQLite connection per thread over one file; writes go through ``write()``."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self.write_lock = threading.RLock()
        self.connection().executescript(SCHEMA)

    def connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return conn

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def get_meta(self, name: str) -> bytes | None:
        row = self.connection().execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return bytes(row[0]) if row else None

    def msps(self) -> dict[str, bytes]:
        return {row[0]: bytes(row[1]) for row in self.connection().execute("SELECT msp_id, ca_pem FROM msp")}

    def get(self, key: str) -> tuple[bytes, tuple[int, int]] | None:
        row = (
            self.connection()
            .execute("SELECT value, block, txnum FROM state WHERE key = ?", (key,))
            .fetchone()
        )
        return (bytes(row[0]), (row[1], row[2])) if row else None

    def version(self, key: str) -> tuple[int, int] | None:
        row = self.connection().execute("SELECT block, txnum FROM state WHERE key = ?", (key,)).fetchone()
        return (row[0], row[1]) if row else None

    def range(self, start: str, end: str) -> list[tuple[str, bytes, tuple[int, int]]]:
        rows = self.connection().execute(
            "SELECT key, value, block, txnum FROM state WHERE key >= ? AND key < ? ORDER BY key", (start, end)
        )
        return [(row[0], bytes(row[1]), (row[2], row[3])) for row in rows]

    def history(self, key: str) -> list[tuple[str, bytes | None, bool, int, int]]:
        rows = self.connection().execute(
            "SELECT tx_id, value, is_delete, seconds, nanos FROM history WHERE key = ? ORDER BY block DESC, txnum DESC",
            (key,),
        )
        return [
            (row[0], bytes(row[1]) if row[1] is not None else None, bool(row[2]), row[3], row[4])
            for row in rows
        ]

    def transaction(self, tx_id: str) -> tuple[int, int, str] | None:
        row = (
            self.connection()
            .execute("SELECT block, txnum, code FROM transactions WHERE tx_id = ?", (tx_id,))
            .fetchone()
        )
        return (row[0], row[1], row[2]) if row else None

    def height(self) -> int:
        row = self.connection().execute("SELECT COALESCE(MAX(number) + 1, 0) FROM blocks").fetchone()
        return int(row[0])

    def last_block_hash(self) -> bytes:
        row = self.connection().execute("SELECT hash FROM blocks ORDER BY number DESC LIMIT 1").fetchone()
        return bytes(row[0]) if row else b""

    def commit(
        self, envelope: bytes, tx_id: str, rwset: ReadWriteSet | None, seconds: int, nanos: int
    ) -> int:
        """Append one block holding ``envelope``: VALID with its writes applied when every
        version it read is still current, else MVCC_READ_CONFLICT with nothing applied.
        Runs in one IMMEDIATE transaction, so it is safe against other processes too.
        Raises DuplicateTransactionError for a tx id already on the ledger. Returns the code."""
        conn = self.connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            if conn.execute("SELECT 1 FROM transactions WHERE tx_id = ?", (tx_id,)).fetchone():
                raise DuplicateTransactionError(f"transaction {tx_id} was already submitted", tx_id)
            code = VALID
            if rwset is not None and rwset.reads and not self._reads_current(conn, rwset.reads):
                code = MVCC_READ_CONFLICT
            last = conn.execute("SELECT number, hash FROM blocks ORDER BY number DESC LIMIT 1").fetchone()
            number, previous_hash = (last[0] + 1, bytes(last[1])) if last else (0, b"")
            block = new_block(number, previous_hash, [envelope], [code])
            if code == VALID and rwset is not None and rwset.writes:
                self._apply(conn, rwset, number, tx_id, seconds, nanos)
            conn.execute(
                "INSERT INTO transactions (tx_id, block, txnum, code) VALUES (?, ?, 0, ?)",
                (tx_id, number, CODE_NAMES[code]),
            )
            conn.execute(
                "INSERT INTO blocks (number, hash, data) VALUES (?, ?, ?)",
                (number, block.hash, block.encode()),
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return code

    @staticmethod
    def _reads_current(
        conn: sqlite3.Connection, reads: tuple[tuple[str, tuple[int, int] | None], ...]
    ) -> bool:
        expected = dict(reads)
        found: dict[str, tuple[int, int] | None] = dict.fromkeys(expected)
        keys = list(expected)
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for key, block, txnum in conn.execute(
                f"SELECT key, block, txnum FROM state WHERE key IN ({marks})", chunk
            ):
                found[key] = (block, txnum)
        return found == expected

    @staticmethod
    def _apply(
        conn: sqlite3.Connection, rwset: ReadWriteSet, number: int, tx_id: str, seconds: int, nanos: int
    ) -> None:
        puts = [(w.key, w.value, number) for w in rwset.writes if not w.is_delete]
        deletes = [(w.key,) for w in rwset.writes if w.is_delete]
        if puts:
            conn.executemany(
                "INSERT OR REPLACE INTO state (key, value, block, txnum) VALUES (?, ?, ?, 0)", puts
            )
        if deletes:
            conn.executemany("DELETE FROM state WHERE key = ?", deletes)
        conn.executemany(
            "INSERT INTO history (key, block, txnum, tx_id, value, is_delete, seconds, nanos)"
            " VALUES (?, ?, 0, ?, ?, ?, ?, ?)",
            [
                (w.key, number, tx_id, None if w.is_delete else w.value, w.is_delete, seconds, nanos)
                for w in rwset.writes
            ],
        )

    def blocks(self, start: int) -> Iterator[tuple[int, bytes]]:
        number = start
        while True:
            rows = (
                self.connection()
                .execute(
                    "SELECT number, data FROM blocks WHERE number >= ? ORDER BY number LIMIT 100", (number,)
                )
                .fetchall()
            )
            if not rows:
                return
            for row in rows:
                yield row[0], bytes(row[1])
            number = rows[-1][0] + 1
