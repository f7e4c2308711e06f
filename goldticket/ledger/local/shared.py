"""One group commit for every process on an embedded ledger file (issue #22, step 4).

``GroupCommitter`` batches the transactions of one process. Several worker processes on one
ledger file (``goldticket serve`` with several workers, bench's ``--processes``) would each
write their own blocks, one FULL fsync each. With ``GOLDTICKET_LEDGER_SHARED_COMMIT=1`` they
share one committer instead, a leader elected by a lock file, with no process of its own:

1. A process puts its validated block candidates (``PendingCommit``, already checked:
   signatures, endorsements, creator) in a queue beside the ledger (``<ledger>-commits``,
   SQLite in WAL mode, not synced: the queue survives a crash of any process, and what a power
   loss takes from it was never acknowledged).
2. It then takes the lock file's ``flock``. Holding it, it leads: it takes every queued
   candidate (up to ``MAX_BATCH``, in queue order, its own and every other process's), writes
   them as one block in one SQLite transaction (one FULL fsync), and writes each candidate's
   outcome beside it in the queue. Then it releases the lock.
3. A process that found the lock held waits for it (the kernel queues the waiters, no
   polling); when it gets it, its candidates usually have their outcomes already (the leader
   before it took them): it collects them and leaves. Otherwise it leads.

Why a crash can neither lose, double nor strand a write:
- a submitter hears "committed" only from an outcome the leader wrote after its block's
  COMMIT returned, so after the fsync that carries it;
- the kernel releases the ``flock`` of a process killed with -9, and SQLite rolls back its
  unfinished block: the next process to take the lock leads;
- a leader marks what it takes (``taken``); a candidate taken before but without an outcome
  was taken by a leader that died, before or after its block became durable. The next leader
  looks its tx id up on the ledger: if the ledger holds exactly that envelope there, that is
  its outcome (committed once, not again); otherwise it goes into the next block as usual (a
  tx id the ledger holds with other bytes is a duplicate, as always);
- a candidate whose submitter died is committed by the next leader all the same (as an
  orderer commits what it was sent): every leader takes all that waits, and a process that
  opens the ledger this way leads once if candidates wait and no other process holds the lock.
  Outcomes nobody collected are deleted after an hour.

The queue holds pickled ``PendingCommit`` objects: it is created owner-only (0600 in the data
directory, 0700) like the ledger file, whose writers can change the ledger itself anyway.
"""

from __future__ import annotations

import fcntl
import json
import os
import pickle
import sqlite3
import threading
import time
from collections.abc import Sequence

from fabric_protos.peer import transaction_pb2

from goldticket import messages as m

from ..errors import DuplicateTransactionError, LedgerError, SubmitError
from .store import Committed, LedgerStore, PendingCommit, private_file

MAX_BATCH = 200
OUTCOME_LIFETIME = 3600.0  # seconds an outcome nobody collected stays in the queue
PURGE_EVERY = 1000  # leads

QUEUE_SCHEMA = """
CREATE TABLE IF NOT EXISTS queue (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    tx_id TEXT NOT NULL,
    item BLOB NOT NULL,
    taken INTEGER NOT NULL DEFAULT 0,
    outcome TEXT,
    done REAL
);
"""

Outcome = Committed | LedgerError


def _encode(outcome: Outcome) -> str:
    if isinstance(outcome, Committed):
        return json.dumps(["ok", outcome.tx_id, outcome.block, outcome.txnum, outcome.code])
    kind = "duplicate" if isinstance(outcome, DuplicateTransactionError) else "error"
    return json.dumps([kind, outcome.message, outcome.tx_id])


def _decode(text: str) -> Outcome:
    fields = json.loads(text)
    if fields[0] == "ok":
        return Committed(fields[1], fields[2], fields[3], fields[4])
    if fields[0] == "duplicate":
        return DuplicateTransactionError(fields[1], fields[2])
    return SubmitError(fields[1], fields[2])


