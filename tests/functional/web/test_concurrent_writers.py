"""Concurrent writers against a real `goldticket serve` (gunicorn workers and threads, the
signing gateway beside them): 24 writers at once, as threads of this process and as three
other processes, each running a ticket's life cycle with every write under an Idempotency-Key
and retried under the same key (tests/functional/web/load_writers.py). The server must answer
no 5xx at all, leave no key pending, and every transaction on the ledger must belong to a key
that some attempt got a 2xx for (no write committed behind a failure the client was told of).
On SQLite always; on PostgreSQL too when GOLDTICKET_TEST_POSTGRES_URL is set."""

from __future__ import annotations

import collections
import json
import os
import secrets
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import load_writers
import pytest
from apiclient import MATURITY
from fabric_protos.common import common_pb2
from liveserver import CONSORTIUM, Server, build_consortium, server_env
from sqlalchemy import select
from support import TODAY

from goldticket import messages as m
from goldticket.services.portal import Portal
from goldticket.settings import Settings
from goldticket.store.models import IdempotencyRecord

pytestmark = [pytest.mark.functional, pytest.mark.slow]

THREADS = 12  # writers in this process
PROCESSES, PER_PROCESS = 3, 4  # writers in other processes
ROUNDS = 2  # life cycles per writer: 10 requests under 9 keys each (#21: the registration)
POSTGRES_URL = os.environ.get("GOLDTICKET_TEST_POSTGRES_URL", "")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> Iterator[str]:
    if request.param == "sqlite":
        yield ""
        return
    if not POSTGRES_URL:
        pytest.skip("no PostgreSQL: set GOLDTICKET_TEST_POSTGRES_URL (bash tools/postgres.sh prints one)")
    import psycopg

    name = f"goldticket_load_{secrets.token_hex(4)}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1).rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _load(server: Server, tmp_path: Path) -> tuple[list[load_writers.Call], list[str]]:
    """Every writer's attempts and failures, threads and processes started together."""
    spec = {
        "url": server.url,
        "tokens": {username: server.token(username) for _, _, username in CONSORTIUM},
        "maturity": MATURITY.isoformat(),
        "today": TODAY.isoformat(),
        "rounds": ROUNDS,
    }
    processes = []
    try:
        for number in range(PROCESSES):
            names = [f"p{number}w{index}" for index in range(PER_PROCESS)]
            path = tmp_path / f"writers-{number}.json"
            path.write_text(json.dumps({**spec, "names": names}))
            processes.append(
                subprocess.Popen(
                    [sys.executable, load_writers.__file__, str(path)], stdout=subprocess.PIPE, text=True
                )
            )
        writers = load_writers.run_writers({**spec, "names": [f"t{index}" for index in range(THREADS)]})
        calls = [call for writer in writers for call in writer.calls]
        failures = [failure for writer in writers for failure in writer.failures]
        for process in processes:
            output, _ = process.communicate(timeout=600)
            assert process.returncode == 0
            report = json.loads(output)
            calls += [load_writers.Call(**call) for call in report["calls"]]
            failures += report["failures"]
        return calls, failures
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()


def _valid_transactions(portal: Portal, start: int) -> list[str]:
    """The ids of the valid transactions in blocks ``start`` onwards."""
    tx_ids = []
    for block in portal.platform.ledger.blocks(start):
        for number, envelope in enumerate(block.envelopes):
            if number < len(block.validation_codes) and block.validation_codes[number] != 0:
                continue
            payload = common_pb2.Envelope.FromString(envelope).payload
            tx_ids.append(m.decode_transaction(payload).tx_id)
    return tx_ids


def test_concurrent_writers_get_no_5xx_leave_no_key_pending_and_commit_only_what_was_answered(
    tmp_path: Path, database_url: str
) -> None:
    env = server_env(tmp_path / "var", database_url)
    start = build_consortium(env)
    log = tmp_path / "serve.log"
    with Server(env, log) as server:
        calls, failures = _load(server, tmp_path)

    statuses = collections.Counter(call.status for call in calls)
    broken = [call for call in calls if call.status is None or call.status >= 500]
    assert not broken, (
        f"{len(broken)} of {len(calls)} attempts failed: {statuses}; first {broken[:3]};"
        f" server log: {log.read_text()[-3000:]}"
    )
    assert not failures, failures[:5]
    assert (
        len({(call.writer, call.key) for call in calls}) == (THREADS + PROCESSES * PER_PROCESS) * ROUNDS * 9
    )

    committed = _assert_settled(env, start, calls)
    answered = {(call.username, call.key) for call in calls if call.status is not None and call.status < 300}
    assert len(committed) == len(answered)  # one transaction per key answered 2xx


