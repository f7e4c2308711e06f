"""The ``goldticket`` command line, run in-process with click's CliRunner on a fresh data dir."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from goldticket.cli import main

pytestmark = pytest.mark.functional

TODAY = dt.date(2026, 12, 1)
QUOTE = [
    "quote",
    "--amount-fen",
    "100000000",
    "--annual-rate-bp",
    "262",
    "--value-date",
    "2026-01-01",
    "--maturity-date",
    "2026-03-17",
]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str | None]:
    """A fresh data directory and a fixed clock; other GOLDTICKET_* settings unset."""
    return {
        "GOLDTICKET_DATA_DIR": str(tmp_path / "var"),
        "GOLDTICKET_ENV": "test",
        "GOLDTICKET_TODAY": TODAY.isoformat(),
        "GOLDTICKET_LEDGER": None,
        "GOLDTICKET_CHANNEL": None,
        "GOLDTICKET_CHAINCODE": None,
    }


def run(env: dict[str, str | None], *args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == code, (args, result.exit_code, result.stdout, result.stderr)
    return result


def run_json(env: dict[str, str | None], *args: str) -> Any:
    return json.loads(run(env, *args).stdout)


def fail(env: dict[str, str | None], *args: str, code: int, error: str) -> Result:
    result = run(env, *args, code=code)
    assert result.stderr.startswith(f"error: {error}:"), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""
    return result


def height(env: dict[str, str | None]) -> int:
    """Run ``init`` (idempotent) and read the ledger height it prints."""
    match = re.search(r"height (\d+)", run(env, "init").stdout)
    assert match, "init prints the ledger height"
    return int(match.group(1))


# ---------------------------------------------------------------------- quote
def test_quote_json(env: dict[str, str | None]) -> None:
    assert run_json(env, *QUOTE, "--json") == {
        "days": 75,
        "discount_interest_fen": 545833,
        "fee_fen": 0,
        "proceeds_fen": 99454167,
    }


def test_quote_human(env: dict[str, str | None]) -> None:
    out = run(env, *QUOTE).stdout
    assert "1,000,000.00" in out
    assert re.search(r"^days\s+75$", out, re.M)
    assert "5,458.33" in out
    assert "994,541.67" in out


def test_quote_day_basis_365(env: dict[str, str | None]) -> None:
    # 100,000,000 x 2.62% x 75 / 365 = 538,356.16... fen -> 538,356
    assert run_json(env, *QUOTE, "--day-basis", "365", "--json") == {
        "days": 75,
        "discount_interest_fen": 538356,
        "fee_fen": 0,
        "proceeds_fen": 100000000 - 538356,
    }


def test_quote_with_fee(env: dict[str, str | None]) -> None:
    # fee 10 bp of 1,000,000.00 = 1,000.00
    result = run_json(env, *QUOTE, "--fee-bp", "10", "--json")
    assert result == {
        "days": 75,
        "discount_interest_fen": 545833,
        "fee_fen": 100000,
        "proceeds_fen": 99354167,
    }


@pytest.mark.parametrize("bad", ["2026-02-30", "2026/01/01", "20260101", "tomorrow", "2026-1-1"])
def test_quote_bad_date_is_invalid_input(env: dict[str, str | None], bad: str) -> None:
    args = [*QUOTE]
    args[args.index("--value-date") + 1] = bad
    fail(env, *args, code=2, error="invalid_input")


def test_quote_bad_amount_is_invalid_input(env: dict[str, str | None]) -> None:
    args = [*QUOTE]
    args[args.index("--amount-fen") + 1] = "0"
    fail(env, *args, code=2, error="invalid_input")


def test_quote_value_date_after_maturity_is_rule_violation(env: dict[str, str | None]) -> None:
    args = [*QUOTE]
    args[args.index("--value-date") + 1] = "2026-04-01"
    fail(env, *args, code=6, error="rule_violation")


# ---------------------------------------------------------------- init, demo
def test_init_is_idempotent(env: dict[str, str | None], tmp_path: Path) -> None:
    first = height(env)
    assert first >= 1
    assert (tmp_path / "var").is_dir()
    assert height(env) == first


def test_today_without_test_env_is_refused(env: dict[str, str | None], tmp_path: Path) -> None:
    env = {**env, "GOLDTICKET_ENV": None, "GOLDTICKET_TODAY": "2027-01-01"}
    result = fail(env, "init", code=2, error="invalid_input")
    assert "GOLDTICKET_TODAY" in result.stderr
    assert not (tmp_path / "var").exists()


def test_demo_runs_twice(env: dict[str, str | None]) -> None:
    tickets = []
    for _ in range(2):
        out = run(env, "demo").stdout
        assert "Clearing statement" in out
        assert "total paid 1,000,000.00" in out
        assert "壹佰万元整" in out
        match = re.search(r"issues ticket (\S+):", out)
        assert match
        tickets.append(match.group(1))
    assert tickets[0] != tickets[1]


def test_show_unknown_ticket_is_not_found(env: dict[str, str | None]) -> None:
    run(env, "init")
    fail(env, "ticket", "show", "--as", "operator", "NOSUCH", code=3, error="not_found")


def test_unknown_local_user_is_not_found(env: dict[str, str | None]) -> None:
    run(env, "init")
    fail(env, "ticket", "show", "--as", "nobody", "X", code=3, error="not_found")


# ------------------------------------------------------------ operations
def test_scripted_operations(env: dict[str, str | None]) -> None:
    run(env, "init")
    for member_id, name, role in (
        ("s1", "供应商一", "supplier"),
        ("c1", "核心企业一", "core"),
        ("b1", "银行一", "bank"),
    ):
        created = run_json(
            env, "member", "add", "--as", "operator", "--id", member_id, "--name", name, "--role", role
        )
        assert created["id"] == member_id
        assert created["name"] == name
        assert created["role"] == role
    for member_id in ("c1", "s1", "b1"):
        added = run_json(
            env, "user", "add", "--as", "operator", "--member", member_id, "--username", f"{member_id}.clerk"
        )
        assert added["username"] == f"{member_id}.clerk"
        assert added["member_id"] == member_id
    line = run_json(env, "credit", "grant", "--as", "b1.clerk", "--core", "c1", "--limit-fen", "100000000")
    assert line["core_org_id"] == "c1"
    assert line["bank_org_id"] == "b1"
    assert line["limit_fen"] == 100000000

    maturity = (TODAY + dt.timedelta(days=30)).isoformat()
    digest = hashlib.sha256(b"INV1").hexdigest()
    issue = ["ticket", "issue", "--as", "c1.clerk", "--payee", "s1", "--maturity-date", maturity]
    issued = run_json(env, *issue, "--amount-fen", "5000000", "--invoice", f"INV1:5000000:{digest}")
    ticket_id = issued["id"]
    assert issued["status"] == "PENDING_ACCEPTANCE"
    assert issued["amount_fen"] == 5000000
    assert issued["issuer_org_id"] == "c1"
    assert issued["maturity_date"] == maturity

    accepted = run_json(env, "ticket", "accept", "--as", "s1.clerk", ticket_id)
    assert accepted["id"] == ticket_id
    assert accepted["status"] == "ACTIVE"
    assert accepted["holder_org_id"] == "s1"

    held = run_json(env, "ticket", "list", "--as", "s1.clerk", "--holder", "s1")
    assert [(t["id"], t["status"], t["amount_fen"]) for t in held] == [(ticket_id, "ACTIVE", 5000000)]

    shown = run_json(env, "ticket", "show", "--as", "s1.clerk", ticket_id)
    assert shown["status"] == "ACTIVE"

    history = run_json(env, "ticket", "history", "--as", "s1.clerk", ticket_id)
    assert len(history) == 2
    assert all(isinstance(entry["block"], int) and entry["block"] > 0 for entry in history)
    assert history[0]["block"] < history[1]["block"]
    assert [entry["action"] for entry in history] == ["issue", "accept"]
    assert history[0]["tx_id"] == issued["tx_id"]  # a ticket's tx_id is the one that created it
    assert history[1]["by_user"] == "s1.clerk"

    lines = run_json(env, "credit", "list", "--as", "b1.clerk", "--core", "c1")
    assert [(x["limit_fen"], x["used_fen"]) for x in lines] == [(100000000, 5000000)]

    before = height(env)
    listing = run(env, "ticket", "list", "--as", "s1.clerk", "--holder", "s1").stdout
    # Nothing is written by refused requests: a zero amount, a malformed invoice, a past maturity.
    fail(
        env, *issue, "--amount-fen", "0", "--invoice", f"INV2:5000000:{digest}", code=2, error="invalid_input"
    )
    fail(env, *issue, "--amount-fen", "5000000", "--invoice", "INV2-5000000", code=2, error="invalid_input")
    fail(
        env,
        *issue,
        "--amount-fen",
        "5000000",
        "--invoice",
        f"INV2:5e6:{digest}",
        code=2,
        error="invalid_input",
    )
    assert height(env) == before
    assert run_json(env, "credit", "list", "--as", "b1.clerk", "--core", "c1") == lines
    assert run(env, "ticket", "list", "--as", "s1.clerk", "--holder", "s1").stdout == listing

    # The ticket is now accepted: accepting again is a state conflict.
    result = run(env, "ticket", "accept", "--as", "s1.clerk", ticket_id, code=5)
    assert result.stderr.startswith("error: conflict:")


def test_operations_need_a_known_member(env: dict[str, str | None]) -> None:
    run(env, "init")
    fail(
        env,
        "user",
        "add",
        "--as",
        "operator",
        "--member",
        "ghost",
        "--username",
        "ghost.clerk",
        code=3,
        error="not_found",
    )
