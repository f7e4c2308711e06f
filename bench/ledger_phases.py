"""Where one signed transfer-and-accept operation spends its CPU on the embedded ledger, phase by
phase, measured (not sampled) in one thread with software keys and FULL commits (issue #22).

    python bench/ledger_phases.py [--operations N] [--warmup N] [--floor-count N] [--json PATH]

The operation is bench/transfer_throughput.py's (OfferTransfer by the holder, AcceptOffer by the
payee, each proposal and envelope signed, endorsed, validated and committed). Each phase is a
function of the ledger timed with ``time.process_time_ns`` around every call (this process's
user + system CPU, so a COMMIT's fsync counts what the kernel spends for it, not the wait), and
every SQLite statement by its first words. Phases nest: "peer: endorse" contains "peer: endorse /
simulate (chaincode)". The timers add ~1-2 us per call, so the phases' sum is a little above the
operation's CPU measured without them, also printed. The floor (bench/floor.py: sign, verify,
a FULL commit) is measured in the same run and printed after.
"""

from __future__ import annotations

import argparse
import collections
import functools
import json
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import floor as floors  # noqa: E402  bench/floor.py
import transfer_throughput as transfer  # noqa: E402  bench/transfer_throughput.py

from goldticket.ledger import contract  # noqa: E402
from goldticket.ledger.local import committer, peer, store  # noqa: E402
from goldticket.signing import software  # noqa: E402

PHASES: list[tuple[Any, str, str]] = [
    (contract.Contract, "submit", "client: one transaction, all of it"),
    (contract.Contract, "_signed_proposal", "client: build and sign the proposal"),
    (peer.LocalLedger, "endorse", "peer: endorse"),
    (peer.LocalLedger, "_checked_proposal", "peer: endorse / check the proposal (signature, creator)"),
    (peer.LocalLedger, "_simulate", "peer: endorse / simulate (the chaincode)"),
    (peer.LocalLedger, "submit", "peer: submit"),
    (peer.LocalLedger, "_pending", "peer: submit / decode and validate the envelope"),
    (committer.GroupCommitter, "commit", "peer: submit / commit (group commit)"),
    (store.LedgerStore, "_append", "peer: submit / commit / append the block (SQL, COMMIT)"),
    (software.SoftwareSigner, "sign", "signer: ECDSA sign (proposal, envelope)"),
]


class Timers:
    def __init__(self) -> None:
        self.cpu: collections.Counter[str] = collections.Counter()
        self.calls: collections.Counter[str] = collections.Counter()
        self.on = False

    def wrap(self, owner: Any, name: str, label: str) -> None:
        original = getattr(owner, name)

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            if not self.on:
                return original(*args, **kwargs)
            started = time.process_time_ns()
            try:
                return original(*args, **kwargs)
            finally:
                self.cpu[label] += time.process_time_ns() - started
                self.calls[label] += 1

        setattr(owner, name, timed)


TIMERS = Timers()


class _TimedConnection(sqlite3.Connection):
    """Every statement's CPU, by its first words (``--`` comments and values left out)."""

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:  # type: ignore[override]
        return self._timed(super().execute, "sql: " + " ".join(sql.split()[:4]), sql, *args)

    def executemany(self, sql: str, *args: Any) -> sqlite3.Cursor:  # type: ignore[override]
        return self._timed(super().executemany, "sql: (many) " + " ".join(sql.split()[:4]), sql, *args)

    @staticmethod
    def _timed(call: Callable[..., sqlite3.Cursor], label: str, *args: Any) -> sqlite3.Cursor:
        if not TIMERS.on:
            return call(*args)
        started = time.process_time_ns()
        try:
            return call(*args)
        finally:
            TIMERS.cpu[label[:72]] += time.process_time_ns() - started
            TIMERS.calls[label[:72]] += 1


def _install() -> None:
    for owner, name, label in PHASES:
        TIMERS.wrap(owner, name, label)
    connect = sqlite3.connect

    def timed_connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        kwargs.setdefault("factory", _TimedConnection)
        return connect(*args, **kwargs)

    sqlite3.connect = timed_connect  # type: ignore[assignment]


def measure(operations: int, warmup: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as scratch:
        data_dir = Path(scratch)
        platform, chains = transfer.build(data_dir, 1, transfer.bench_settings(data_dir, "software"))
        holder, payee, ticket_id = chains[0]
        transfer.use_software_keys(platform, [holder, payee])
        ids = [ticket_id]

        def run(count: int) -> None:
            for _ in range(count):
                offer = transfer.transfers.offer_transfer(
                    platform,
                    holder,
                    ticket_id=ids[-1],
                    to_org_id=payee.member_id,
                    amount_fen=1,
                    pin=transfer.PIN,
                    documents=False,
                )
                moved = transfer.transfers.accept_offer(platform, payee, offer["offer_id"], pin=transfer.PIN)
                ids.append(moved["remainder"]["id"])

        run(warmup)
        plain = time.process_time_ns()
        run(operations)
        plain = time.process_time_ns() - plain
        TIMERS.on = True
        timed = time.process_time_ns()
        run(operations)
        timed = time.process_time_ns() - timed
        TIMERS.on = False
        platform.close()
    rows = [
        {
            "phase": label,
            "cpu_us_per_op": TIMERS.cpu[label] / operations / 1e3,
            "calls_per_op": TIMERS.calls[label] / operations,
        }
        for label in [label for _, _, label in PHASES]
        + sorted(
            (label for label in TIMERS.cpu if label.startswith("sql:")),
            key=lambda label: -TIMERS.cpu[label],
        )
    ]
    return {
        "operations": operations,
        "cpu_ms_per_op": plain / operations / 1e6,
        "cpu_ms_per_op_timed": timed / operations / 1e6,
        "rows": rows,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--operations", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--floor-count", type=int, default=1000, help="signs and verifies the floor times")
    parser.add_argument("--json", type=Path, help="also write the phases and the floor as JSON here")
    args = parser.parse_args(argv)
    _install()
    report = measure(args.operations, args.warmup)
    print(
        f"one operation (OfferTransfer + AcceptOffer), {args.operations} operations, one thread, software keys,"
        " FULL commits"
    )
    print(
        f"CPU per operation: {report['cpu_ms_per_op']:.3f} ms without the timers,"
        f" {report['cpu_ms_per_op_timed']:.3f} ms with them"
    )
    print(f"{'phase':<72} {'cpu us/op':>10} {'calls/op':>9}")
    for row in report["rows"]:
        print(f"{row['phase']:<72} {row['cpu_us_per_op']:>10.1f} {row['calls_per_op']:>9.1f}")
    floor = floors.measure(args.floor_count, max(20, args.floor_count // 10))
    floors.print_floor(floor)
    if args.json:
        args.json.write_text(
            json.dumps({"script": "ledger_phases", **report, "floor": floor}, indent=1) + "\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
