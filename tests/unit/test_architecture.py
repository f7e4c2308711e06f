"""The layers of ../shared/ARCHITECTURE.md, as import-linter contracts (setup.cfg): kept by the
code, and broken by an import circle or a deployment tool that reaches for the use cases."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

pytestmark = pytest.mark.unit


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": f"{root}{os.pathsep}{root / 'fabric-network'}"}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", str(root / "setup.cfg")],
        cwd=root,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def copy_of_the_code(target: Path) -> Path:
    for package in ("goldticket", "chaincode", "web"):
        shutil.copytree(REPOSITORY / package, target / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(
        REPOSITORY / "fabric-network" / "fabnet",
        target / "fabric-network" / "fabnet",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    shutil.copy(REPOSITORY / "setup.cfg", target / "setup.cfg")
    return target


def test_the_code_keeps_every_layer_contract() -> None:
    checked = lint_imports(REPOSITORY)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "0 broken" in checked.stdout


def test_an_import_circle_inside_a_function_breaks_the_contracts(tmp_path: Path) -> None:
    root = copy_of_the_code(tmp_path)
    context = root / "goldticket" / "services" / "context.py"
    context.write_text(context.read_text() + "\n\ndef circle() -> None:\n    from . import platform\n")
    checked = lint_imports(root)
    assert checked.returncode != 0
    assert "No cycles are allowed in goldticket.services" in checked.stdout


def test_deployment_tooling_importing_the_use_cases_breaks_the_contracts(tmp_path: Path) -> None:
    root = copy_of_the_code(tmp_path)
    crypto = root / "fabric-network" / "fabnet" / "crypto.py"
    crypto.write_text(crypto.read_text() + "\nfrom goldticket.services import setup  # noqa\n")
    chaincode = root / "chaincode" / "state.py"
    chaincode.write_text(chaincode.read_text() + "\nfrom goldticket.services import context  # noqa\n")
    checked = lint_imports(root)
    assert checked.returncode != 0
    assert "fabnet.crypto -> goldticket.services.setup" in checked.stdout
    assert "chaincode.state -> goldticket.services.context" in checked.stdout
