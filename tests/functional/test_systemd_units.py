"""The systemd units in deploy/systemd/ stay deployable: systemd itself finds nothing wrong in
them (where systemd-analyze is installed), their commands are commands `goldticket` knows, and
each keeps its restart policy, its secrets file and its hardening."""

from __future__ import annotations

import configparser
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.functional

ROOT = Path(__file__).resolve().parents[2]
UNITS = sorted((ROOT / "deploy" / "systemd").glob("*.service"))
INSTALLED = "/opt/goldticket"


def _service(unit: Path) -> dict[str, list[str]]:
    """Every key of [Service] with all its values (systemd allows a key more than once)."""
    values: dict[str, list[str]] = {}
    section = ""
    for line in unit.read_text().splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line
        elif section == "[Service]" and "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            values.setdefault(key, []).append(value)
    return values


def test_there_is_a_unit_for_the_gateway_and_one_for_the_web_service():
    assert [unit.name for unit in UNITS] == ["goldticket-signer.service", "goldticket-web.service"]


@pytest.mark.parametrize("unit", UNITS, ids=lambda unit: unit.name)
def test_restart_secrets_and_hardening(unit: Path):
    service = _service(unit)
    assert service["Restart"] == ["on-failure"]
    assert service["User"] == ["goldticket"] and service["Group"] == ["goldticket"]
    assert service["EnvironmentFile"] == ["/etc/goldticket/goldticket.env"]
    for key, value in {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "UMask": "0077",
        "CapabilityBoundingSet": "",
    }.items():
        assert service[key] == [value], key
    assert service["ReadWritePaths"] == ["/var/lib/goldticket"]


@pytest.mark.parametrize("unit", UNITS, ids=lambda unit: unit.name)
def test_the_command_is_one_goldticket_knows(unit: Path):
    command = shlex.split(_service(unit)["ExecStart"][0])
    assert command[0] == f"{INSTALLED}/.venv/bin/goldticket"
    result = subprocess.run(
        [sys.executable, "-m", "goldticket.cli", *command[1:], "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_systemd_finds_nothing_wrong(tmp_path: Path):
    executable = Path(sys.executable).parent / "goldticket"
    for unit in UNITS:  # the same units, pointing at this checkout's goldticket
        text = unit.read_text().replace(f"{INSTALLED}/.venv/bin/goldticket", str(executable))
        (tmp_path / unit.name).write_text(text)
    result = subprocess.run(
        ["systemd-analyze", "verify", *(str(tmp_path / unit.name) for unit in UNITS)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    complaints = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert complaints == [] and result.returncode == 0


def test_the_secrets_example_is_plain_key_value():
    example = ROOT / "deploy" / "systemd" / "goldticket.env.example"
    parser = configparser.ConfigParser(delimiters=("=",), comment_prefixes=("#",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string("[env]\n" + example.read_text())
    assert "GOLDTICKET_OPERATOR_PASSWORD" in parser["env"]
