"""What a durable block commit costs by the shape of what it writes (issue #22): today's ledger
store against a block store first, with the world state, history and transaction indexes applied
every N blocks, as Fabric's peers keep their block file apart from their state and history
databases.

    python bench/commit_shapes.py [--transactions N] [--preload K] [--flush 64 256] [--json PATH]

Every shape commits one transaction per block with ``synchronous=FULL`` in WAL mode, the
transaction shaped like the benchmark's OfferTransfer or AcceptOffer: ``--keys`` writes of
``--value-bytes`` each (half of them to keys already in the state, read first at their
versions, half to new keys) and an envelope of ``--block-bytes``, over a state of ``--preload``
keys with as many history entries and transaction ids.

- ``ledger``: today's ``LedgerStore.commit_batch`` (the real code): the transaction id, the
  state, the history, the block, in one commit.
- ``blocks``: only what a block store first makes durable per block: the block, its
  transaction ids and its write set appended, in one commit; the indexes are not kept.
- ``blocks+index/N``: ``blocks``, and every N blocks one more commit that applies those blocks'
  writes to a state table, a history index and a transaction index shaped like today's.

CPU is this process's (user + system, so a COMMIT's fsync counts what the kernel spends on it);
WAL frames and KB are counted in a second pass with checkpoints off. The floor (bench/floor.py's
FULL commit of one row) is measured in the same run and printed after.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import floor as floors  # noqa: E402  bench/floor.py

from goldticket.ledger.local.store import VALID, Committed, LedgerStore, PendingCommit  # noqa: E402
from goldticket.messages import KeyWrite, ReadWriteSet  # noqa: E402

NAMESPACE = "goldticket"
WAL_FRAME_HEADER = 24

BLOCK_STORE_SCHEMA = """
CREATE TABLE blocks (number INTEGER PRIMARY KEY, hash BLOB NOT NULL, data BLOB NOT NULL);
CREATE TABLE block_transactions (tx_id TEXT NOT NULL, block INTEGER NOT NULL, txnum INTEGER NOT NULL);
CREATE TABLE block_writes (
    block INTEGER NOT NULL, txnum INTEGER NOT NULL, key TEXT NOT NULL, value BLOB, tx_id TEXT NOT NULL
);
CREATE TABLE state (
    key TEXT PRIMARY KEY, value BLOB NOT NULL, block INTEGER NOT NULL, txnum INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE history (
    key TEXT NOT NULL, block INTEGER NOT NULL, txnum INTEGER NOT NULL, tx_id TEXT NOT NULL,
    PRIMARY KEY (key, block, txnum)
) WITHOUT ROWID;
CREATE TABLE transactions (tx_id TEXT PRIMARY KEY, block INTEGER NOT NULL, txnum INTEGER NOT NULL) WITHOUT ROWID;
"""


class Workload:
    """Transactions shaped like the benchmark's, the same sequence for every shape (seeded)."""

    def __init__(self, preload: int, keys: int, value_bytes: int, block_bytes: int, seed: int = 22) -> None:
        self.random = random.Random(seed)
        self.keys_per_tx = keys
        self.value_bytes = value_bytes
        self.block_bytes = block_bytes
        self.keys = [self.new_key() for _ in range(preload)]

    def new_key(self) -> str:
        return f"\x00ticket\x00TK{self.random.getrandbits(96):024x}\x00"

    def tx_id(self) -> str:
        return f"{self.random.getrandbits(256):064x}"

    def transaction(self) -> tuple[str, list[str], list[tuple[str, bytes]], bytes]:
        """(tx id, keys read, writes, envelope)."""
        updated = [self.random.choice(self.keys) for _ in range(self.keys_per_tx // 2)]
        created = [self.new_key() for _ in range(self.keys_per_tx - len(updated))]
        self.keys.extend(created)
        writes = [(key, self.random.randbytes(self.value_bytes)) for key in dict.fromkeys(updated + created)]
        return self.tx_id(), list(dict.fromkeys(updated)), writes, self.random.randbytes(self.block_bytes)


def _wal_frames(path: Path, page_size: int) -> int:
    wal = Path(str(path) + "-wal")
    return max(0, (wal.stat().st_size - 32) // (page_size + WAL_FRAME_HEADER)) if wal.exists() else 0


def _timed(run: Callable[[int], None], count: int) -> tuple[float, float]:
    started, started_cpu = time.perf_counter(), time.process_time()
    run(count)
    return (time.perf_counter() - started) * 1e6 / count, (time.process_time() - started_cpu) * 1e6 / count


class LedgerShape:
    """Today's store, through its own commit_batch."""

    def __init__(self, directory: Path, workload: Workload) -> None:
        self.path = directory / "ledger.sqlite"
        self.store = LedgerStore(self.path)
        self.workload = workload
        self.versions: dict[str, tuple[int, int]] = {}
        batch = [
            PendingCommit(
                b"preload", workload.tx_id(), ReadWriteSet(NAMESPACE, (), (KeyWrite(key, b"{}"),)), 0, 0
            )
            for key in workload.keys
        ]
        for start in range(0, len(batch), 2000):
            self._commit(batch[start : start + 2000])

    def _commit(self, batch: list[PendingCommit]) -> None:
        outcomes = self.store.commit_batch(batch)
        for item, outcome in zip(batch, outcomes, strict=True):
            if not isinstance(outcome, Committed) or outcome.code != VALID:
                raise RuntimeError(f"the benchmark's transaction was not VALID: {outcome}")
            for write in item.rwset.writes if item.rwset else ():
                self.versions[write.key] = (outcome.block, outcome.txnum)

    def run(self, count: int) -> None:
        for _ in range(count):
            tx_id, reads, writes, envelope = self.workload.transaction()
            rwset = ReadWriteSet(
                NAMESPACE,
                tuple((key, self.versions.get(key)) for key in reads),
                tuple(KeyWrite(key, value) for key, value in writes),
            )
            self._commit([PendingCommit(envelope, tx_id, rwset, 1_700_000_000, 0)])

    def connection(self) -> sqlite3.Connection:
        return self.store._writer()  # noqa: SLF001  the bench turns its checkpoints off

    def close(self) -> None:
        self.store.close()


class BlockStoreShape:
    """A block store first: per block only appends are durable; indexes every ``flush`` blocks."""

    def __init__(self, directory: Path, workload: Workload, flush: int) -> None:
        self.path = directory / "blocks.sqlite"
        self.workload = workload
        self.flush = flush
        self.conn = sqlite3.connect(self.path, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")
        self.conn.executescript(BLOCK_STORE_SCHEMA)
        self.number = 1
        self.pending: list[tuple[int, str, list[tuple[str, bytes]]]] = []
        self.conn.execute("BEGIN IMMEDIATE")
        self.conn.executemany(
            "INSERT INTO state VALUES (?, ?, 0, 0)", [(key, b"{}") for key in workload.keys]
        )
        self.conn.executemany(
            "INSERT INTO history VALUES (?, 0, 0, 'preload')", [(key,) for key in workload.keys]
        )
        self.conn.executemany(
            "INSERT INTO transactions VALUES (?, 0, 0)", [(workload.tx_id(),) for _ in workload.keys]
        )
        self.conn.execute("COMMIT")

    def run(self, count: int) -> None:
        conn = self.conn
        for _ in range(count):
            tx_id, _, writes, envelope = self.workload.transaction()
            number = self.number
            self.number += 1
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO block_transactions VALUES (?, ?, 0)", (tx_id, number))
            conn.executemany(
                "INSERT INTO block_writes VALUES (?, 0, ?, ?, ?)",
                [(number, key, value, tx_id) for key, value in writes],
            )
            conn.execute("INSERT INTO blocks VALUES (?, ?, ?)", (number, b"\x00" * 32, envelope))
            conn.execute("COMMIT")
            if self.flush:
                self.pending.append((number, tx_id, writes))
                if len(self.pending) >= self.flush:
                    self._apply()

    def _apply(self) -> None:
        conn = self.conn
        state: dict[str, tuple[bytes, int]] = {}
        for number, _, writes in self.pending:
            for key, value in writes:
                state[key] = (value, number)
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            "INSERT INTO transactions VALUES (?, ?, 0)",
            [(tx_id, number) for number, tx_id, _ in self.pending],
        )
        conn.executemany(
            "INSERT OR REPLACE INTO state VALUES (?, ?, ?, 0)",
            [(key, value, number) for key, (value, number) in state.items()],
        )
        conn.executemany(
            "INSERT INTO history VALUES (?, ?, 0, ?)",
            [(key, number, tx_id) for number, tx_id, writes in self.pending for key, _ in writes],
        )
        conn.execute("COMMIT")
        self.pending.clear()

    def connection(self) -> sqlite3.Connection:
        return self.conn

    def close(self) -> None:
        self.conn.close()


def measure_shape(name: str, args: argparse.Namespace) -> dict[str, object]:
    workload = Workload(args.preload, args.keys, args.value_bytes, args.block_bytes)
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        if name == "ledger":
            shape: LedgerShape | BlockStoreShape = LedgerShape(directory, workload)
        else:
            shape = BlockStoreShape(directory, workload, int(name.partition("/")[2] or 0))
        try:
            shape.run(args.warmup)
            wall_us, cpu_us = _timed(shape.run, args.transactions)
            conn = shape.connection()
            page_size = conn.execute("PRAGMA page_size").fetchone()[0]
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.execute("PRAGMA wal_autocheckpoint=0")
            counted = max(args.flush_max, min(args.transactions, 200))
            shape.run(counted)
            frames = _wal_frames(shape.path, page_size)
        finally:
            shape.close()
    return {
        "shape": name,
        "cpu_us_per_tx": cpu_us,
        "wall_us_per_tx": wall_us,
        "frames_per_tx": frames / counted,
        "kb_per_tx": frames * (page_size + WAL_FRAME_HEADER) / counted / 1024,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--transactions", type=int, default=2000, help="timed, one per block")
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--preload", type=int, default=20_000, help="keys in the state before")
    parser.add_argument("--keys", type=int, default=6, help="keys written per transaction")
    parser.add_argument("--value-bytes", type=int, default=300)
    parser.add_argument("--block-bytes", type=int, default=6600)
    parser.add_argument("--flush", type=int, nargs="*", default=[64, 256], help="blocks per index commit")
    parser.add_argument("--floor-count", type=int, default=1000)
    parser.add_argument("--json", type=Path, help="also write the table and the floor as JSON here")
    args = parser.parse_args(argv)
    args.flush_max = max(args.flush or [0])
    shapes = ["ledger", "blocks"] + [f"blocks+index/{flush}" for flush in args.flush]
    print(
        f"one transaction per block, FULL commits; {args.keys} keys of {args.value_bytes} bytes written,"
        f" a {args.block_bytes}-byte envelope, over {args.preload} keys; {args.transactions} blocks timed"
    )
    print(f"{'shape':<20} {'cpu us/tx':>10} {'wall us/tx':>11} {'frames/tx':>10} {'KB/tx':>7}")
    rows = []
    for name in shapes:
        row = measure_shape(name, args)
        rows.append(row)
        print(
            f"{name:<20} {row['cpu_us_per_tx']:>10.1f} {row['wall_us_per_tx']:>11.1f}"
            f" {row['frames_per_tx']:>10.1f} {row['kb_per_tx']:>7.1f}",
            flush=True,
        )
    floor = floors.measure(args.floor_count, max(20, args.floor_count // 10))
    floors.print_floor(floor)
    if args.json:
        args.json.write_text(
            json.dumps({"script": "commit_shapes", "rows": rows, "floor": floor}, indent=1) + "\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
