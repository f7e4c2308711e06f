"""Installing GoldTicket (what `make run` and `make install` do: an editable install through
pip and pyproject.toml's setuptools) prints no warning: setup.cfg gave setuptools ~170 lines of
BuildBackendWarning (data folders looking like packages missing from `packages`, and the
import-hook editable mode). The install goes to a scratch --root, not this venv."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.functional, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]


def test_the_editable_install_prints_no_warning(tmp_path: Path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--ignore-installed",
            "--no-warn-script-location",
        ]
        + ["--root", str(tmp_path / "root"), "-e", str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "warning" not in output.lower(), output[:3000]
    (pth,) = (tmp_path / "root").rglob("__editable__.goldticket-*.pth")
    assert pth.read_text(encoding="utf-8").strip() == str(ROOT)
