"""Idempotency records when their own bookkeeping fails: the write lock held by another
connection past the busy timeout (a real SQLite lock, and the portal's connections given a
short busy timeout so the test does not wait 30 s). The action's answer wins: a committed write
answers its result and a retry under its key rebuilds that result from the ledger; an action's
4xx stays that 4xx. And why every write takes the lock first: a deferred transaction that reads
and then writes fails at once when another connection wrote meanwhile."""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from apiclient import MATURITY, invoice
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError
from support import PIN

from goldticket import domain as d
from goldticket.services import idempotency, tickets
from goldticket.services.portal import Portal
from goldticket.store.database import Database, DeferredWriteWarning
from goldticket.store.models import IdempotencyRecord

pytestmark = pytest.mark.functional


class Blocker:
    """Another connection to the portal's SQLite file holding its write lock until released,
    released by the first log record of ``logger`` that says ``when`` (so the test needs no
    timing: the lock is let go exactly when the code under test reports the failure)."""

    def __init__(self, portal: Portal, logger: str, when: str) -> None:
        path = portal.database.url.removeprefix("sqlite:///")
        self.connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.logger, self.when, self.released = logging.getLogger(logger), when, False
        blocker = self

        class Release(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                if blocker.when in record.getMessage():
                    blocker.release()

        self.handler = Release()
        self.logger.addHandler(self.handler)
        engine = portal.database.engine
        engine.dispose()  # new connections, with the short busy timeout below

        @event.listens_for(engine, "connect")
        def short_busy_timeout(dbapi_connection: Any, record: Any) -> None:
            dbapi_connection.execute("PRAGMA busy_timeout=100")

        self.listener = short_busy_timeout
        self.engine = engine

    def hold(self) -> None:
        self.connection.execute("BEGIN IMMEDIATE")

    def release(self) -> None:
        if not self.released:
            self.released = True
            self.connection.execute("COMMIT")

    def close(self) -> None:
        self.release()
        self.logger.removeHandler(self.handler)
        event.remove(self.engine, "connect", self.listener)
        self.engine.dispose()
        self.connection.close()


@pytest.fixture
def blocker_for(portal: Portal) -> Iterator[Any]:
    made: list[Blocker] = []

    def make(when: str, logger: str = "goldticket.idempotency") -> Blocker:
        made.append(Blocker(portal, logger, when))
        return made[-1]

    yield make
    for blocker in made:
        blocker.close()


def _record(portal: Portal, username: str, key: str) -> IdempotencyRecord | None:
    with portal.database.session() as session:
        return session.get(IdempotencyRecord, (username, key))


def _issue(portal: Portal, number: str) -> dict[str, Any]:
    return tickets.issue_ticket(
        portal.platform,
        portal.platform.actor("core.clerk"),
        payee_org_id="tier1",
        amount_fen=1_000,
        maturity_date=MATURITY,
        invoices=[invoice(number, 1_000)],
        pin=PIN,
    )


def test_a_write_whose_record_cannot_be_stored_answers_and_a_retry_recovers_it(members, portal, blocker_for):
    actor = portal.platform.actor("core.clerk")
    blocker = blocker_for("was not stored")
    answers = []

    def perform() -> tuple[int, Any]:
        issued = _issue(portal, "INV-FINISH")
        blocker.hold()  # the answer cannot be stored now: the write lock is taken
        answers.append(issued)
        return 201, issued

    def recover(result: Any) -> tuple[int, Any]:
        return 201, result

    first = idempotency.run(portal, actor, "finish-1", "print", perform, recover)
    assert (first.status, first.body, first.replayed) == (201, answers[0], False)
    assert blocker.released
    row = _record(portal, "core.clerk", "finish-1")
    assert row is not None and row.state == "pending" and row.owner == idempotency.FAILED_OWNER
    height = portal.platform.ledger.height()

    again = idempotency.run(portal, actor, "finish-1", "print", perform, recover)
    assert (again.status, again.replayed) == (201, True)
    assert again.body["id"] == first.body["id"]
    assert portal.platform.ledger.height() == height and len(answers) == 1  # nothing written again
    assert _record(portal, "core.clerk", "finish-1").state == "done"


def test_an_error_of_the_action_stays_its_error_when_the_key_cannot_be_released(members, portal, blocker_for):
    actor = portal.platform.actor("core.clerk")
    blocker = blocker_for("could not be released")

    def perform() -> tuple[int, Any]:
        blocker.hold()
        raise d.StateConflictError("the ticket changed")

    with pytest.raises(d.StateConflictError, match="the ticket changed"):
        idempotency.run(portal, actor, "release-1", "print", perform, lambda result: (200, result))
    assert blocker.released
    # The key stays claimed, but this process is no longer working on it: a retry takes it
    # over at once (it used to answer "in progress" until the record was 10 minutes old).
    row = _record(portal, "core.clerk", "release-1")
    assert row is not None and row.state == "pending" and not row.tx_ids
    answered = idempotency.run(portal, actor, "release-1", "print", lambda: (201, {"ok": True}), None)
    assert (answered.status, answered.body) == (201, {"ok": True})


def test_a_write_answers_when_the_read_model_cannot_catch_up_at_once(app, members, portal, blocker_for):
    """The follower's projection after a write cannot take the lock: the write still answers
    201 (it is on the ledger) and the next round of the follower projects it."""
    from web.api._endpoint import Write

    blocker = blocker_for("did not catch up", logger="goldticket.web")

    def perform() -> dict[str, Any]:
        issued = _issue(portal, "INV-CATCH-UP")
        blocker.hold()
        return issued

    with app.test_request_context("/api/v1/tickets", method="POST", headers={"Idempotency-Key": "late-1"}):
        response = Write(portal.platform.actor("core.clerk"), 201, None).run(perform)
    assert response.status_code == 201 and blocker.released
    issued = response.get_json()
    assert _record(portal, "core.clerk", "late-1").state == "done"
    portal.follower.catch_up()
    assert members["core"].get(f"/tickets/{issued['id']}", expect=200)["status"] == "PENDING_ACCEPTANCE"


def test_a_record_pending_for_longer_than_any_request_lives_is_recovered(members, portal):
    """Its owner is this very process (alive) but no request of it works on the key any more,
    and the ledger has the write: the retry answers from the ledger at once, never "in progress"
    for the process's life (records of other live processes wait until STALE_AFTER)."""
    actor = portal.platform.actor("core.clerk")
    first = idempotency.run(
        portal, actor, "stale-1", "print", lambda: (201, _issue(portal, "INV-STALE")), lambda r: (201, r)
    )
    with portal.database.session(immediate=True) as session:
        row = session.get(IdempotencyRecord, ("core.clerk", "stale-1"))
        assert row.owner == idempotency.owner() and row.tx_ids
        row.state, row.response = "pending", None
    height = portal.platform.ledger.height()
    again = idempotency.run(portal, actor, "stale-1", "print", lambda: (201, None), lambda r: (201, r))
    assert again.replayed and again.body["id"] == first.body["id"]
    assert portal.platform.ledger.height() == height


def test_a_deferred_transaction_that_reads_then_writes_fails_at_once_under_another_writer(portal):
    """SQLite in WAL mode: the deferred transaction's read snapshot is older than the other
    connection's commit, so its write answers SQLITE_BUSY without waiting for the busy timeout.
    The database's guard names the mistake before it happens."""
    database = Database(portal.database.url)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeferredWriteWarning)
            with (
                pytest.raises(OperationalError, match="database is locked"),
                database.session() as reader,
            ):
                reader.scalars(select(IdempotencyRecord)).all()
                with database.session(immediate=True) as other:
                    other.add(_row("other"))
                reader.add(_row("mine"))
                reader.flush()
        with (
            pytest.warns(DeferredWriteWarning, match="session\\(immediate=True\\)"),
            database.session() as reader,
        ):
            reader.scalars(select(IdempotencyRecord)).all()
            reader.add(_row("warned"))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with database.session() as writer:  # writes only: it takes the lock at its first write
                writer.add(_row("plain"))
            with database.session(immediate=True) as writer:
                writer.scalars(select(IdempotencyRecord)).all()
                writer.add(_row("immediate"))
        with database.session() as reader:
            keys = set(reader.scalars(select(IdempotencyRecord.key)))
        assert keys == {"other", "warned", "plain", "immediate"}
    finally:
        database.close()


