"""Issue #22: a block's history rows cost the commit few pages. The history is read by key only
(GetHistoryForKey) but written in block order, so it is a rowid table: a block's rows go to the
table's last page side by side, and only the small (key, block, txnum) index entries land on
random pages. As a WITHOUT ROWID table keyed by the key, every row (its value, up to a ticket
document) landed on a random leaf and split it: ~2.5 pages written to the WAL per history row,
15 of a transfer's 28 pages per block, and the largest INSERT of the commit."""

from __future__ import annotations

import hashlib
import sqlite3
import struct
from collections import Counter

import pytest

from goldticket.ledger.local.store import LedgerStore, PendingCommit
from goldticket.messages import KeyWrite, ReadWriteSet

pytestmark = pytest.mark.functional

VALUE = b"{" + b"x" * 600 + b"}"  # about a ticket document's size


def _key(name: str) -> str:
    return "\x00ticket\x00TK" + hashlib.sha256(name.encode()).hexdigest()[:20] + "\x00"


def _block(tx_id: str, keys: list[str]) -> list[PendingCommit]:
    rwset = ReadWriteSet("goldticket", (), tuple(KeyWrite(key, VALUE, False) for key in keys), (), ())
    return [PendingCommit(b"envelope " + tx_id.encode(), tx_id, rwset, 1, 2)]


def _pages_written(store: LedgerStore, keys: list[str]) -> Counter[str]:
    """WAL frames one block writes, by the table (or index) owning each page."""
    writer = store._writer()
    writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.commit_batch(_block("measured", keys))
    wal = (store.path.parent / (store.path.name + "-wal")).read_bytes()
    page_size = struct.unpack(">I", wal[8:12])[0]
    frames = [struct.unpack(">I", wal[at : at + 4])[0] for at in range(32, len(wal), 24 + page_size)]
    reader = sqlite3.connect(store.path)
    owners = {page: name for name, page in reader.execute("SELECT name, pageno FROM dbstat")}
    reader.close()
    return Counter(owners.get(page, "?") for page in frames)


def test_a_blocks_history_rows_are_written_side_by_side_not_one_random_page_each(tmp_path):
    store = LedgerStore(tmp_path / "ledger.sqlite")
    for block in range(300):  # 3,000 history rows on random keys, as a used ledger has
        store.commit_batch(_block(f"seed-{block}", [_key(f"{block}-{n}") for n in range(10)]))
    rows = 8
    written = _pages_written(store, [_key(f"new-{n}") for n in range(rows)])
    history = sum(count for name, count in written.items() if "history" in name)
    # table: the rows' 8 x 600 bytes side by side (3 pages); index: about a leaf per key (11)
    assert history <= 2 * rows, written  # 24 before (WITHOUT ROWID: a random leaf per row, splits)
    store.close()
