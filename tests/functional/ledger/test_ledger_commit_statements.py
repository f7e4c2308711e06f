"""Issue #22 (a): the commit path runs a fixed handful of SQLite statements per block, however
many keys its transactions write and however many transactions it carries: BEGIN, PRAGMA
data_version (is the tip in memory still the file's?), one read check, one INSERT of the transactions' rows (the tx_id primary key refuses a replay), one of
the state, one of the history, the block, COMMIT. SQLite's trace callback counts every
execution, each row of an ``executemany`` too. The in-block MVCC and phantom checks that the
fewer statements must still make exactly are pinned here as well."""

from __future__ import annotations

import pytest

from goldticket.ledger import DuplicateTransactionError
from goldticket.ledger.local.ranges import RangeRead
from goldticket.ledger.local.store import (
    MVCC_READ_CONFLICT,
    PHANTOM_READ_CONFLICT,
    VALID,
    LedgerStore,
    PendingCommit,
)
from goldticket.messages import KeyWrite, ReadWriteSet

pytestmark = pytest.mark.functional

BLOCK_SHAPE = ["BEGIN", "PRAGMA", "SELECT", "INSERT", "INSERT", "INSERT", "INSERT", "COMMIT"]


def _traced(store: LedgerStore) -> list[str]:
    statements: list[str] = []
    store._writer().set_trace_callback(statements.append)
    return statements


def _rwset(reads=(), writes=()):
    return ReadWriteSet("goldticket", tuple(reads), tuple(writes), (), ())


def _put(key: str, value: bytes = b"v") -> KeyWrite:
    return KeyWrite(key, value, False)


def _delete(key: str) -> KeyWrite:
    return KeyWrite(key, b"", True)


def _pending(tx_id: str, rwset, ranges=()) -> PendingCommit:
    return PendingCommit(b"envelope " + tx_id.encode(), tx_id, rwset, 1, 2, tuple(ranges))


def test_an_offer_accept_operation_commits_each_block_in_eight_or_nine_statements(consortium, issued_ticket):
    """OfferTransfer and AcceptOffer write several keys each (ticket, offer, indexes): the
    statement count does not grow with them (it was 4 + 2 per key written before #22 (a))."""
    from support import PIN

    from goldticket.services import transfers

    platform = consortium.platform
    statements = _traced(platform.ledger._store)
    offer = transfers.offer_transfer(
        platform, consortium.tier1, ticket_id=issued_ticket["id"], to_org_id="tier2", amount_fen=1000, pin=PIN
    )
    transfers.accept_offer(platform, consortium.tier2, offer["offer_id"], pin=PIN)
    accept_shape = BLOCK_SHAPE[:5] + ["DELETE"] + BLOCK_SHAPE[5:]  # AcceptOffer deletes the offer
    assert [s.split()[0] for s in statements] == BLOCK_SHAPE + accept_shape  # 34 before #22 (a)


def test_a_block_of_many_transactions_writing_many_keys_is_eight_statements(tmp_path):
    store = LedgerStore(tmp_path / "ledger.sqlite")
    store.commit_batch([_pending("seed", _rwset(writes=[_put("a"), _put("b")]))])
    statements = _traced(store)
    batch = [
        _pending(f"t{index}", _rwset(reads=[("a", (0, 0))], writes=[_put(f"k{index}-{n}") for n in range(5)]))
        for index in range(6)
    ]
    outcomes = store.commit_batch(batch)
    assert [outcome.code for outcome in outcomes] == [VALID] * 6  # type: ignore[union-attr]
    assert [s.split()[0] for s in statements] == BLOCK_SHAPE
    assert len(statements) / len(batch) <= 8 / 6  # ~5 per transaction at most, here far fewer
    store.close()


def test_inside_one_block_a_later_read_of_an_earlier_write_conflicts_and_deletes_apply_in_order(tmp_path):
    store = LedgerStore(tmp_path / "ledger.sqlite")
    store.commit_batch([_pending("seed", _rwset(writes=[_put("x", b"1"), _put("y", b"1")]))])
    # seed is block 0, tx 0: x and y are at (0, 0)
    outcomes = store.commit_batch(
        [
            _pending("w", _rwset(reads=[("x", (0, 0))], writes=[_put("x", b"2"), _delete("y")])),
            _pending("r", _rwset(reads=[("x", (0, 0))], writes=[_put("z", b"never")])),  # x moved in-block
            _pending("absent", _rwset(reads=[("y", None)], writes=[_put("y", b"3")])),  # y deleted in-block
            _pending("again", _rwset(writes=[_delete("y")])),
            _pending("w", _rwset(writes=[_put("dup", b"never")])),
        ]
    )
    codes = [getattr(outcome, "code", outcome) for outcome in outcomes]
    assert codes[:4] == [VALID, MVCC_READ_CONFLICT, VALID, VALID]
    assert isinstance(outcomes[4], DuplicateTransactionError)
    assert store.get("x") == (b"2", (1, 0))
    assert store.get("y") is None and store.get("z") is None and store.get("dup") is None
    assert [row[0] for row in store.history("y")] == ["again", "absent", "w", "seed"]
    assert store.transaction("r") == (1, 1, "MVCC_READ_CONFLICT")
    # a replayed tx id in a later block stays out, the rest of that block commits
    later = store.commit_batch([_pending("w", _rwset()), _pending("fresh", _rwset(writes=[_put("f")]))])
    assert isinstance(later[0], DuplicateTransactionError)
    assert later[1].code == VALID and later[1].txnum == 0  # type: ignore[union-attr]
    store.close()


def test_a_scan_sees_keys_written_earlier_in_the_same_block(tmp_path):
    store = LedgerStore(tmp_path / "ledger.sqlite")
    store.commit_batch([_pending("seed", _rwset(writes=[_put("r/1"), _put("r/3")]))])
    scanned = (("r/1", (0, 0)), ("r/3", (0, 0)))
    outcomes = store.commit_batch(
        [
            _pending("scan-before", _rwset(), [RangeRead("r/", "r/\xff", scanned)]),
            _pending("insert", _rwset(writes=[_put("r/2")])),
            _pending("scan-after", _rwset(), [RangeRead("r/", "r/\xff", scanned)]),
            _pending("remove", _rwset(writes=[_delete("r/2"), _delete("r/3")])),
            _pending("scan-last", _rwset(), [RangeRead("r/", "r/\xff", (("r/1", (0, 0)),))]),
        ]
    )
    assert [outcome.code for outcome in outcomes] == [  # type: ignore[union-attr]
        VALID,
        VALID,
        PHANTOM_READ_CONFLICT,
        VALID,
        VALID,
    ]
    store.close()
