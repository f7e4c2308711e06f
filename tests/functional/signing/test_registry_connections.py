"""The card registry's SQLite connections outlive the threads that used them (issue #22): the
signing gateway serves each request on a thread of its own, and each opened a connection."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from goldticket.signing import registry as registry_module
from goldticket.signing.registry import CardRegistry

pytestmark = pytest.mark.functional


def test_a_thread_that_ended_hands_its_connection_to_the_next(tmp_path: Path, monkeypatch) -> None:
    opened: list[sqlite3.Connection] = []
    real = sqlite3.connect

    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        connection = real(*args, **kwargs)
        opened.append(connection)
        return connection

    monkeypatch.setattr(registry_module.sqlite3, "connect", counted)
    registry = CardRegistry(tmp_path / "cards.sqlite")
    record = registry.open(username="u", member_id="m", user_role="clerk", backend="software")
    errors: list[BaseException] = []

    def request() -> None:
        try:
            registry.reserve_try(record.serial)
            registry.right_pin(record.serial)
            assert registry.get(record.serial).wrong_pins == 0
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    for _ in range(20):
        thread = threading.Thread(target=request)
        thread.start()
        thread.join(timeout=30)
    assert errors == []
    assert len(opened) <= 2  # the main thread's, and one the request threads pass on
    # concurrent threads still each have their own
    barrier = threading.Barrier(4)

    def together() -> None:
        barrier.wait(timeout=30)
        request()
        barrier.wait(timeout=30)

    threads = [threading.Thread(target=together) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert registry.get(record.serial).wrong_pins == 0
    registry.close()