def _row(key: str) -> IdempotencyRecord:
    return IdempotencyRecord(
        username="someone",
        key=key,
        fingerprint="print",
        state="done",
        owner="test",
        tx_ids="",
        created_at=dt.datetime.now(dt.UTC),
    )


def test_a_refused_second_request_does_not_free_the_first_requests_key(members, portal):
    """While a request works on its key, a second one under the same key is refused "in
    progress"; that refusal must not let go of the first's hold, or a third request takes the
    key over and runs the action again (found under ten identical requests at once: the third
    issued again and was answered 422 "invoice already used")."""
    import threading

    actor = portal.platform.actor("core.clerk")
    working, finish = threading.Event(), threading.Event()
    runs: list[str] = []

    def perform() -> tuple[int, Any]:
        runs.append("ran")
        working.set()
        assert finish.wait(30)
        return 201, {"ok": True}

    first = threading.Thread(
        target=idempotency.run, args=(portal, actor, "held-1", "print", perform, lambda r: (201, r))
    )
    first.start()
    try:
        assert working.wait(30)
        for _ in range(2):  # the second and the third request
            with pytest.raises(d.StateConflictError, match="still in progress"):
                idempotency.run(portal, actor, "held-1", "print", perform, lambda r: (201, r))
    finally:
        finish.set()
        first.join(30)
    assert runs == ["ran"]


def test_a_second_claim_of_a_new_key_does_not_take_the_first_claims_hold(portal):
    """On PostgreSQL two requests of one process can both insert the same new key before either
    commits (the loser fails on the unique index later). The loser's hold must not replace the
    winner's: once the loser is refused and lets go, the winner's key would look abandoned and a
    third request would run the action again (CI: 422 "invoice already used" under ten
    identical requests at once on PostgreSQL)."""
    winner, loser = object(), object()
    idempotency._hold("core.clerk", "both-new", winner)
    try:
        with pytest.raises(d.StateConflictError, match="still in progress"):
            idempotency._hold("core.clerk", "both-new", loser)
        idempotency._let_go("core.clerk", "both-new", loser)
        assert idempotency._owner_alive(
            idempotency.owner(), dt.datetime.now(dt.UTC), "core.clerk", "both-new"
        )
    finally:
        idempotency._let_go("core.clerk", "both-new", winner)
    assert not idempotency._owner_alive(
        idempotency.owner(), dt.datetime.now(dt.UTC), "core.clerk", "both-new"
    )
