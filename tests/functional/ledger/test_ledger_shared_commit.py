"""Issue #22 (b): the processes on one embedded ledger share one group commit
(GOLDTICKET_LEDGER_SHARED_COMMIT), so one block, one SQLite COMMIT and its FULL fsync, carries
the transactions of several processes; and a kill -9 of a worker or of the process leading the
commit loses no acknowledged write, commits none twice and leaves none waiting."""

from __future__ import annotations

import fcntl
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from crash_writer import open_or_create
from fabric_protos.common import common_pb2
from ledger_support import bare_ledger, endorsed_envelope

from chaincode import GoldTicketContract
from goldticket import messages as m
from goldticket.ledger import DuplicateTransactionError, SubmitError
from goldticket.ledger.local.peer import LocalLedger
from goldticket.ledger.local.shared import SharedCommitter
from goldticket.ledger.local.store import LedgerStore
from goldticket.ledger.local.verify import verify_ledger

pytestmark = pytest.mark.functional

HERE = Path(__file__).parent


class Died(BaseException):
    """A process dying at that point (nothing after it runs)."""


def _writer(data_dir: Path, round_name: str, threads: int = 1) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, str(HERE / "crash_writer.py"), str(data_dir), str(threads), round_name, "shared"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "READY"
    return process


def _first_ack(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.startswith("ACK "), line
    return line.split()[1]


def _kill(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    assert process.stdout is not None
    process.stdout.close()


def _queue_rows(data_dir: Path, where: str) -> int:
    queue = data_dir / "ledger.sqlite-commits"
    if not queue.exists():
        return 0
    conn = sqlite3.connect(queue, timeout=30)
    try:
        return int(conn.execute(f"SELECT COUNT(*) FROM queue WHERE {where}").fetchone()[0])
    except sqlite3.OperationalError:  # not created yet
        return 0
    finally:
        conn.close()


def _wait_for(condition, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def _tx_ids_in_blocks(ledger: LocalLedger) -> list[str]:
    return [
        m.decode_transaction(common_pb2.Envelope.FromString(envelope).payload).tx_id
        for block in ledger.blocks(1)
        for envelope in block.envelopes
    ]


def _check_ledger(data_dir: Path, acknowledged: list[str]) -> LocalLedger:
    """Every acknowledged tx committed, each tx id once in the blocks and in the index, the
    ledger verifies; returns it opened with the shared commit (which leads once if anything
    still waits: nothing may be left waiting)."""
    ledger = LocalLedger(
        data_dir / "ledger.sqlite", GoldTicketContract(), time_window=None, shared_commit=True
    )
    assert ledger._shared is not None and ledger._shared.waiting() == 0
    assert [tx_id for tx_id in acknowledged if not ledger.commit_status(tx_id).ok] == []
    in_blocks = _tx_ids_in_blocks(ledger)
    indexed = [row[0] for row in ledger._store.connection().execute("SELECT tx_id FROM transactions")]
    assert len(set(in_blocks)) == len(in_blocks) and sorted(in_blocks) == sorted(indexed)
    report = verify_ledger(ledger._store.path, GoldTicketContract())
    assert report.ok, report.reason
    return ledger


def test_two_processes_transactions_share_one_block_and_one_commit(tmp_path):
    """Both workers' candidates wait in the queue while the lock is held; the first to get it
    writes both in one block: one SQLite COMMIT, one FULL fsync, for two processes."""
    data_dir = tmp_path / "data"
    open_or_create(data_dir)[0].close()
    lock = os.open(data_dir / "ledger.sqlite-commits.lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(lock, fcntl.LOCK_EX)
    writers = []
    try:
        writers = [_writer(data_dir, name) for name in ("a", "b")]
        _wait_for(lambda: _queue_rows(data_dir, "outcome IS NULL") == 2, "both candidates queued")
        height = LedgerStore(data_dir / "ledger.sqlite").height()
        fcntl.flock(lock, fcntl.LOCK_UN)
        first = [_first_ack(writer) for writer in writers]
    finally:
        os.close(lock)
        for writer in writers:
            _kill(writer)
    ledger = _check_ledger(data_dir, first)
    statuses = [ledger.commit_status(tx_id) for tx_id in first]
    assert statuses[0].block_number == statuses[1].block_number == height
    assert len(list(ledger.blocks(height))[0].envelopes) == 2
    ledger.close()


def test_kill_9_of_workers_mid_batch_loses_and_doubles_nothing(tmp_path):
    """Two rounds of two workers with six threads each, each killed while batches are in flight
    (so at times while it leads the shared commit)."""
    data_dir = tmp_path / "data"
    open_or_create(data_dir)[0].close()
    acknowledged: dict[str, set[str]] = {}
    for round_number in range(2):
        writers = {
            f"{round_number}-{index}": _writer(data_dir, f"{round_number}-{index}", 6) for index in range(2)
        }
        try:
            for name, writer in writers.items():
                acks = acknowledged.setdefault(name, set())
                assert writer.stdout is not None
                for line in writer.stdout:
                    acks.add(line.split()[1])
                    if len(acks) >= 120:
                        break
                os.kill(writer.pid, signal.SIGKILL)  # mid-batch: its other threads are committing
                acks.update(line.split()[1] for line in writer.stdout if line.startswith("ACK "))
        finally:
            for writer in writers.values():
                _kill(writer)
        assert [writer.returncode for writer in writers.values()] == [-signal.SIGKILL] * 2
        ledger = _check_ledger(data_dir, [tx_id for acks in acknowledged.values() for tx_id in acks])
        ledger.close()


def test_the_committer_killed_while_it_leads_leaves_its_batch_to_the_next_leader(tmp_path):
    """Worker A leads: it took its candidate and waits for the ledger's write lock (held here).
    Worker B queues behind A's lock file. A is killed with -9: the kernel frees the lock file,
    SQLite drops A's unfinished block; B leads and commits A's candidate with its own, once."""
    data_dir = tmp_path / "data"
    open_or_create(data_dir)[0].close()
    blocker = sqlite3.connect(data_dir / "ledger.sqlite", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    writers = []
    try:
        writers.append(_writer(data_dir, "leader"))
        _wait_for(lambda: _queue_rows(data_dir, "taken = 1") == 1, "A leading")
        queue = sqlite3.connect(data_dir / "ledger.sqlite-commits")
        a_tx = queue.execute("SELECT tx_id FROM queue WHERE taken = 1").fetchone()[0]
        queue.close()
        writers.append(_writer(data_dir, "follower"))
        _wait_for(lambda: _queue_rows(data_dir, "taken = 0") == 1, "B queued")
        _kill(writers[0])
        blocker.execute("ROLLBACK")
        b_first = _first_ack(writers[1])
    finally:
        if blocker.in_transaction:
            blocker.execute("ROLLBACK")
        blocker.close()
        for writer in writers:
            _kill(writer)
    ledger = _check_ledger(data_dir, [b_first])
    assert _tx_ids_in_blocks(ledger).count(a_tx) == 1  # A never heard; committed once all the same
    assert ledger.commit_status(a_tx).block_number == ledger.commit_status(b_first).block_number
    ledger.close()


def _pending(data_dir: Path):
    ledger, signer = bare_ledger(data_dir)
    envelope, tx_id = endorsed_envelope(ledger, signer, "Ping", {"key": "once"})
    return ledger, signer, ledger._pending(envelope), tx_id


def test_a_leader_that_dies_after_its_block_is_durable_is_not_committed_again(tmp_path, monkeypatch):
    ledger, _, pending, tx_id = _pending(tmp_path / "data")
    first = SharedCommitter(ledger._store)
    real = ledger._store.commit_batch

    def commit_then_die(batch):
        real(batch)
        raise Died

    monkeypatch.setattr(ledger._store, "commit_batch", commit_then_die)
    height = ledger.height()
    with pytest.raises(Died):
        first.commit_batch([pending])
    assert first.waiting() == 1 and ledger.height() == height + 1  # durable, no outcome written
    monkeypatch.setattr(ledger._store, "commit_batch", real)
    second = SharedCommitter(LedgerStore(ledger._store.path))  # another process: it leads at once
    assert second.waiting() == 0 and ledger.height() == height + 1
    outcome = second._conn.execute("SELECT outcome FROM queue").fetchone()[0]
    assert outcome.startswith('["ok"') and tx_id in outcome
    assert _tx_ids_in_blocks(ledger).count(tx_id) == 1
    first.close()
    second.close()
    ledger.close()


def test_a_leader_that_dies_before_its_block_commits_leaves_it_to_the_next(tmp_path, monkeypatch):
    ledger, _, pending, tx_id = _pending(tmp_path / "data")
    first = SharedCommitter(ledger._store)
    real = ledger._store.commit_batch

    def die(batch):
        raise Died

    monkeypatch.setattr(ledger._store, "commit_batch", die)
    height = ledger.height()
    with pytest.raises(Died):
        first.commit_batch([pending])
    monkeypatch.setattr(ledger._store, "commit_batch", real)
    assert ledger.height() == height
    outcome = first.commit_batch([])  # nothing of its own: it does not lead
    assert outcome == [] and first.waiting() == 1
    second = SharedCommitter(LedgerStore(ledger._store.path))
    assert second.waiting() == 0 and ledger.height() == height + 1
    assert ledger.commit_status(tx_id).ok and _tx_ids_in_blocks(ledger).count(tx_id) == 1
    first.close()
    second.close()
    ledger.close()


def test_the_same_tx_id_with_other_bytes_taken_again_stays_a_duplicate(tmp_path, monkeypatch):
    """A candidate taken by a dead leader whose tx id the ledger holds with other bytes (the
    same payload signed again: ECDSA signatures differ) is not reported committed."""
    ledger, signer, pending, tx_id = _pending(tmp_path / "data")
    ledger.submit(common_pb2.Envelope.FromString(pending.envelope))
    envelope = common_pb2.Envelope.FromString(pending.envelope)
    resigned = m.signed_envelope(envelope.payload, signer.sign(envelope.payload))
    assert resigned.SerializeToString() != pending.envelope
    other = ledger._pending(resigned)
    shared = SharedCommitter(ledger._store)
    seqs = shared._enqueue([other])
    shared._conn.execute("UPDATE queue SET taken = 1")  # as if a leader took it and died
    outcome = shared.commit_batch([])
    assert outcome == []
    shared._lead(set())
    assert isinstance(shared._collect(seqs)[seqs[0]], DuplicateTransactionError)
    assert _tx_ids_in_blocks(ledger).count(tx_id) == 1
    shared.close()
    ledger.close()


def test_a_shared_ledger_keeps_out_duplicates_and_refused_envelopes(tmp_path):
    bare, signer = bare_ledger(tmp_path / "data")
    bare.close()
    ledger = LocalLedger(
        tmp_path / "data" / "ledger.sqlite", GoldTicketContract(), time_window=None, shared_commit=True
    )
    good, good_id = endorsed_envelope(ledger, signer, "Ping", {"key": "a"})
    forged = m.signed_envelope(b"not a transaction", signer.sign(b"not a transaction"))
    results = ledger.submit_all([good, forged, good])
    assert results[0] is None and isinstance(results[1], SubmitError)
    assert isinstance(results[2], DuplicateTransactionError)
    with pytest.raises(DuplicateTransactionError):
        ledger.submit(good)
    assert ledger.commit_status(good_id).ok and ledger._shared is not None and ledger._shared.waiting() == 0
    ledger.close()


def test_the_setting_opens_the_ledger_with_the_shared_commit(tmp_path):
    from goldticket.ledger import open_local_ledger
    from goldticket.settings import Settings

    assert Settings.from_env({"GOLDTICKET_LEDGER_SHARED_COMMIT": "1"}).ledger_shared_commit is True
    assert Settings.from_env({}).ledger_shared_commit is False
    bare, _ = bare_ledger(tmp_path)
    bare.close()
    ledger = open_local_ledger(tmp_path, check_time=False, shared_commit=True)
    assert isinstance(ledger, LocalLedger) and ledger._shared is not None
    ledger.close()
