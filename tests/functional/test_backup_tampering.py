"""Issue #17, point 9: a backup someone changed must not restore, and ``ledger verify`` must
not take its trusted CAs from the directory it checks.

The attacker holds the backup but not the operator password. Against a backup that carries its
own hash list it changes a byte and rewrites the list; against any backup it may also bring a
whole backup of its own making (a directory it initialised itself, so a ledger its own CAs
sign) in place of the real one."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from test_cli import Env, env, fail, run, run_json  # noqa: F401

pytestmark = pytest.mark.functional

POSITIONS_PER_FILE = 8


def _files(backup: Path) -> list[Path]:
    return sorted(p for p in backup.rglob("*") if p.is_file()) if backup.is_dir() else [backup]


def _flip(backup: Path, path: Path, offset: int) -> None:
    """Change one byte of ``path``; if the backup lists its files' hashes in the clear, list the
    new hash too (what anyone holding the backup can do)."""
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x20
    path.write_bytes(bytes(data))
    manifest = backup / "backup.json" if backup.is_dir() else None
    if manifest is not None and manifest.exists() and path != manifest:
        listed = json.loads(manifest.read_text())
        listed["files"][str(path.relative_to(backup))] = hashlib.sha256(bytes(data)).hexdigest()
        manifest.write_text(json.dumps(listed))


@pytest.fixture
def backed_up(env: Env, tmp_path: Path) -> tuple[Env, Path]:  # noqa: F811
    run(env, "init")
    backup = tmp_path / "backup"
    run(env, "backup", str(backup))
    return env, backup


def test_restore_refuses_a_backup_with_any_byte_changed(backed_up: tuple[Env, Path], tmp_path: Path) -> None:
    base, backup = backed_up
    pristine = tmp_path / "pristine"
    (shutil.copytree if backup.is_dir() else shutil.copy2)(backup, pristine)
    cases = [
        (path.relative_to(backup) if backup.is_dir() else Path(), offset)
        for path in _files(backup)
        for offset in sorted(
            {0, path.stat().st_size - 1}
            | {path.stat().st_size * k // POSITIONS_PER_FILE for k in range(1, POSITIONS_PER_FILE)}
            | {offset for offset in (5, 30, 60, 120, 200) if offset < path.stat().st_size}  # headers
        )
        if path.stat().st_size
    ]
    assert len(cases) >= 12
    for number, (relative, offset) in enumerate(cases):
        tampered = tmp_path / f"tampered-{number}"
        (shutil.copytree if pristine.is_dir() else shutil.copy2)(pristine, tampered)
        _flip(tampered, tampered / relative if tampered.is_dir() else tampered, offset)
        target = tmp_path / f"restored-{number}" / "data"
        fail(
            {**base, "GOLDTICKET_DATA_DIR": str(target)},
            "restore",
            str(tampered),
            code=2,
            error="invalid_input",
        )
        assert not target.parent.exists() or not any(target.parent.iterdir()), (relative, offset)
        (shutil.rmtree if tampered.is_dir() else Path.unlink)(tampered)
    restored = {**base, "GOLDTICKET_DATA_DIR": str(tmp_path / "restored" / "data")}
    run(restored, "restore", str(pristine))
    assert run_json(restored, "ledger", "verify")["ok"] is True


def test_a_backup_of_another_making_does_not_restore(backed_up: tuple[Env, Path], tmp_path: Path) -> None:
    base, backup = backed_up
    forger = {
        **base,
        "GOLDTICKET_DATA_DIR": str(tmp_path / "forger"),
        "GOLDTICKET_OPERATOR_PASSWORD": "the forger's own password",
    }
    run(forger, "init")  # its own CAs, its own ledger: what it likes, signed by keys it holds
    forged = tmp_path / "forged"
    run(forger, "backup", str(forged))
    target = tmp_path / "restored" / "data"
    fail({**base, "GOLDTICKET_DATA_DIR": str(target)}, "restore", str(forged), code=2, error="invalid_input")
    assert not target.exists()


def test_ledger_verify_takes_its_cas_from_outside_the_directory(
    backed_up: tuple[Env, Path], tmp_path: Path
) -> None:
    base, backup = backed_up
    pins = run_json(base, "ledger", "verify")["trusted_cas"]
    assert set(pins) == {"OperatorMSP", "CoreMSP", "BankMSP"}
    forger = {**base, "GOLDTICKET_DATA_DIR": str(tmp_path / "forger")}
    run(forger, "init")  # a directory with other CAs: its ledger verifies against its own msp/
    assert run_json(forger, "ledger", "verify")["ok"] is True
    pinned = [arg for msp, digest in pins.items() for arg in ("--ca-sha256", f"{msp}={digest}")]
    for trusted in (pinned, ["--backup", str(backup)]):
        refused = run(forger, "ledger", "verify", *trusted, code=9)
        assert refused.stderr.startswith("error: ledger_invalid: first bad block 0:"), refused.stderr
    assert run_json(base, "ledger", "verify", *pinned)["ok"] is True
    assert run_json(base, "ledger", "verify", "--backup", str(backup))["ok"] is True
