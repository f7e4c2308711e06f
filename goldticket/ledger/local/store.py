"""The embedded ledger's SQLite file: versioned world state, per-key history, blocks.

The file holds the peer's private key, so it and SQLite's -wal and -shm files beside it are
created 0600 in a 0700 directory whatever the umask (SQLite gives the -wal and -shm files the
database file's own mode). Commits use ``synchronous=FULL``: a block that ``commit_batch``
returned survives a power loss, not only a crash of the process.
"""

from __future__ import annotations

import dataclasses
import os
import sqlite3
import stat
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from fabric_protos.peer import transaction_pb2

from goldticket.messages import KeyWrite, ReadWriteSet, new_block

from ..errors import DuplicateTransactionError
from .ranges import RangeRead

VALID = transaction_pb2.VALID
MVCC_READ_CONFLICT = transaction_pb2.MVCC_READ_CONFLICT
PHANTOM_READ_CONFLICT = transaction_pb2.PHANTOM_READ_CONFLICT
CODE_NAMES = {value.number: value.name for value in transaction_pb2.TxValidationCode.DESCRIPTOR.values}

# ``history`` is a rowid table (its primary key an index beside it): a block's history rows,
# values included, are appended side by side and only the small index entries land on random
# pages. WITHOUT ROWID (a ledger file made before #22 keeps it, and works the same) put every row
# on a random leaf of the key order: ~2.5 WAL pages per row written, over half a block's pages.
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
);
CREATE TABLE IF NOT EXISTS blocks (number INTEGER PRIMARY KEY, hash BLOB NOT NULL, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS transactions (
    tx_id TEXT PRIMARY KEY, block INTEGER NOT NULL, txnum INTEGER NOT NULL, code TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS private (
    collection TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL, tx_id TEXT NOT NULL,
    PRIMARY KEY (collection, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS private_inputs (tx_id TEXT PRIMARY KEY, transient BLOB NOT NULL) WITHOUT ROWID;
"""


SIDE_FILES = ("-wal", "-shm", "-journal")


def private_file(path: Path) -> None:
    """Make ``path`` (and its directory) owner-only before SQLite opens it: the directory 0700,
    the file created 0600 when missing, and an existing file or side file tightened to 0600."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    _owner_only(path.parent, 0o700)  # mkdir's mode is masked by the umask; chmod is not
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.close(fd)
    for file in (path, *(path.with_name(path.name + suffix) for suffix in SIDE_FILES)):
        if file.exists():
            _owner_only(file, 0o600)


def _owner_only(path: Path, mode: int) -> None:
    if stat.S_IMODE(path.stat().st_mode) != mode:
        os.chmod(path, mode)


@dataclasses.dataclass(frozen=True)
class PendingCommit:
    """One validated transaction waiting for a block: its envelope and what it read and wrote."""

    envelope: bytes
    tx_id: str
    rwset: ReadWriteSet | None
    seconds: int
    nanos: int
    ranges: tuple[RangeRead, ...] = ()
    # private data (collection, write) the endorsement produced, kept off the block, and the
    # proposal's transient map (serialized) it came from: stored when the transaction is VALID
    private: tuple[tuple[str, KeyWrite], ...] = ()
    transient: bytes = b""


@dataclasses.dataclass(frozen=True)
class Committed:
    """Where a transaction of a batch went: its block, position and validation code."""

    tx_id: str
    block: int
    txnum: int
    code: int


BUSY_TIMEOUT = 30.0


def _begin_immediate(conn: sqlite3.Connection) -> None:
    """Take the write lock, waiting up to BUSY_TIMEOUT for another process's commit, on a
    writer connection (``busy_timeout`` 0, set once when it opened). SQLite's own busy handler
    sleeps 1, 2, 5, 10... ms between tries, longer than a commit with its fsync holds the lock;
    polling every 0.2-2 ms keeps several processes' blocks close together."""
    deadline = time.monotonic() + BUSY_TIMEOUT
    delay = 0.0002
    while True:
        try:
            conn.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.002)


# Rows per multi-row statement stay under SQLite's limit of bound variables (32766 since 3.32).
CHUNK_VARIABLES = 30_000
TRANSACTION_ROWS = ("transactions", "(tx_id, block, txnum, code)", 4)
STATE_ROWS = ("state", "(key, value, block, txnum)", 4)
HISTORY_ROWS = ("history", "(key, block, txnum, tx_id, value, is_delete, seconds, nanos)", 8)


def _insert_rows(
    conn: sqlite3.Connection,
    table: tuple[str, str, int],
    rows: Sequence[tuple[object, ...]],
    *,
    replace: bool = False,
) -> bool:
    """INSERT ``rows`` in one statement (one per CHUNK_VARIABLES bound values). False when a
    primary key refused a row: SQLite then undoes that statement alone (the transaction stays
    open) and the rows of the statements before it stay written, so callers use this for the
    first rows of a block only, or where a refusal is a stale tip that rolls everything back."""
    name, columns, width = table
    verb = "INSERT OR REPLACE" if replace else "INSERT"
    per_statement = CHUNK_VARIABLES // width
    marks = "(" + ",".join("?" * width) + ")"
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        values = [value for row in chunk for value in row]
        try:
            conn.execute(f"{verb} INTO {name} {columns} VALUES {','.join([marks] * len(chunk))}", values)
        except sqlite3.IntegrityError:
            if name != "transactions":
                raise
            if start:  # undo the chunks already written: the caller plans again without them
                conn.execute(
                    f"DELETE FROM transactions WHERE tx_id IN ({','.join('?' * start)})",
                    [row[0] for row in rows[:start]],
                )
            return False
    return True


def _versions(conn: sqlite3.Connection, batch: Sequence[PendingCommit]) -> dict[str, tuple[int, int] | None]:
    """The current version of every key the batch read (None: absent), in one SELECT."""
    keys = list({key: None for item in batch if item.rwset is not None for key, _ in item.rwset.reads})
    found: dict[str, tuple[int, int] | None] = dict.fromkeys(keys)
    for start in range(0, len(keys), CHUNK_VARIABLES):
        chunk = keys[start : start + CHUNK_VARIABLES]
        for key, block, txnum in conn.execute(
            f"SELECT key, block, txnum FROM state WHERE key IN ({','.join('?' * len(chunk))})", chunk
        ):
            found[key] = (block, txnum)
    return found


def _on_ledger(conn: sqlite3.Connection, tx_ids: list[str]) -> frozenset[str]:
    known: set[str] = set()
    for start in range(0, len(tx_ids), CHUNK_VARIABLES):
        chunk = tx_ids[start : start + CHUNK_VARIABLES]
        known.update(
            row[0]
            for row in conn.execute(
                f"SELECT tx_id FROM transactions WHERE tx_id IN ({','.join('?' * len(chunk))})", chunk
            )
        )
    return frozenset(known)


@dataclasses.dataclass
class _Plan:
    """A block worked out in memory before any of it is written."""

    outcomes: list[Committed | DuplicateTransactionError]
    transactions: list[tuple[object, ...]]
    history: list[tuple[object, ...]]
    # key -> (value, txnum of the last write in the block); txnum -1: the last write deleted it
    state: dict[str, tuple[bytes, int]]
    private: list[PendingCommit]
    envelopes: list[bytes]
    codes: list[int]


def _plan(
    conn: sqlite3.Connection,
    batch: Sequence[PendingCommit],
    number: int,
    versions: dict[str, tuple[int, int] | None],
    on_ledger: frozenset[str],
) -> _Plan:
    current = dict(versions)  # updated by each VALID transaction's writes, in block order
    plan = _Plan([], [], [], {}, [], [], [])
    seen: set[str] = set()
    for item in batch:
        if item.tx_id in seen or item.tx_id in on_ledger:
            plan.outcomes.append(
                DuplicateTransactionError(f"transaction {item.tx_id} was already submitted", item.tx_id)
            )
            continue
        seen.add(item.tx_id)
        txnum = len(plan.envelopes)
        code = _code(conn, item, current, plan.state, number)
        plan.transactions.append((item.tx_id, number, txnum, CODE_NAMES[code]))
        if code == VALID and item.rwset is not None:
            for write in item.rwset.writes:
                current[write.key] = None if write.is_delete else (number, txnum)
                plan.state[write.key] = (b"", -1) if write.is_delete else (write.value, txnum)
                plan.history.append(
                    (
                        write.key,
                        number,
                        txnum,
                        item.tx_id,
                        None if write.is_delete else write.value,
                        write.is_delete,
                        item.seconds,
                        item.nanos,
                    )
                )
        if code == VALID and item.private:
            plan.private.append(item)
        plan.envelopes.append(item.envelope)
        plan.codes.append(code)
        plan.outcomes.append(Committed(item.tx_id, number, txnum, code))
    return plan


def _code(
    conn: sqlite3.Connection,
    item: PendingCommit,
    current: dict[str, tuple[int, int] | None],
    written: dict[str, tuple[bytes, int]],
    number: int,
) -> int:
    """``LedgerStore.validation_code`` against the versions read and the block's earlier writes."""
    if item.rwset is not None and any(current[key] != version for key, version in item.rwset.reads):
        return MVCC_READ_CONFLICT
    for scan in item.ranges:
        found = {
            key: (block, txnum)
            for key, block, txnum in conn.execute(
                "SELECT key, block, txnum FROM state WHERE key >= ? AND key < ? ORDER BY key",
                (scan.start, scan.end),
            )
        }
        for key, (_, txnum) in written.items():
            if scan.start <= key < scan.end:
                if txnum < 0:
                    found.pop(key, None)
                else:
                    found[key] = (number, txnum)
        if tuple(sorted(found.items())) != scan.results:
            return PHANTOM_READ_CONFLICT
    return VALID


class LedgerStore:
    """One SQLite connection per thread for reads over one file, and one writer connection that
    every thread appends through under ``write_lock``. ``durable=False`` (synchronous=OFF) is
    for scratch copies only, such as the state ``verify`` replays into."""

    def __init__(self, path: Path, *, durable: bool = True) -> None:
        self.path = Path(path)
        self._durable = durable
        self._local = threading.local()
        self.write_lock = threading.RLock()
        # The next block's number and the last block's hash, known while this store is the
        # one appending (under ``write_lock``); None = read them in the next commit. They hold
        # while the writer connection that last appended sees no other connection's commit
        # (``PRAGMA data_version`` unchanged, ``_tip_seen``): another process appending
        # meanwhile costs one read of the tip, not a block planned, written and rolled back. A
        # collision all the same (the block's number taken) still reads them and writes the
        # block again (``commit_batch``).
        self._tip: tuple[int, bytes] | None = None
        self._tip_seen: tuple[sqlite3.Connection, int] | None = None
        self._writer_conn: sqlite3.Connection | None = None
        private_file(self.path)
        self.connection().executescript(SCHEMA)

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL" if self._durable else "PRAGMA synchronous=OFF")
        return conn

    def connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._open()
        return conn

    def _writer(self) -> sqlite3.Connection:
        """The connection that appends blocks, one per store whichever thread leads the group
        commit (used under ``write_lock``): its page cache stays warm and its ``data_version``
        changes only with another process's (or store's) commit. One per thread made every
        change of leader a cold cache and a tip read again. No busy handler
        (``_begin_immediate`` polls for the write lock itself)."""
        with self.write_lock:
            if self._writer_conn is None:
                conn = self._open()
                conn.execute("PRAGMA busy_timeout = 0")
                self._writer_conn = conn
            return self._writer_conn

    def close(self) -> None:
        """Close this thread's read connection and the writer (opened again if a thread appends
        after)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
        with self.write_lock:
            if self._writer_conn is not None:
                self._writer_conn.close()
                self._writer_conn = None

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
        """Append one block holding ``envelope`` alone (see ``commit_batch``), without range
        reads to check. Raises
        DuplicateTransactionError for a tx id already on the ledger. Returns the code."""
        outcome = self.commit_batch([PendingCommit(envelope, tx_id, rwset, seconds, nanos)])[0]
        if isinstance(outcome, DuplicateTransactionError):
            raise outcome
        return outcome.code

    def commit_batch(self, batch: Sequence[PendingCommit]) -> list[Committed | DuplicateTransactionError]:
        """Append one block holding the batch's transactions in order, as an orderer cuts a
        block: each is VALID with its writes applied when every version it read is still current
        and every range it scanned unchanged (earlier transactions of the same block included),
        else MVCC_READ_CONFLICT or PHANTOM_READ_CONFLICT with nothing applied, so of two conflicting transactions exactly one is VALID. A tx id already on the
        ledger (or earlier in the batch) stays out of the block and gets a
        DuplicateTransactionError. One IMMEDIATE transaction, safe against other processes too:
        the whole block commits or none of it does. Returns one outcome per transaction."""
        with self.write_lock:
            for _ in range(2):  # a second time only when another process appended meanwhile
                outcomes = self._append(self._writer(), batch)
                if outcomes is not None:
                    return outcomes
        raise sqlite3.OperationalError("another writer appended a block while this one held the write lock")

    def _append(
        self, conn: sqlite3.Connection, batch: Sequence[PendingCommit]
    ) -> list[Committed | DuplicateTransactionError] | None:
        """One try of ``commit_batch``: None when the remembered tip was stale (rolled back).

        A fixed handful of statements per block, however many transactions and keys: BEGIN,
        PRAGMA data_version (has another connection committed since this one's last block? then
        one SELECT of the tip), one read of every version the batch read, the transactions' rows, the state, the
        history, the block, COMMIT (a DELETE besides when a key is deleted, a SELECT per range
        scanned, private data per transaction that has some). The block is planned in memory
        first: each transaction's reads are checked against the versions read and the writes of
        the transactions before it in the block, exactly as writing each before checking the
        next would."""
        _begin_immediate(conn)
        remembered = False
        try:
            # the same writer connection as the last append, and no commit by any other since
            seen = (conn, conn.execute("PRAGMA data_version").fetchone()[0])
            if self._tip_seen != seen:
                self._tip = None
            self._tip_seen = seen
            remembered = self._tip is not None
            if self._tip is None:
                last = conn.execute("SELECT number, hash FROM blocks ORDER BY number DESC LIMIT 1").fetchone()
                self._tip = (last[0] + 1, bytes(last[1])) if last else (0, b"")
            number, previous_hash = self._tip
            current = _versions(conn, batch)
            plan = _plan(conn, batch, number, current, frozenset())
            if plan.transactions and not _insert_rows(conn, TRANSACTION_ROWS, plan.transactions):
                # a tx id already on the ledger (the primary key refused the statement, nothing
                # of it was written): find which, and plan the block without them
                on_ledger = _on_ledger(conn, [item.tx_id for item in batch])
                plan = _plan(conn, batch, number, current, on_ledger)
                if plan.transactions and not _insert_rows(conn, TRANSACTION_ROWS, plan.transactions):
                    raise sqlite3.IntegrityError("a transaction's id collided twice")
            puts = [(key, value, number, txnum) for key, (value, txnum) in plan.state.items() if txnum >= 0]
            deletes = [key for key, (_, txnum) in plan.state.items() if txnum < 0]
            if puts:
                _insert_rows(conn, STATE_ROWS, puts, replace=True)
            for start in range(0, len(deletes), CHUNK_VARIABLES):
                chunk = deletes[start : start + CHUNK_VARIABLES]
                conn.execute(f"DELETE FROM state WHERE key IN ({','.join('?' * len(chunk))})", chunk)
            if plan.history:
                _insert_rows(conn, HISTORY_ROWS, plan.history)
            for item in plan.private:
                self._apply_private(conn, item)
            block = new_block(number, previous_hash, plan.envelopes, plan.codes) if plan.envelopes else None
            if block is not None:
                try:
                    conn.execute(
                        "INSERT INTO blocks (number, hash, data) VALUES (?, ?, ?)",
                        (number, block.hash, block.encode()),
                    )
                except sqlite3.IntegrityError:  # another process appended block ``number``
                    conn.execute("ROLLBACK")
                    self._tip = None
                    return None
            conn.execute("COMMIT")
        except sqlite3.IntegrityError:
            # A remembered tip is stale when another process appended meanwhile: its block number
            # then collides wherever it is written first (the history of a key, the block
            # itself). Try again from the tip on disk; a collision with a tip just read is a
            # real error.
            self._tip = None
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if remembered:
                return None
            raise
        except BaseException:
            self._tip = None
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        if block is not None:
            self._tip = (number + 1, block.hash)
        return plan.outcomes

    @classmethod
    def validation_code(
        cls, conn: sqlite3.Connection, rwset: ReadWriteSet | None, ranges: tuple[RangeRead, ...]
    ) -> int:
        """VALID when every version read is still current and every range scanned would return
        the same keys at the same versions; else MVCC_READ_CONFLICT or PHANTOM_READ_CONFLICT."""
        if rwset is not None and rwset.reads and not cls._reads_current(conn, rwset.reads):
            return MVCC_READ_CONFLICT
        for scan in ranges:
            now = conn.execute(
                "SELECT key, block, txnum FROM state WHERE key >= ? AND key < ? ORDER BY key",
                (scan.start, scan.end),
            )
            if tuple((key, (block, txnum)) for key, block, txnum in now) != scan.results:
                return PHANTOM_READ_CONFLICT
        return VALID

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
        conn: sqlite3.Connection,
        rwset: ReadWriteSet,
        number: int,
        txnum: int,
        tx_id: str,
        seconds: int,
        nanos: int,
    ) -> None:
        puts = [(w.key, w.value, number, txnum) for w in rwset.writes if not w.is_delete]
        deletes = [(w.key,) for w in rwset.writes if w.is_delete]
        if puts:
            conn.executemany(
                "INSERT OR REPLACE INTO state (key, value, block, txnum) VALUES (?, ?, ?, ?)", puts
            )
        if deletes:
            conn.executemany("DELETE FROM state WHERE key = ?", deletes)
        conn.executemany(
            "INSERT INTO history (key, block, txnum, tx_id, value, is_delete, seconds, nanos)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (w.key, number, txnum, tx_id, None if w.is_delete else w.value, w.is_delete, seconds, nanos)
                for w in rwset.writes
            ],
        )

    @staticmethod
    def _apply_private(conn: sqlite3.Connection, item: PendingCommit) -> None:
        for collection, write in item.private:
            if write.is_delete:
                conn.execute("DELETE FROM private WHERE collection = ? AND key = ?", (collection, write.key))
            else:
                conn.execute(
                    "INSERT OR REPLACE INTO private (collection, key, value, tx_id) VALUES (?, ?, ?, ?)",
                    (collection, write.key, write.value, item.tx_id),
                )
        conn.execute(
            "INSERT OR REPLACE INTO private_inputs (tx_id, transient) VALUES (?, ?)",
            (item.tx_id, item.transient),
        )

    def get_private(self, collection: str, key: str) -> bytes | None:
        """A committed private value (this ledger holds every collection's)."""
        row = (
            self.connection()
            .execute("SELECT value FROM private WHERE collection = ? AND key = ?", (collection, key))
            .fetchone()
        )
        return bytes(row[0]) if row else None

    def private_inputs(self, tx_id: str) -> bytes | None:
        """The transient map (serialized) a committed transaction with private writes had."""
        row = (
            self.connection()
            .execute("SELECT transient FROM private_inputs WHERE tx_id = ?", (tx_id,))
            .fetchone()
        )
        return bytes(row[0]) if row else None

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
