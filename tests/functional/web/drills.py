"""What every reliability drill checks after its mixed load (tests/functional/web/mixed_load.py):
every write answered 2xx is on the ledger exactly once, nothing is on it that no attempt was
answered 2xx for, no Idempotency-Key is left pending, `goldticket ledger verify` passes and
`goldticket reindex` rebuilds the live read model row for row. Also the processes of a running
`goldticket serve`, and how long it takes to answer again after one is killed."""

from __future__ import annotations

import collections
import subprocess
import sys
import time
from typing import Any

import mixed_load
from fabric_protos.common import common_pb2
from liveserver import Server, request, request_json
from sqlalchemy import select
from test_supervision import _alive, _child, _descendants

from goldticket import messages as m
from goldticket.services.portal import Portal
from goldticket.settings import Settings
from goldticket.store.models import PROJECTION_TABLES, IdempotencyRecord

__all__ = ["_alive", "_child", "_descendants", "check_exactly_once", "gunicorn_workers", "wait_answering"]


def gunicorn_workers(server: Server) -> list[int]:
    master = _child(server, "gunicorn")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        workers = [pid for pid in _descendants(master) if _alive(pid)]
        if workers:
            return workers
        time.sleep(0.1)
    raise AssertionError("gunicorn has no worker")


def wait_answering(server: Server, since: float, limit: float = 30.0) -> float:
    """Seconds from ``since`` until /healthz answers 200 with status ok (the gateway reachable)."""
    while time.monotonic() - since < limit:
        try:
            status, body = request_json(server.url + "/healthz", timeout=2)
            if status == 200 and body.get("status") == "ok":
                return time.monotonic() - since
        except (OSError, ValueError):
            pass
        time.sleep(0.05)
    raise AssertionError(f"not answering {limit:.0f} s after the kill: {server.log.read_text()[-2000:]}")


def answers_a_write(server: Server, token: str, number: int) -> tuple[int, bytes]:
    body = {"core_org_id": "core", "limit_fen": number, "pin": mixed_load.PIN}
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": f"after-drill-{number}"}
    status, _, raw = request(server.url + "/api/v1/credit-lines", "POST", body, headers)
    return status, raw


def valid_transactions(portal: Portal, start: int) -> list[tuple[str, str]]:
    """(tx id, function) of the valid transactions in blocks ``start`` onwards."""
    found = []
    for block in portal.platform.ledger.blocks(start):
        for number, envelope in enumerate(block.envelopes):
            if number < len(block.validation_codes) and block.validation_codes[number] != 0:
                continue
            tx = m.decode_transaction(common_pb2.Envelope.FromString(envelope).payload)
            found.append((tx.tx_id, tx.function))
    return found


def read_model(portal: Portal) -> dict[str, list[tuple[Any, ...]]]:
    rows = {}
    with portal.database.session() as session:
        for table in PROJECTION_TABLES:
            columns = list(table.__table__.columns)
            found = session.execute(select(*columns)).all()
            rows[table.__tablename__] = sorted((tuple(row) for row in found), key=repr)
    return rows


def check_exactly_once(env: dict[str, str], start: int, result: mixed_load.Result) -> dict[str, int]:
    """The checks of every drill, on a stopped server's data directory; returns counts. On
    Fabric (GOLDTICKET_LEDGER=fabric) the blocks come from the peers and `ledger verify`, which
    replays the embedded ledger's file, is left out."""
    portal = Portal.open(Settings.from_env(env))
    try:
        portal.follower.catch_up()
        with portal.database.session() as session:
            records = session.scalars(select(IdempotencyRecord)).all()
        transactions = valid_transactions(portal, start)
        live = read_model(portal)
    finally:
        portal.close()
    pending = [(row.username, row.key) for row in records if row.state != "done"]
    assert not pending, f"{len(pending)} keys pending: {pending[:5]}"
    committed = [tx_id for tx_id, _ in transactions]
    function = dict(transactions)
    times = collections.Counter(committed)
    doubled = [tx_id for tx_id, count in times.items() if count > 1]
    assert not doubled, doubled[:5]
    record = {(row.username, row.key): row for row in records}
    key_of = {tx_id: (row.username, row.key) for row in records for tx_id in row.tx_ids.split()}
    acknowledged = {(ack.username, ack.key) for ack in result.acknowledged}
    for pair in acknowledged:  # each 2xx: its key done, exactly one of its transactions valid
        row = record.get(pair)
        assert row is not None and row.state == "done", (pair, row and row.state)
        valid = [tx_id for tx_id in row.tx_ids.split() if tx_id in times]
        assert len(valid) == 1, (pair, row.tx_ids, valid)
    # after start, only the load and answers_a_write wrote, all under keys, and the certificate
    # reads, each of which records the certificate it issued (RecordCertificate, no key)
    unanswered = [tx_id for tx_id in committed if key_of.get(tx_id) not in acknowledged]
    stray = [
        (function[tx_id], key_of.get(tx_id))
        for tx_id in unanswered
        if function[tx_id] != "RecordCertificate"
        and not str(key_of.get(tx_id, ("", ""))[1]).startswith("after-drill-")
    ]
    assert not stray, f"written without a 2xx: {stray[:5]}"

    if env.get("GOLDTICKET_LEDGER", "local") == "local":
        verified = subprocess.run(
            [sys.executable, "-m", "goldticket.cli", "ledger", "verify"],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert verified.returncode == 0, verified.stdout[-2000:] + verified.stderr[-2000:]
    rebuilt = subprocess.run(
        [sys.executable, "-m", "goldticket.cli", "reindex", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert rebuilt.returncode == 0, rebuilt.stderr[-2000:]
    portal = Portal.open(Settings.from_env(env))
    try:
        again = read_model(portal)
    finally:
        portal.close()
    for table, rows in live.items():
        assert again[table] == rows, f"reindex differs in {table}: {set(again[table]) ^ set(rows)}"
    return {
        "acknowledged": len(acknowledged),
        "transactions": len(committed),
        "read_model_rows": sum(len(rows) for rows in live.values()),
    }
