"""Idempotent writes: a retry with the same Idempotency-Key and body gets the first answer and
writes nothing new; the same key with another body is a conflict.

A request claims its key before it does anything. Each ledger transaction it signs is noted
against the key *before* it is submitted (the signing backend reports the transaction id of
every envelope it signs), so a retry after a crash can ask the ledger whether the first attempt
committed and, if it did, rebuild the first answer from the committed result instead of writing
again. A key whose owner process is alive and still working is "in progress" (409).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import os
import secrets
import socket
from collections.abc import Callable, Iterator
from typing import Any

from fabric_protos.common import common_pb2
from sqlalchemy import select

from goldticket import domain as d
from goldticket import messages as m
from goldticket.ledger import LedgerError
from goldticket.store.models import IdempotencyRecord

from .context import Actor
from .observed import observe
from .portal import Portal

HOST = socket.gethostname()
OWNER = f"{HOST}:{os.getpid()}:{secrets.token_hex(6)}"
STALE_AFTER = dt.timedelta(minutes=10)


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


def _owner_alive(owner: str, created_at: dt.datetime) -> bool:
    if owner == OWNER:
        return True
    if owner.startswith("failed:"):
        return False
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != HOST or not pid_text.isdigit() or int(pid_text) == os.getpid():
        created = created_at if created_at.tzinfo else created_at.replace(tzinfo=dt.UTC)
        return host != HOST and dt.datetime.now(dt.UTC) - created < STALE_AFTER
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
        status = ledger.commit_status(tx_id)
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
    with portal.database.session() as session:
        row = session.get(IdempotencyRecord, (username, key))
        if row is not None:
            for name, value in changes.items():
                setattr(row, name, value)


def _claim(portal: Portal, actor: Actor, key: str, print_: str) -> IdempotencyRecord | None:
    """Claim the key; returns the stored record when it was claimed before."""
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
                    owner=OWNER,
                    tx_ids="",
                    created_at=dt.datetime.now(dt.UTC),
                )
            )
            return None
        if row.fingerprint != print_:
            raise d.StateConflictError("this Idempotency-Key was used with another request")
        if row.state == "pending":
            if _owner_alive(row.owner, row.created_at):
                raise d.StateConflictError("a request with this Idempotency-Key is still in progress")
            row.owner = OWNER  # its process died: this request takes it over
        session.expunge(row)
        return row


@contextlib.contextmanager
def _observing(portal: Portal, username: str, key: str, seen: list[str]) -> Iterator[None]:
    def note(tx_id: str) -> None:
        seen.append(tx_id)
        _record(portal, username, key, tx_ids=" ".join(seen))

    with observe(note):
        yield


def run(
    portal: Portal,
    actor: Actor,
    key: str | None,
    print_: str,
    perform: Callable[[], tuple[int, Any]],
    recover: Callable[[Any], tuple[int, Any]],
) -> Outcome:
    """Run ``perform`` once per (user, key). ``recover`` turns the chaincode result of a
    committed first attempt into the answer, after a crash."""
    if key is None:
        return Outcome(*perform())
    if not 1 <= len(key) <= 128 or not key.isprintable():
        raise d.InvalidInputError("Idempotency-Key must be 1 to 128 printable characters")
    earlier = _claim(portal, actor, key, print_)
    if earlier is not None and earlier.state == "done":
        return Outcome(earlier.status_code or 200, json.loads(earlier.response or "null"), replayed=True)
    seen = earlier.tx_ids.split() if earlier is not None else []
    for tx_id in seen:
        result = committed_result(portal, tx_id)
        if result is not None:
            status, body = recover(result)
            _finish(portal, actor, key, status, body)
            return Outcome(status, body, replayed=True)
    try:
        with _observing(portal, actor.username, key, seen):
            status, body = perform()
    except BaseException:
        if any(committed_result(portal, tx_id) is not None for tx_id in seen):
            _record(portal, actor.username, key, owner="failed:0:0")  # the retry recovers it
        else:
            with portal.database.session() as session:
                row = session.get(IdempotencyRecord, (actor.username, key))
                if row is not None and row.state == "pending":
                    session.delete(row)
        raise
    _finish(portal, actor, key, status, body)
    return Outcome(status, body)


def _finish(portal: Portal, actor: Actor, key: str, status: int, body: Any) -> None:
    _record(
        portal,
        actor.username,
        key,
        state="done",
        status_code=status,
        response=json.dumps(body, ensure_ascii=False, sort_keys=True),
    )
