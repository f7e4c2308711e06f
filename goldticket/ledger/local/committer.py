"""Group commit: concurrently submitted transactions share one block and one SQLite commit.

An orderer cuts blocks from whatever transactions arrived while the previous block was being
written; this does the same inside one process. The first submitter that finds no commit under
way becomes the leader: it takes every transaction queued so far (up to ``max_batch``), writes
them as one block in one SQLite transaction (one fsync with ``synchronous=FULL``) and hands each
submitter its outcome. Submitters that arrive meanwhile wait and form the next block. A lone
submitter commits at once, so there is no timer and no added latency; under load the batch
grows to absorb the cost of the fsync. Other processes on the same file batch on their own, and
SQLite's write lock orders their blocks, unless they share one committer (``shared``,
GOLDTICKET_LEDGER_SHARED_COMMIT): then each process's batch goes to it.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Sequence

from ..errors import LedgerError, SubmitError
from .store import Committed, LedgerStore, PendingCommit

MAX_BATCH = 200


class _Ticket:
    __slots__ = ("item", "outcome", "error")

    def __init__(self, item: PendingCommit) -> None:
        self.item = item
        self.outcome: Committed | None = None
        self.error: BaseException | None = None


class GroupCommitter:
    def __init__(
        self,
        store: LedgerStore,
        max_batch: int = MAX_BATCH,
        write: Callable[[Sequence[PendingCommit]], Sequence[Committed | LedgerError]] | None = None,
    ) -> None:
        """``write``: what commits a batch (default: ``store.commit_batch`` under its write
        lock; the shared committer's ``commit_batch`` when the processes share one)."""
        self._store = store
        self._write_batch = write or self._own_block
        self._max_batch = max_batch
        self._condition = threading.Condition()
        self._queue: list[_Ticket] = []
        self._leading = False

    def commit(self, item: PendingCommit) -> Committed:
        """Commit ``item`` in the next block; returns once that block is durable.
        Raises DuplicateTransactionError for a tx id already on the ledger, or SubmitError when
        the block's SQLite transaction failed (the ledger stayed locked by another process for
        30 s, a full disk...; then nothing of that block was written)."""
        outcome = self.commit_all([item])[0]
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def commit_all(self, items: list[PendingCommit]) -> list[Committed | BaseException]:
        """Commit ``items`` together, in order and in one block (unless more than ``max_batch``
        are queued), and return once all are durable: per item, where it went or why not."""
        tickets = [_Ticket(item) for item in items]
        with self._condition:
            self._queue.extend(tickets)
            while any(ticket.outcome is None and ticket.error is None for ticket in tickets):
                if self._leading:
                    self._condition.wait()
                    continue
                self._leading = True
                batch, self._queue = self._queue[: self._max_batch], self._queue[self._max_batch :]
                self._condition.release()
                try:
                    self._write(batch)
                finally:
                    self._condition.acquire()
                    self._leading = False
                    self._condition.notify_all()
        return [ticket.error or ticket.outcome for ticket in tickets]  # type: ignore[misc]

    def _own_block(self, items: Sequence[PendingCommit]) -> Sequence[Committed | LedgerError]:
        with self._store.write_lock:
            return self._store.commit_batch(items)

    def _write(self, batch: list[_Ticket]) -> None:
        try:
            outcomes = self._write_batch([ticket.item for ticket in batch])
        except BaseException as error:  # the whole block rolled back: every submitter learns why
            failure: BaseException = error
            if isinstance(error, sqlite3.Error):
                failure = SubmitError(f"the block could not be committed, nothing was written: {error}")
            for ticket in batch:
                ticket.error = failure
            return
        for ticket, outcome in zip(batch, outcomes, strict=True):
            if isinstance(outcome, LedgerError):
                ticket.error = outcome
            else:
                ticket.outcome = outcome