class SharedCommitter:
    """``commit_batch`` with ``LedgerStore.commit_batch``'s contract, shared across processes."""

    def __init__(self, store: LedgerStore, max_batch: int = MAX_BATCH) -> None:
        self._store = store
        self._max_batch = max_batch
        self.queue_path = store.path.with_name(store.path.name + "-commits")
        self.lock_path = store.path.with_name(store.path.name + "-commits.lock")
        private_file(self.queue_path)
        self._lock_fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        self._conn = sqlite3.connect(
            self.queue_path, isolation_level=None, check_same_thread=False, timeout=30
        )
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=OFF")
        self._conn.executescript(QUEUE_SCHEMA)
        self._thread_lock = threading.Lock()  # a flock belongs to the open file: one thread at a time
        self._leads = 0
        with self._thread_lock:
            self._purge()
            self._lead_if_free()

    def close(self) -> None:
        with self._thread_lock:
            self._conn.close()
            os.close(self._lock_fd)

    def _lead_if_free(self) -> None:
        """Commit candidates left waiting by a process that died, unless another process holds
        the lock (it, or the next one to lead, takes them with its own)."""
        if not self._conn.execute("SELECT 1 FROM queue WHERE outcome IS NULL LIMIT 1").fetchone():
            return
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return
        try:
            self._lead(set())
        finally:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def commit_batch(self, batch: Sequence[PendingCommit]) -> list[Outcome]:
        """Commit ``batch`` in order (in one block unless more than ``max_batch`` candidates are
        queued ahead of or with it, possibly with other processes' transactions) and return
        once it is durable: per item where it went, or the error that kept it out."""
        if not batch:
            return []
        with self._thread_lock:
            seqs = self._enqueue(batch)
            outcomes: dict[int, Outcome] = {}
            while len(outcomes) < len(seqs):
                fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
                try:
                    outcomes.update(self._collect(seqs))
                    if len(outcomes) < len(seqs):
                        outcomes.update(self._lead({seq for seq in seqs if seq not in outcomes}))
                finally:
                    fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            return [outcomes[seq] for seq in seqs]

    def _enqueue(self, batch: Sequence[PendingCommit]) -> list[int]:
        values: list[object] = []
        for item in batch:
            values += [item.tx_id, pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL)]
        rows = self._conn.execute(
            f"INSERT INTO queue (tx_id, item) VALUES {','.join(['(?, ?)'] * len(batch))} RETURNING seq",
            values,
        ).fetchall()
        return sorted(row[0] for row in rows)  # one statement's rows get rising numbers in order

    def _collect(self, seqs: list[int]) -> dict[int, Outcome]:
        rows = self._conn.execute(
            f"DELETE FROM queue WHERE seq IN ({','.join('?' * len(seqs))}) AND outcome IS NOT NULL"
            " RETURNING seq, outcome",
            seqs,
        ).fetchall()
        return {seq: _decode(text) for seq, text in rows}

    def _lead(self, mine: set[int]) -> dict[int, Outcome]:
        """Under the lock: write every waiting candidate (up to max_batch) as one block. The
        outcomes of the leader's own candidates (``mine``) are returned, their rows deleted;
        the others' are written beside them."""
        rows = sorted(
            self._conn.execute(
                "UPDATE queue SET taken = taken + 1 WHERE seq IN"
                " (SELECT seq FROM queue WHERE outcome IS NULL ORDER BY seq LIMIT ?)"
                " RETURNING seq, item, taken",
                (self._max_batch,),
            ).fetchall()
        )
        if not rows:
            return {}
        outcomes: dict[int, Outcome] = {}
        fresh: list[tuple[int, PendingCommit]] = []
        for seq, blob, taken in rows:
            item: PendingCommit = pickle.loads(blob)  # noqa: S301 (our own owner-only queue)
            found = self._already_committed(item) if taken > 1 else None
            if found is not None:
                outcomes[seq] = found
            else:
                fresh.append((seq, item))
        if fresh:
            written: Sequence[Outcome]
            try:
                with self._store.write_lock:
                    written = self._store.commit_batch([item for _, item in fresh])
            except sqlite3.Error as error:  # the whole block rolled back: every submitter learns why
                failure = SubmitError(f"the block could not be committed, nothing was written: {error}")
                written = [failure] * len(fresh)
            outcomes.update((seq, outcome) for (seq, _), outcome in zip(fresh, written, strict=True))
        own = {seq: outcome for seq, outcome in outcomes.items() if seq in mine}
        others = {seq: outcome for seq, outcome in outcomes.items() if seq not in mine}
        if own:  # after the COMMIT: a crash before this leaves them to the next leader's lookup
            self._conn.execute(f"DELETE FROM queue WHERE seq IN ({','.join('?' * len(own))})", list(own))
        if others:
            values: list[object] = []
            for seq, outcome in others.items():
                values += [seq, _encode(outcome)]
            self._conn.execute(
                "UPDATE queue SET outcome = r.column2, done = ? FROM"
                f" (VALUES {','.join(['(?, ?)'] * len(others))}) AS r WHERE queue.seq = r.column1",
                [time.time(), *values],
            )
        self._leads += 1
        if self._leads % PURGE_EVERY == 0:
            self._purge()
        return own

    def _already_committed(self, item: PendingCommit) -> Committed | None:
        """Where the ledger holds exactly this envelope (a leader that died after its COMMIT)."""
        found = self._store.transaction(item.tx_id)
        if found is None:
            return None
        block_number, txnum, code = found
        data = next(iter(self._store.blocks(block_number)), None)
        if data is None or data[0] != block_number:
            return None
        envelopes = m.decode_block(data[1]).envelopes
        if txnum >= len(envelopes) or bytes(envelopes[txnum]) != item.envelope:
            return None
        return Committed(item.tx_id, block_number, txnum, transaction_pb2.TxValidationCode.Value(code))

    def _purge(self) -> None:
        self._conn.execute(
            "DELETE FROM queue WHERE outcome IS NOT NULL AND done < ?", (time.time() - OUTCOME_LIFETIME,)
        )

    def waiting(self) -> int:
        """Candidates without an outcome yet (tests)."""
        return int(self._conn.execute("SELECT COUNT(*) FROM queue WHERE outcome IS NULL").fetchone()[0])
