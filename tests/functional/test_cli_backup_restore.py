"""``goldticket backup`` and ``goldticket restore``: a backup taken while the platform is open,
restored elsewhere with the original gone, verifies and keeps working."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from test_cli import Env, accepted, as_user, consortium, env, fail, run, run_json  # noqa: F401

from goldticket.services import Platform
from goldticket.settings import Settings

pytestmark = pytest.mark.functional


def test_a_backup_restored_elsewhere_verifies_and_transfers(accepted: str, env: Env, tmp_path: Path) -> None:  # noqa: F811
    source = Path(str(env["GOLDTICKET_DATA_DIR"]))
    running = Platform.open(
        Settings.from_env({k: v for k, v in env.items() if v is not None})  # type: ignore[misc]
    )
    try:  # the service holds its files open meanwhile
        run(env, "backup", str(tmp_path / "backup"))
    finally:
        running.close()
    manifest = json.loads((tmp_path / "backup" / "backup.json").read_text())
    expected = {"ledger.sqlite", "portal.sqlite", "cards/registry.sqlite", "cards/audit.jsonl"}
    assert expected <= set(manifest["files"])
    assert any(name.startswith("cards/softhsm/tokens/") for name in manifest["files"])
    assert not any(name.endswith(("-wal", "-shm")) for name in manifest["files"])
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


def test_restore_refuses_a_changed_backup_and_a_used_directory(consortium: Env, tmp_path: Path) -> None:  # noqa: F811
    run(consortium, "backup", str(tmp_path / "backup"))
    fail(consortium, "backup", str(tmp_path / "backup"), code=2, error="invalid_input")  # not empty
    fail(consortium, "restore", str(tmp_path / "backup"), code=2, error="invalid_input")  # data dir in use
    users = sorted((tmp_path / "backup" / "users").iterdir())[0]
    users.write_text(users.read_text().replace("clerk", "admin"))
    elsewhere = {**consortium, "GOLDTICKET_DATA_DIR": str(tmp_path / "elsewhere")}
    fail(elsewhere, "restore", str(tmp_path / "backup"), code=2, error="invalid_input")
    assert not (tmp_path / "elsewhere").exists()
