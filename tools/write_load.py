"""The concurrent-writer load of tests/functional/web/test_concurrent_writers.py, run as a
measurement: a fresh data directory, `goldticket serve` on a free port, 24 writers (12 threads
here, 3 processes x 4) through a ticket's life cycle with retries under the same key; then the
answers by status, the keys left pending and the ledger writes that no attempt of their key was
answered 2xx for. Figures for docs/benchmarks.md; the test asserts the same things.

    .venv/bin/python tools/write_load.py [--runs 3] [--rounds 2] [--postgres "$(bash tools/postgres.sh)"]

--postgres names a PostgreSQL server: each run gets a fresh database there (dropped after).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import secrets
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPOSITORY / "tests"), str(REPOSITORY / "tests" / "functional" / "web")]

import test_concurrent_writers as load  # noqa: E402
from liveserver import Server, build_consortium, server_env  # noqa: E402
from sqlalchemy import select  # noqa: E402

from goldticket.services.portal import Portal  # noqa: E402
from goldticket.settings import Settings  # noqa: E402
from goldticket.store.models import IdempotencyRecord  # noqa: E402


@contextlib.contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """SQLite ("") without a server, else a new PostgreSQL database on it."""
    if not server_url:
        yield ""
        return
    import psycopg

    name = f"goldticket_load_{secrets.token_hex(4)}"
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server_url.replace("postgresql://", "postgresql+psycopg://", 1).rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(server_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_once(database_url: str) -> str:
    with tempfile.TemporaryDirectory(prefix="goldticket-load-") as folder:
        tmp = Path(folder)
        env = server_env(tmp / "var", database_url)
        start = build_consortium(env)
        began = time.perf_counter()
        with Server(env, tmp / "serve.log") as server:
            calls, failures = load._load(server, tmp)
        seconds = time.perf_counter() - began
        portal = Portal.open(Settings.from_env(env))
        try:
            with portal.database.session() as session:
                records = session.scalars(select(IdempotencyRecord)).all()
            committed = load._valid_transactions(portal, start)
        finally:
            portal.close()
    key_of = {tx_id: (row.username, row.key) for row in records for tx_id in row.tx_ids.split()}
    answered = {(call.username, call.key) for call in calls if call.status and 200 <= call.status < 300}
    statuses = collections.Counter(str(call.status) for call in calls)
    server_errors = sum(count for status, count in statuses.items() if status.startswith("5"))
    pending = sum(row.state != "done" for row in records)
    unanswered = sum(key_of.get(tx_id) not in answered for tx_id in committed)
    shown = ", ".join(f"{status} x {count}" for status, count in sorted(statuses.items()))
    return (
        f"| {len(calls)} | {seconds:.1f} | {server_errors} | {pending} | {len(committed)} | {unanswered}"
        f" | {len(failures)} | {shown} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=load.ROUNDS, help="life cycles per writer")
    parser.add_argument("--postgres", default="", help="a PostgreSQL server's URL; default SQLite")
    args = parser.parse_args()
    load.ROUNDS = args.rounds
    print(
        "| attempts | s | 5xx | keys pending | ledger writes | writes without a 2xx | writers failed | statuses |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for _ in range(args.runs):
        with fresh_database(args.postgres) as database_url:
            print(run_once(database_url), flush=True)


if __name__ == "__main__":
    main()
