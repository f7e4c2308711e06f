"""``goldticket backup`` and ``goldticket restore``: a backup taken while the platform is open,
restored elsewhere with the original gone, verifies and keeps working."""

from __future__ import annotations

import hashlib
import shutil
import time
from pathlib import Path
from typing import IO

import pytest
from test_cli import Env, accepted, as_user, consortium, env, fail, run, run_json  # noqa: F401

from goldticket.services import Platform
from goldticket.services import backup as backups
from goldticket.settings import Settings
from goldticket.store.ops_history import History

pytestmark = pytest.mark.functional
OPERATOR_PASSWORD = "desk password 1"  # test_cli's


def _digest(stream: IO[bytes]) -> str:
    return hashlib.sha256(stream.read()).hexdigest()


def test_a_backup_restored_elsewhere_verifies_and_transfers(accepted: str, env: Env, tmp_path: Path) -> None:  # noqa: F811
    source = Path(str(env["GOLDTICKET_DATA_DIR"]))
    # the operations console's samples of the last hour: monitoring, not records (not backed up)
    History(source / "operations.sqlite").add({"taken": time.time(), "nodes": []})
    running = Platform.open(
        Settings.from_env({k: v for k, v in env.items() if v is not None})  # type: ignore[misc]
    )
    try:  # the service holds its files open meanwhile
        run(env, "backup", str(tmp_path / "backup"))
    finally:
        running.close()
    sealed = tmp_path / "backup"
    assert sealed.is_file() and sealed.stat().st_mode & 0o777 == 0o600
    data = sealed.read_bytes()
    for clear in (b"SQLite format 3", b"BEGIN", b"OperatorMSP", b"registry", b"s1.clerk"):
        assert clear not in data  # nothing of the directory readable in the backup
    assert not any(p.name.startswith(".backup-") for p in source.iterdir())  # staging removed
    manifest = backups._read(sealed, OPERATOR_PASSWORD, lambda name, mode, stream: _digest(stream))
    expected = {"ledger.sqlite", "portal.sqlite", "cards/registry.sqlite", "cards/audit.jsonl"}
    assert expected <= set(manifest["files"])
    assert any(name.startswith("cards/softhsm/tokens/") for name in manifest["files"])
    assert not any(name.endswith(("-wal", "-shm")) for name in manifest["files"])
    assert "operations.sqlite" not in manifest["files"]
    assert set(manifest["cas"]) == {"OperatorMSP", "CoreMSP", "BankMSP"}
    shutil.move(source, tmp_path / "gone")  # the original is away: nothing may point at it

    elsewhere = {**env, "GOLDTICKET_DATA_DIR": str(tmp_path / "elsewhere" / "data")}
    run(elsewhere, "restore", str(tmp_path / "backup"))
    assert run_json(elsewhere, "ledger", "verify")["ok"] is True
    offer = run_json(
        elsewhere,
        "ticket",
        "transfer",
        accepted,
        *as_user("s1.clerk"),
        "--to",
        "s2",
        "--amount-fen",
        "1000000",
    )
    moved = run_json(elsewhere, "offer", "accept", *as_user("s2.clerk"), offer["offer_id"])
    assert moved["transferred"]["amount_fen"] == 1000000
    assert run_json(elsewhere, "ledger", "verify")["ok"] is True


def test_backup_and_restore_refuse_what_would_overwrite_or_mislead(consortium: Env, tmp_path: Path) -> None:  # noqa: F811
    run(consortium, "backup", str(tmp_path / "backup"))
    fail(consortium, "backup", str(tmp_path / "backup"), code=2, error="invalid_input")  # exists
    fail(consortium, "restore", str(tmp_path / "backup"), code=2, error="invalid_input")  # data dir in use
    wrong = {**consortium, "GOLDTICKET_OPERATOR_PASSWORD": "not the operator password"}
    fail(wrong, "backup", str(tmp_path / "other"), code=2, error="invalid_input")  # opens nothing
    assert not (tmp_path / "other").exists()
    elsewhere = {**wrong, "GOLDTICKET_DATA_DIR": str(tmp_path / "elsewhere" / "data")}
    fail(elsewhere, "restore", str(tmp_path / "backup"), code=2, error="invalid_input")
    assert not (tmp_path / "elsewhere" / "data").exists()
    assert not any((tmp_path / "elsewhere").iterdir())  # no staging left behind
    legacy = tmp_path / "legacy"
    legacy.mkdir()
    (legacy / "backup.json").write_text("{}")  # a backup of an earlier version: a plain directory
    result = fail(elsewhere, "restore", str(legacy), code=2, error="invalid_input")
    assert "earlier version" in result.stderr
