"""Issue #22, point 3: a block of one transaction costs BEGIN, the read check, its rows, the
block and COMMIT: the next block's number and the last hash are kept in memory under the write
lock, the transactions table's primary key refuses a tx id seen before, busy_timeout is set once
on the writer connection. Another process appending meanwhile (a stale tip) is caught by the
block's own primary key, and the block is written again on top."""

from __future__ import annotations

from ledger_support import bare_ledger, ping

from chaincode import GoldTicketContract
from goldticket.ledger import DuplicateTransactionError
from goldticket.ledger.local.peer import LocalLedger
from goldticket.ledger.local.verify import verify_ledger


def _verified(ledger):
    return verify_ledger(
        ledger._store.path, GoldTicketContract(), channel_id=ledger.channel_id, chaincode=ledger.chaincode
    )


def test_one_transaction_is_committed_in_a_handful_of_statements(tmp_path):
    ledger, signer = bare_ledger(tmp_path)
    ping(ledger, signer, "first")  # the tip is known from here on
    statements: list[str] = []
    ledger._store._writer().set_trace_callback(statements.append)
    ping(ledger, signer, "second")
    assert [s.split()[0] for s in statements] == [
        "BEGIN",
        "PRAGMA",  # data_version: no other writer appended, the tip in memory holds
        "SELECT",
        "INSERT",
        "INSERT",
        "INSERT",
        "INSERT",
        "COMMIT",
    ]
    assert not [s for s in statements if "busy_timeout" in s or "FROM blocks" in s or "SELECT 1" in s]
    ledger.close()


def test_two_writers_on_one_file_each_with_a_stale_tip_keep_one_chain(tmp_path):
    """As two worker processes: each appends after the other, so each one's remembered tip is
    stale at its next commit; every block follows the one before and the ledger verifies."""
    first, signer = bare_ledger(tmp_path)
    second = LocalLedger(tmp_path / "ledger.sqlite", GoldTicketContract(), time_window=None)
    done = []
    for round_number in range(4):
        for ledger in (first, second):
            done.append((ledger, ping(ledger, signer, f"{round_number}-{id(ledger)}")))
    blocks = [status for ledger, tx_id in done for status in [ledger.commit_status(tx_id)]]
    assert [status.block_number for status in blocks] == list(range(2, 10))
    assert all(status.ok for status in blocks)
    report = _verified(first)
    assert report.ok and report.blocks == 10
    first.close()
    second.close()


def test_a_writer_whose_tip_another_appended_over_reads_the_tip_and_writes_its_block_once(tmp_path):
    """Two processes taking turns on one file (the 2-process benchmark): the tip each remembers is
    stale at every commit. PRAGMA data_version tells so right after BEGIN, so each block costs
    one SELECT of the tip more, not a block planned, written, refused by the block's primary key,
    rolled back and written again (1,061 appends for 600 commits with two worker processes)."""
    first, signer = bare_ledger(tmp_path)
    second = LocalLedger(tmp_path / "ledger.sqlite", GoldTicketContract(), time_window=None)
    ping(second, signer, "warm-second")
    traces: dict[int, list[str]] = {id(first): [], id(second): []}
    for ledger in (first, second):
        ledger._store._writer().set_trace_callback(traces[id(ledger)].append)
    for round_number in range(3):
        for ledger in (first, second):
            ping(ledger, signer, f"turn-{round_number}-{id(ledger)}")
    stale = ["BEGIN", "PRAGMA", "SELECT", "SELECT", "INSERT", "INSERT", "INSERT", "INSERT", "COMMIT"]
    for trace in traces.values():
        assert [s.split()[0] for s in trace] == stale * 3  # no ROLLBACK, no block written twice
        assert sum("FROM blocks" in s for s in trace) == 3
    assert _verified(first).ok
    first.close()
    second.close()


def test_threads_leading_the_group_commit_in_turn_append_through_one_warm_writer(tmp_path, monkeypatch):
    """Whichever thread leads a block appends through the store's one writer connection: no
    writer opened per thread (each a cold page cache, and a data_version that every other
    thread's block changes, so a tip read again at each change of leader)."""
    import threading

    from goldticket.ledger.local.store import LedgerStore

    ledger, signer = bare_ledger(tmp_path)
    statements: list[str] = []
    ledger._store._writer().set_trace_callback(statements.append)
    opened: list[str] = []
    original = LedgerStore._open

    def counted(self):
        conn = original(self)
        conn.set_trace_callback(opened.append)
        return conn

    monkeypatch.setattr(LedgerStore, "_open", counted)
    threads = [
        threading.Thread(target=lambda n=n: [ping(ledger, signer, f"t{n}-{i}") for i in range(5)])
        for n in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(s.startswith("COMMIT") for s in statements) >= 5  # every block through this one writer
    assert not [s for s in opened if "busy_timeout" in s]  # no second writer connection
    assert not [s for s in statements if "FROM blocks" in s]  # the tip in memory held throughout
    assert _verified(ledger).ok
    ledger.close()


def test_a_tx_id_already_on_the_ledger_is_refused_by_the_other_writer_too(tmp_path):
    from ledger_support import endorsed_envelope

    first, signer = bare_ledger(tmp_path)
    second = LocalLedger(tmp_path / "ledger.sqlite", GoldTicketContract(), time_window=None)
    envelope, tx_id = endorsed_envelope(first, signer, "Ping", {"key": "once"})
    first.submit(envelope)
    height = first.height()
    try:
        second.submit(envelope)
    except DuplicateTransactionError:
        pass
    else:
        raise AssertionError("the second copy was committed")
    assert second.height() == height and second.commit_status(tx_id).block_number == height - 1
    first.close()
    second.close()


def test_two_writers_with_stale_tips_writing_the_same_key_keep_one_chain(tmp_path):
    """The stale tip's block number collides first in the key's history (key, block, txnum),
    before the block's own primary key: that too is a stale tip, written again on top, never a
    failed commit (found under 24 concurrent writers: 503 "UNIQUE constraint failed: history")."""
    first, signer = bare_ledger(tmp_path)
    second = LocalLedger(tmp_path / "ledger.sqlite", GoldTicketContract(), time_window=None)
    ping(first, signer, "warm-first")
    ping(second, signer, "warm-second")
    done = []
    for _ in range(3):
        for ledger in (first, second):
            done.append((ledger, ping(ledger, signer, "the same key")))
    assert all(ledger.commit_status(tx_id).ok for ledger, tx_id in done)
    report = _verified(first)
    assert report.ok
    first.close()
    second.close()
