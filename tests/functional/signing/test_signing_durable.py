"""A card's answer is never given before its audit line is on disk (issue #22): with the audit
log's fsyncs grouped, each request through the signing service, answered or refused, returns
only once an fsync that covers its line has ended; concurrent requests lose no line and
interleave none."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from support import PIN
from test_audit_group_fsync import SlowFsync

from goldticket.signing import audit as audit_module
from goldticket.signing.audit import VerifyResult, verify
from goldticket.signing.errors import WrongPinError

pytestmark = pytest.mark.functional

THREADS, REQUESTS = 4, 12
WRONG_PIN = "975310"


def actors(consortium):  # type: ignore[no-untyped-def]
    return [consortium.core, consortium.tier1, consortium.tier2, consortium.bank][:THREADS]


def line_end(path: Path, caller: str) -> int | None:
    """The offset just past the one line whose entry's caller is ``caller`` (None if absent);
    fails if there are several."""
    offset, found = 0, []
    for raw in path.read_bytes().splitlines(keepends=True):
        offset += len(raw)
        if json.loads(raw)["entry"].get("caller") == caller:
            found.append(offset)
    assert len(found) <= 1, f"{caller} has {len(found)} lines"
    return found[0] if found else None


def test_no_card_answer_returns_before_its_audit_line_is_durable(consortium, monkeypatch):
    cards = consortium.platform.cards
    service, registry = cards.service, cards.registry
    serials = [registry.active_card(user.username).serial for user in actors(consortium)]
    path = service.audit.path
    fsync = SlowFsync(path, delay=0.002)
    monkeypatch.setattr(audit_module.os, "fsync", fsync)
    late: list[tuple[str, int | None, int]] = []
    lock = threading.Lock()

    def worker(index: int, serial: str) -> None:
        for number in range(REQUESTS):
            caller = f"t{index}-{number}"
            wrong = number == 3  # one refusal per card, far below the lock
            try:
                service.prove_pin(serial=serial, pin=WRONG_PIN if wrong else PIN, caller=caller)
            except WrongPinError:
                assert wrong
            durable = fsync.durable  # read once the answer is given
            end = line_end(path, caller)
            if end is None or durable < end:
                with lock:
                    late.append((caller, end, durable))

    threads = [threading.Thread(target=worker, args=(index, serial)) for index, serial in enumerate(serials)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert late == []
    assert verify(path).ok
    entries = [json.loads(raw)["entry"] for raw in path.read_bytes().splitlines()]
    for index in range(len(serials)):
        mine = [entry for entry in entries if str(entry.get("caller", "")).startswith(f"t{index}-")]
        assert [entry["caller"] for entry in mine] == [f"t{index}-{n}" for n in range(REQUESTS)]
        expected = ["proved"] * 3 + ["refused"] + ["proved"] * (REQUESTS - 4)
        assert [entry["result"] for entry in mine] == expected
    assert fsync.calls < len(serials) * REQUESTS  # grouped: fewer fsyncs than lines


def test_the_audit_log_stays_one_chain_under_concurrent_signers(consortium):
    cards = consortium.platform.cards
    service, registry = cards.service, cards.registry
    serials = [registry.active_card(user.username).serial for user in actors(consortium)]
    before = verify(service.audit.path).entries

    def worker(index: int, serial: str) -> None:
        for number in range(REQUESTS):
            service.prove_pin(serial=serial, pin=PIN, caller=f"c{index}-{number}")

    threads = [threading.Thread(target=worker, args=(index, serial)) for index, serial in enumerate(serials)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert verify(service.audit.path) == VerifyResult(ok=True, entries=before + len(serials) * REQUESTS)
