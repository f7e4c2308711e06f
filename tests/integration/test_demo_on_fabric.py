"""#19 done when: the demo runs on the consortium's Fabric network. `goldticket demo`, as an
operator types it after `make network-up` (README "On a real Fabric network"), on the test
session's network with a chaincode definition of its own: the whole life cycle (issue, accept,
split and transfer down two tiers, discount with the bank, settle at maturity) commits and a second
run reuses it, writing nothing (the channel's height unchanged)."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from support import OPERATOR_PASSWORD, OPERATOR_PIN, TODAY

from goldticket.cli import main
from goldticket.settings import Settings

pytestmark = pytest.mark.integration


def _run(env: dict[str, str | None], *args: str) -> str:
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == 0, (args, result.stdout, result.stderr)
    assert OPERATOR_PIN not in result.stdout and OPERATOR_PASSWORD not in result.stdout
    return result.stdout


def test_the_demo_runs_on_the_fabric_network(settings: Settings) -> None:
    if settings.ledger != "fabric":
        pytest.skip(
            "the demo on Fabric (--ledger fabric); on the embedded ledger: tests/functional/test_cli.py"
        )
    env: dict[str, str | None] = {
        "GOLDTICKET_DATA_DIR": str(settings.data_dir),
        "GOLDTICKET_LEDGER": "fabric",
        "GOLDTICKET_CHAINCODE": settings.chaincode,
        "GOLDTICKET_FABRIC_PROFILE": str(settings.fabric_profile),
        "GOLDTICKET_ENV": "test",
        "GOLDTICKET_TODAY": TODAY.isoformat(),
        "GOLDTICKET_OPERATOR_PASSWORD": OPERATOR_PASSWORD,
        "GOLDTICKET_OPERATOR_PIN": OPERATOR_PIN,
        "GOLDTICKET_CARD_KDF_N": "16384",
        "GOLDTICKET_SIGNER_URL": None,
        "GOLDTICKET_SIGNER_SECRET": None,
        "GOLDTICKET_DATABASE_URL": None,
    }
    before = _height(env)
    first = _run(env, "demo")
    assert "Clearing statement" in first and "total paid 1,000,000.00" in first, first
    ticket = re.search(r"issues ticket (\S+):", first)
    assert ticket, first
    made = _height(env)
    assert made > before
    second = _run(env, "demo")
    assert "issues ticket" not in second
    assert f"(ticket {ticket.group(1)}" in second, second
    assert _height(env) == made, "the second demo wrote to the ledger"


def _height(env: dict[str, str | None]) -> int:
    """``init`` (idempotent) prints the channel's height."""
    found = re.search(r"height (\d+)", _run(env, "init"))
    assert found
    return int(found.group(1))