def test_twenty_parallel_issues_by_one_user_at_its_card_rate_limit_answer_201_409_or_429(
    tmp_path: Path, database_url: str
) -> None:
    """The card signs one signature a second (burst 3), so most of twenty issues at once are
    refused with 429: each stays a 429 (or a 409 that says to try again), none a 500, and
    whatever was written was answered 201."""
    env = server_env(tmp_path / "var", database_url)
    start = build_consortium(env)
    log = tmp_path / "serve.log"
    with Server({**env, "GOLDTICKET_SIGNER_RATE": "1"}, log) as server:
        token = server.token("core.clerk")
        writers = [
            load_writers.Writer(
                server.url, {"core.clerk": token}, f"i{n}", MATURITY.isoformat(), TODAY.isoformat()
            )
            for n in range(20)
        ]

        def issue(writer: load_writers.Writer) -> None:
            number = f"INV-{writer.name}"
            body = {
                "payee_org_id": "tier1",
                "amount_fen": 1_000,
                "maturity_date": MATURITY.isoformat(),
                "invoices": [load_writers.invoice(number, 1_000)],
                "pin": load_writers.PIN,
            }
            writer.send("core.clerk", "/tickets", body, f"{writer.name}-issue")

        threads = [threading.Thread(target=issue, args=(writer,)) for writer in writers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    calls = [call for writer in writers for call in writer.calls]
    statuses = collections.Counter(call.status for call in calls)
    assert set(statuses) <= {201, 409, 429}, (statuses, log.read_text()[-3000:])
    assert statuses[429] >= 1
    _assert_settled(env, start, calls)


def test_requests_sent_ten_times_at_once_write_once(tmp_path: Path, database_url: str) -> None:
    """Four requests, each sent under its own key by ten clients at once (a client retrying
    before its first attempt answered): one write each; every answer is that write's 201,
    "still in progress" or a conflict with one of the other three that wrote nothing ("try
    again"), never a 500 from two claims of one new key."""
    env = server_env(tmp_path / "var", database_url)
    start = build_consortium(env)
    log = tmp_path / "serve.log"
    with Server(env, log) as server:
        token = server.token("core.clerk")
        bodies = {
            f"once-{n}": {
                "payee_org_id": "tier1",
                "amount_fen": 1_000,
                "maturity_date": MATURITY.isoformat(),
                "invoices": [load_writers.invoice(f"INV-ONCE-{n}", 1_000)],
                "pin": load_writers.PIN,
            }
            for n in range(4)
        }
        writers = [
            load_writers.Writer(
                server.url, {"core.clerk": token}, f"r{n}", MATURITY.isoformat(), TODAY.isoformat()
            )
            for n in range(10 * len(bodies))
        ]
        keys = [list(bodies)[n % len(bodies)] for n in range(len(writers))]
        answers: dict[str, list[tuple[int | None, Any]]] = collections.defaultdict(list)

        def send(writer: load_writers.Writer, key: str) -> None:
            answers[key].append(writer.send("core.clerk", "/tickets", bodies[key], key))

        threads = [threading.Thread(target=send, args=pair) for pair in zip(writers, keys, strict=True)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        final = {
            key: writers[0].write("core.clerk", "/tickets", body, expect=(201,), key=key)
            for key, body in bodies.items()
        }
    calls = [call for writer in writers for call in writer.calls]
    statuses = collections.Counter(call.status for call in calls)
    assert set(statuses) <= {201, 409}, (statuses, log.read_text()[-3000:])
    for key, sent in answers.items():
        assert all(answer == final[key] for status, answer in sent if status == 201), (sent, final[key])
        refused = [answer["message"] for status, answer in sent if status == 409]
        assert all("in progress" in message or "try again" in message for message in refused), refused
    assert len(_assert_settled(env, start, calls)) == len(bodies)


def _assert_settled(env: dict[str, str], start: int, calls: list[load_writers.Call]) -> list[str]:
    """No key left pending, and every valid transaction since ``start`` belongs to a key some
    attempt was answered 2xx for; returns those transactions."""
    portal = Portal.open(Settings.from_env(env))
    try:
        with portal.database.session() as session:
            records = session.scalars(select(IdempotencyRecord)).all()
        committed = _valid_transactions(portal, start)
    finally:
        portal.close()
    pending = [(row.username, row.key) for row in records if row.state != "done"]
    assert not pending, pending
    key_of = {tx_id: (row.username, row.key) for row in records for tx_id in row.tx_ids.split()}
    answered = {
        (call.username, call.key) for call in calls if call.status is not None and 200 <= call.status < 300
    }
    unanswered = [tx_id for tx_id in committed if key_of.get(tx_id) not in answered]
    assert not unanswered, [(tx_id, key_of.get(tx_id)) for tx_id in unanswered[:5]]
    return committed
