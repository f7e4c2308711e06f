"""Group commit: concurrent submissions share one block and one durable SQLite commit, MVCC
stays exact inside a block, and a kill -9 in the middle of batches loses no acknowledged
transaction and leaves no partial block."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from fabric_protos.common import common_pb2
from ledger_support import bare_ledger, endorsed_envelope, ping
from ledger_support import signed_proposal as make_proposal

from chaincode import GoldTicketContract
from goldticket import messages as m
from goldticket.ledger import DuplicateTransactionError, SubmitError
from goldticket.ledger.local.peer import LocalLedger
from goldticket.ledger.local.verify import verify_ledger

# the ledger's machinery under raw requests: its ledger is made without the documents rule (#21;
# tests/scenario/test_documents_required.py tests the rule)
pytestmark = [pytest.mark.functional, pytest.mark.documents_optional]

HERE = Path(__file__).parent


def verify(ledger):
    return verify_ledger(ledger._store.path, GoldTicketContract())


def offer(platform, signer, ticket_id, to_org):
    request = {"ticket_id": ticket_id, "to_org_id": to_org, "amount_fen": 1000}
    _, signed = make_proposal(platform.ledger, signer, "OfferTransfer", request)
    prepared = platform.ledger.endorse(signed)
    return m.signed_envelope(prepared.bytes, signer.sign(prepared.bytes)), prepared.tx_id


def test_of_two_conflicting_transactions_in_one_block_exactly_one_is_valid(
    consortium, issued_ticket, tier1_key
):
    platform = consortium.platform
    ledger = platform.ledger
    (first, first_id), (second, second_id) = (
        offer(platform, tier1_key, issued_ticket["id"], to_org) for to_org in ("tier2", "tier3")
    )
    assert ledger.submit_all([first, second]) == [None, None]
    statuses = [ledger.commit_status(tx_id) for tx_id in (first_id, second_id)]
    assert [status.validation_code for status in statuses] == ["VALID", "MVCC_READ_CONFLICT"]
    assert statuses[0].block_number == statuses[1].block_number == ledger.height() - 1
    block = list(ledger.blocks(statuses[0].block_number))[0]
    assert block.validation_codes == (0, 11) and len(block.envelopes) == 2
    ticket = platform.evaluate("GetTicket", {"ticket_id": issued_ticket["id"]})
    assert platform.evaluate("GetOffer", {"offer_id": ticket["offer_id"]})["to_org_id"] == "tier2"
    assert verify(ledger).ok


def test_a_conflicting_transaction_marked_valid_fails_verification(consortium, issued_ticket, tier1_key):
    platform = consortium.platform
    ledger = platform.ledger
    envelopes = [offer(platform, tier1_key, issued_ticket["id"], to_org)[0] for to_org in ("tier2", "tier3")]
    ledger.submit_all(envelopes)
    number = ledger.height() - 1
    block = list(ledger.blocks(number))[0]
    both_valid = m.new_block(number, block.previous_hash, list(block.envelopes), [0, 0])
    conn = sqlite3.connect(ledger._store.path)
    conn.execute("UPDATE blocks SET data = ? WHERE number = ?", (both_valid.encode(), number))
    conn.commit()
    conn.close()
    report = verify(ledger)
    assert not report.ok and report.first_bad_block == number
    assert "marked VALID but its reads make it MVCC_READ_CONFLICT" in report.reason


def test_a_batch_keeps_out_duplicates_and_refused_envelopes_and_commits_the_rest(tmp_path):
    ledger, signer = bare_ledger(tmp_path / "data")
    try:
        good, good_id = endorsed_envelope(ledger, signer, "Ping", {"key": "a"})
        other, other_id = endorsed_envelope(ledger, signer, "Ping", {"key": "b"})
        forged = m.signed_envelope(b"not a transaction", signer.sign(b"not a transaction"))
        height = ledger.height()
        results = ledger.submit_all([good, forged, good, other])
        assert results[0] is None and results[3] is None
        assert isinstance(results[1], SubmitError)
        assert isinstance(results[2], DuplicateTransactionError)
        assert ledger.height() == height + 1
        assert [ledger.commit_status(tx_id).block_number for tx_id in (good_id, other_id)] == [height, height]
        with pytest.raises(DuplicateTransactionError):
            ledger.submit(good)
        assert verify(ledger).ok
    finally:
        ledger.close()


def test_submitters_waiting_on_a_busy_ledger_share_the_next_block(tmp_path):
    """While another process holds the write lock, seven submitters queue behind the first;
    when it is released they commit in one block."""
    ledger, signer = bare_ledger(tmp_path / "data")
    envelopes = [endorsed_envelope(ledger, signer, "Ping", {"key": f"k{index}"}) for index in range(8)]
    blocker = sqlite3.connect(tmp_path / "data" / "ledger.sqlite", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    errors: list[BaseException] = []

    def submit(envelope):
        try:
            ledger.submit(envelope)
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=submit, args=(envelope,)) for envelope, _ in envelopes]
    try:
        threads[0].start()
        time.sleep(0.2)  # the first submitter leads and waits for the lock
        for thread in threads[1:]:
            thread.start()
        deadline = time.monotonic() + 10
        while len(ledger._committer._queue) < 7 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    for thread in threads:
        thread.join()
    assert errors == []
    blocks = {ledger.commit_status(tx_id).block_number for _, tx_id in envelopes}
    sizes = sorted(len(list(ledger.blocks(number))[0].envelopes) for number in blocks)
    assert sizes == [1, 7]
    assert verify(ledger).ok
    ledger.close()


def test_many_threads_all_commit_and_the_ledger_verifies(tmp_path):
    ledger, signer = bare_ledger(tmp_path / "data")
    done: list[str] = []

    def write(index):
        for count in range(15):
            done.append(ping(ledger, signer, f"t{index}-{count}"))

    threads = [threading.Thread(target=write, args=(index,)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(done) == 120 and all(ledger.commit_status(tx_id).ok for tx_id in done)
    assert sum(len(block.envelopes) for block in ledger.blocks(2)) == 120  # block 1: Bootstrap
    report = verify(ledger)
    assert report.ok and report.transactions == 121  # and Bootstrap
    ledger.close()


def run_writers_until_killed(data_dir, round_number, acks_before_kill, writers=1):
    """Start ``writers`` crash_writer.py processes on one ledger, kill -9 each once it has
    acknowledged ``acks_before_kill`` transactions, and return every tx id acknowledged."""
    processes = [
        subprocess.Popen(
            [sys.executable, str(HERE / "crash_writer.py"), str(data_dir), "8", f"{round_number}-{index}"],
            stdout=subprocess.PIPE,
            text=True,
        )
        for index in range(writers)
    ]
    acknowledged: list[str] = []
    try:
        for writer in processes:
            assert writer.stdout is not None
            assert writer.stdout.readline().strip() == "READY"
        for writer in processes:
            assert writer.stdout is not None
            for count, line in enumerate(writer.stdout, start=1):
                acknowledged.append(line.split()[1])
                if count >= acks_before_kill:
                    break
            os.kill(writer.pid, signal.SIGKILL)
            acknowledged += [line.split()[1] for line in writer.stdout if line.startswith("ACK ")]
    finally:
        for writer in processes:
            if writer.poll() is None:
                os.kill(writer.pid, signal.SIGKILL)
            writer.wait(timeout=30)
            assert writer.stdout is not None
            writer.stdout.close()
    assert [writer.returncode for writer in processes] == [-signal.SIGKILL] * writers
    return acknowledged


def test_kill_9_mid_batch_loses_no_acknowledged_write_and_leaves_no_partial_block(tmp_path):
    """Three rounds on one ledger: one writer process, one again, then two at once (their
    batches interleave through SQLite's write lock); each killed while batches are in flight."""
    data_dir = tmp_path / "data"
    acknowledged: list[str] = []
    for round_number, writers in enumerate((1, 1, 2)):
        acknowledged += run_writers_until_killed(data_dir, round_number, 150, writers)
        ledger = LocalLedger(data_dir / "ledger.sqlite", GoldTicketContract(), time_window=None)
        try:
            missing = [tx_id for tx_id in acknowledged if not ledger.commit_status(tx_id).ok]
            assert missing == []
            blocks = list(ledger.blocks(1))
            in_blocks = [
                m.decode_transaction(common_pb2.Envelope.FromString(envelope).payload).tx_id
                for block in blocks
                for envelope in block.envelopes
            ]
            indexed = [row[0] for row in ledger._store.connection().execute("SELECT tx_id FROM transactions")]
            assert sorted(in_blocks) == sorted(indexed)
            report = verify(ledger)
            assert report.ok, report.reason
        finally:
            ledger.close()
    assert len(set(acknowledged)) == len(acknowledged) >= 600


def test_a_block_that_cannot_be_committed_is_a_typed_error_and_writes_nothing(tmp_path, monkeypatch):
    """Another process keeps the write lock past the busy timeout: the submitter gets a
    SubmitError, nothing of the block is on the ledger, and the same envelope commits later."""
    from goldticket.ledger import UnknownTransactionError
    from goldticket.ledger.local import store

    ledger, signer = bare_ledger(tmp_path / "data")
    envelope, tx_id = endorsed_envelope(ledger, signer, "Ping", {"key": "late"})
    height = ledger.height()
    monkeypatch.setattr(store, "BUSY_TIMEOUT", 0.3)
    blocker = sqlite3.connect(tmp_path / "data" / "ledger.sqlite", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(SubmitError, match="could not be committed, nothing was written"):
            ledger.submit(envelope)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert ledger.height() == height
    with pytest.raises(UnknownTransactionError):
        ledger.commit_status(tx_id)
    ledger.submit(envelope)
    assert ledger.commit_status(tx_id).ok
    ledger.close()
