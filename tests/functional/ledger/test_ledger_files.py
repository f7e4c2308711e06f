"""Files that hold keys are owner-only whatever the umask, and commits are durable (FULL sync):
the embedded ledger (it holds the peer key) and the card registry (it holds seed backups)."""

from __future__ import annotations

import os
import sqlite3
import stat

import pytest
from ledger_support import bare_ledger, ping

from chaincode import GoldTicketContract
from goldticket.ledger.local.peer import LocalLedger
from goldticket.ledger.local.store import LedgerStore
from goldticket.signing.registry import CardRegistry

pytestmark = pytest.mark.functional

FULL = 2  # PRAGMA synchronous: 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA


@pytest.fixture
def open_umask():
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def sidecars(path):
    return [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm")]


def test_a_new_ledger_is_owner_only_under_umask_000(tmp_path, open_umask):
    data_dir = tmp_path / "data"
    ledger, signer = bare_ledger(data_dir)
    try:
        ping(ledger, signer, "k")
        ledger_file = data_dir / "ledger.sqlite"
        assert mode(data_dir) == 0o700
        assert mode(ledger_file) == 0o600
        for side in sidecars(ledger_file):
            assert side.exists() and mode(side) == 0o600, side.name
    finally:
        ledger.close()


def test_an_existing_world_readable_ledger_is_tightened_when_opened(tmp_path, open_umask):
    data_dir = tmp_path / "data"
    ledger, signer = bare_ledger(data_dir)
    ping(ledger, signer, "k")
    ledger.close()
    ledger_file = data_dir / "ledger.sqlite"
    os.chmod(data_dir, 0o755)
    for item in (ledger_file, *sidecars(ledger_file)):
        if item.exists():
            os.chmod(item, 0o644)
    reopened = LocalLedger(ledger_file, GoldTicketContract(), time_window=None)
    try:
        ping(reopened, signer, "again")
        assert mode(data_dir) == 0o700
        for item in (ledger_file, *sidecars(ledger_file)):
            assert mode(item) == 0o600, item.name
    finally:
        reopened.close()


def test_ledger_commits_are_full_sync(tmp_path):
    store = LedgerStore(tmp_path / "ledger.sqlite")
    try:
        assert store.connection().execute("PRAGMA synchronous").fetchone()[0] == FULL
        assert store.connection().execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        store.close()


def test_the_card_registry_is_owner_only_under_umask_000_and_full_sync(tmp_path, open_umask):
    cards = tmp_path / "cards"
    registry = CardRegistry(cards / "registry.sqlite")
    try:
        card = registry.open(username="u", member_id="m", user_role="clerk", backend="software")
        registry.reserve_try(card.serial)
        registry_file = cards / "registry.sqlite"
        assert mode(cards) == 0o700
        assert mode(registry_file) == 0o600
        for side in sidecars(registry_file):
            assert side.exists() and mode(side) == 0o600, side.name
        assert registry._conn().execute("PRAGMA synchronous").fetchone()[0] == FULL
        registry.right_pin(card.serial)  # lowering a count skips its own fsync, then FULL again
        assert registry._conn().execute("PRAGMA synchronous").fetchone()[0] == FULL
        assert registry.get(card.serial).wrong_pins == 0
    finally:
        registry.close()


def test_a_counted_pin_try_is_on_disk_before_it_returns(tmp_path):
    """Another connection (as after a crash) sees the try at once: it was committed, not held."""
    registry = CardRegistry(tmp_path / "cards" / "registry.sqlite")
    try:
        card = registry.open(username="u", member_id="m", user_role="clerk", backend="software")
        registry.reserve_try(card.serial)
        other = sqlite3.connect(tmp_path / "cards" / "registry.sqlite")
        try:
            (tries,) = other.execute(
                "SELECT wrong_pins FROM cards WHERE serial = ?", (card.serial,)
            ).fetchone()
        finally:
            other.close()
        assert tries == 1
    finally:
        registry.close()
