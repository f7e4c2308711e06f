"""Idempotent writes: a retry with the same Idempotency-Key and body gets the first answer and
writes nothing new; the same key with another body is a conflict.

A request claims its key before it does anything. Each ledger transaction it signs is noted
against the key *before* it is submitted (the signing backend reports the transaction id of
every envelope it signs), so a retry after a crash can ask the ledger whether the first attempt
committed and, if it did, rebuild the first answer from the committed result instead of writing
again. A key whose owner process is alive and still working is "in progress" (409).

Every transaction on the idempotency table writes, so each takes the write lock first
(``session(immediate=True)``). Bookkeeping never turns an answer into a 500: an error the action
raised (a 409, a 422, a 429) leaves as that error whatever happens to its record, and a write
that committed answers its result even if the record cannot be marked done; the record is then
handed to the recovery path (its owner marked failed, or at the latest once it is older than
``STALE_AFTER``), so a retry under the same key rebuilds the committed result from the ledger
instead of answering "in progress" for as long as the process lives.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

from fabric_protos.common import common_pb2
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from goldticket import domain as d
from goldticket import messages as m
from goldticket.ledger import LedgerError
from goldticket.store.models import IdempotencyRecord

from .context import Actor
from .observed import observe
from .portal import Portal

log = logging.getLogger("goldticket.idempotency")
HOST = socket.gethostname()
_OWNER = ""


def owner() -> str:
    """``host:pid:nonce`` of this process. Made again after a fork: gunicorn's master imports
    this module (through the worker class) before it forks its workers, and a key must name the
    worker that holds it, so that a retry after the worker was killed sees a dead owner."""
    global _OWNER
    if not _OWNER:
        _OWNER = f"{HOST}:{os.getpid()}:{secrets.token_hex(6)}"
    return _OWNER


def _forget_owner() -> None:
    global _OWNER
    _OWNER = ""


os.register_at_fork(after_in_child=_forget_owner)

# The keys this process is working on now. A record of this process that is pending but not in
# here was abandoned (its release or finish could not be written, e.g. on a full disk): a retry
# takes it over at once instead of answering "in progress" until it is stale.
# Each entry names the request that holds it: a request lets go of its own hold only, never of
# another thread's (a refused second request for the same key must not free the first's).
_IN_FLIGHT: dict[tuple[str, str], object] = {}
_IN_FLIGHT_LOCK = threading.Lock()


@contextlib.contextmanager
def _held(username: str, key: str, holder: object) -> Iterator[None]:
    try:
        yield
    finally:
        _let_go(username, key, holder)


def _hold(username: str, key: str, holder: object) -> None:
    """Hold the key for ``holder``; StateConflictError while another request of this process
    holds it. On PostgreSQL two requests can both insert a new key (the second fails on the
    unique index only when the first commits): the loser must not replace the winner's hold, or
    once it is refused and lets go the key looks abandoned and a third request runs it again."""
    with _IN_FLIGHT_LOCK:
        current = _IN_FLIGHT.get((username, key))
        if current is not None and current is not holder:
            raise d.StateConflictError("a request with this Idempotency-Key is still in progress")
        _IN_FLIGHT[(username, key)] = holder


def _let_go(username: str, key: str, holder: object) -> None:
    with _IN_FLIGHT_LOCK:
        if _IN_FLIGHT.get((username, key)) is holder:
            del _IN_FLIGHT[(username, key)]


# A request holds its key at most this long (ledger deadlines are seconds to a minute); a record
# still pending after it was abandoned, whoever its owner.
STALE_AFTER = dt.timedelta(minutes=10)
FAILED_OWNER = "failed:0:0"
# How long asking whether a noted transaction committed may wait (Fabric: its commit status; a
# transaction no orderer took does not commit later, and one still in flight commits within a
# few batches or resubmits). Under the clients' patience, so a request stays answerable.
RECOVERY_WAIT = 10.0


@dataclasses.dataclass(frozen=True)
class Outcome:
    status: int
    body: Any
    replayed: bool = False


def fingerprint(method: str, path: str, body: dict[str, Any]) -> str:
    """SHA-256 of the request without its secrets (``pin``, ``desk_pin``, ``operator_password``):
    they are never stored, even hashed (six digits are quickly guessed from a hash)."""
    from goldticket.signing.audit import secret_paths

    shown = {key: value for key, value in body.items() if not secret_paths({key: None})}
    text = json.dumps([method, path, shown], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _owner_alive(holder: str, created_at: dt.datetime, username: str = "", key: str = "") -> bool:
    created = created_at if created_at.tzinfo else created_at.replace(tzinfo=dt.UTC)
    if holder.startswith("failed:") or dt.datetime.now(dt.UTC) - created >= STALE_AFTER:
        return False
    if holder == owner():
        with _IN_FLIGHT_LOCK:
            return (username, key) in _IN_FLIGHT
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if host != HOST or not pid_text.isdigit() or int(pid_text) == os.getpid():
        return host != HOST
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def committed_result(portal: Portal, tx_id: str) -> Any | None:
    """The chaincode result of a committed, valid transaction; None if it never committed."""
    ledger = portal.platform.ledger
    try:
        status = ledger.commit_status(tx_id, wait=RECOVERY_WAIT)
    except LedgerError:
        return None
    if not status.ok:
        return None
    block = next(iter(ledger.blocks(status.block_number)))
    for envelope in block.envelopes:
        tx = m.decode_transaction(common_pb2.Envelope.FromString(envelope).payload)
        if tx.tx_id == tx_id:
            return json.loads(tx.response_payload)
    return None


def _record(portal: Portal, username: str, key: str, **changes: Any) -> None:
    with portal.database.session(immediate=True) as session:
        row = session.get(IdempotencyRecord, (username, key))
        if row is not None:
            for name, value in changes.items():
                setattr(row, name, value)


def _claim(portal: Portal, actor: Actor, key: str, print_: str, holder: object) -> IdempotencyRecord | None:
    """Claim the key; returns the stored record when it was claimed before. Raises
    StateConflictError for another body under the key, or while its owner still works on it."""
    try:
        return _claim_once(portal, actor, key, print_, holder)
    except IntegrityError:  # PostgreSQL: a request with the same new key inserted it first
        return _claim_once(portal, actor, key, print_, holder)


def _claim_once(
    portal: Portal, actor: Actor, key: str, print_: str, holder: object
) -> IdempotencyRecord | None:
    now = dt.datetime.now(dt.UTC)
    with portal.database.session(immediate=True) as session:
        row = session.execute(
            select(IdempotencyRecord)
            .where(IdempotencyRecord.username == actor.username, IdempotencyRecord.key == key)
            .with_for_update()
        ).scalar_one_or_none()
        if row is None:
            session.add(
                IdempotencyRecord(
                    username=actor.username,
                    key=key,
                    fingerprint=print_,
                    state="pending",
                    owner=owner(),
                    tx_ids="",
                    created_at=now,
                )
            )
            _hold(actor.username, key, holder)  # before the claim commits: no thread here takes it over
            return None
        if row.fingerprint != print_:
            raise d.StateConflictError("this Idempotency-Key was used with another request")
        if row.state == "pending":
            if _owner_alive(row.owner, row.created_at, actor.username, key):
                raise d.StateConflictError("a request with this Idempotency-Key is still in progress")
            _hold(actor.username, key, holder)
            # its owner died or gave up: this request takes it over (and its time starts now,
            # so that a second retry sees a live owner rather than a stale record)
            row.owner, row.created_at = owner(), now
        session.expunge(row)
        return row


@contextlib.contextmanager
def _observing(portal: Portal, username: str, key: str, seen: list[str]) -> Iterator[None]:
    def note(tx_id: str) -> None:
        seen.append(tx_id)
        _record(portal, username, key, tx_ids=" ".join(seen))

    with observe(note):
        yield


def prove_pin(portal: Portal, actor: Actor, pin: str) -> None:
    """The PIN opens the actor's card, which may sign; a wrong one counts towards locking it.
    Raises WrongPinError, CardLockedError, CardRevokedError or CardNotFoundError."""
    serial = portal.platform.cards.registry.active_card(actor.username).serial
    portal.platform.signing.prove_pin(serial=serial, pin=pin)


def run(
    portal: Portal,
    actor: Actor,
    key: str | None,
    print_: str,
    perform: Callable[[], tuple[int, Any]],
    recover: Callable[[Any], tuple[int, Any]],
    pin: str | None = None,
) -> Outcome:
    """Run ``perform`` once per (user, key). ``recover`` turns the chaincode result of a
    committed first attempt into the answer, after a crash. A request that authorises with a
    card's ``pin`` proves it again before it is answered from the record or the ledger (the
    replay is the first answer, but only to someone who holds the card's PIN now). Raises what
    ``perform`` raised (never an error of the bookkeeping in its place), a SigningError for a
    replay whose PIN is refused, InvalidInputError for a malformed key, StateConflictError for
    a key reused with another body or still in progress."""
    if key is None:
        return Outcome(*perform())
    if not 1 <= len(key) <= 128 or not key.isprintable():
        raise d.InvalidInputError("Idempotency-Key must be 1 to 128 printable characters")
    holder = object()
    try:
        earlier = _claim(portal, actor, key, print_, holder)
    except BaseException:
        _let_go(actor.username, key, holder)
        raise
    with _held(actor.username, key, holder):
        return _run_claimed(portal, actor, key, earlier, perform, recover, pin)


def _run_claimed(
    portal: Portal,
    actor: Actor,
    key: str,
    earlier: IdempotencyRecord | None,
    perform: Callable[[], tuple[int, Any]],
    recover: Callable[[Any], tuple[int, Any]],
    pin: str | None,
) -> Outcome:
    if earlier is not None and earlier.state == "done":
        if pin is not None:
            prove_pin(portal, actor, pin)
        return Outcome(earlier.status_code or 200, json.loads(earlier.response or "null"), replayed=True)
    seen = earlier.tx_ids.split() if earlier is not None else []
    for tx_id in seen:
        result = committed_result(portal, tx_id)
        if result is not None:
            if pin is not None:
                _prove_or_give_back(portal, actor, key, pin)
            status, body = recover(result)
            _finish(portal, actor, key, status, body)
            return Outcome(status, body, replayed=True)
    try:
        with _observing(portal, actor.username, key, seen):
            status, body = perform()
    except BaseException:
        _release(portal, actor, key, seen)
        raise
    _finish(portal, actor, key, status, body)
    return Outcome(status, body)


def _prove_or_give_back(portal: Portal, actor: Actor, key: str, pin: str) -> None:
    """Prove the PIN of a retry that took over a committed key; if it is refused, the key goes
    back to the recovery path for the next retry."""
    try:
        prove_pin(portal, actor, pin)
    except BaseException:
        try:
            _record(portal, actor.username, key, owner=FAILED_OWNER)
        except Exception:
            log.exception("the Idempotency-Key %r of %s stays pending until it is stale", key, actor.username)
        raise


def _release(portal: Portal, actor: Actor, key: str, seen: list[str]) -> None:
    """After ``perform`` failed: forget the key if nothing it signed committed (a retry may run
    again), else hand it to the recovery path. Best effort: the action's own error is what the
    client must see; a record left pending here is recovered once ``STALE_AFTER`` has passed."""
    try:
        if any(committed_result(portal, tx_id) is not None for tx_id in seen):
            _record(portal, actor.username, key, owner=FAILED_OWNER)  # the retry recovers it
            return
        with portal.database.session(immediate=True) as session:
            row = session.get(IdempotencyRecord, (actor.username, key))
            if row is not None and row.state == "pending":
                session.delete(row)
    except Exception:
        log.exception("the Idempotency-Key %r of %s could not be released", key, actor.username)


def _finish(portal: Portal, actor: Actor, key: str, status: int, body: Any) -> None:
    """Store the answer under the key. The write has committed, so a failure here must not
    become the client's answer: the key goes to the recovery path instead, where a retry
    rebuilds this answer from the ledger."""
    try:
        _record(
            portal,
            actor.username,
            key,
            state="done",
            status_code=status,
            response=json.dumps(body, ensure_ascii=False, sort_keys=True),
        )
    except Exception:
        log.exception("the answer under Idempotency-Key %r of %s was not stored", key, actor.username)
        try:
            _record(portal, actor.username, key, owner=FAILED_OWNER)
        except Exception:
            log.exception("the Idempotency-Key %r of %s stays pending until it is stale", key, actor.username)
