"""Issue #17 points 3 and 10 on the CLI: ``ticket finance --max-rate`` (percent a year) is
required and bounded by the domain's limit, ``financing approve`` above it exits with
rule_violation and writes nothing; ``credit grant`` offers, ``credit accept`` by the core makes
the line active, and ``ticket issue --credit-line`` chooses it."""

from __future__ import annotations

import pytest
from support import TODAY
from test_cli import (  # noqa: F401
    Env,
    accepted,
    as_user,
    consortium,
    env,
    fail,
    height,
    issue_args,
    run,
    run_json,
)

pytestmark = pytest.mark.functional


def test_the_cli_signs_the_holders_highest_rate(accepted: str, consortium: Env) -> None:  # noqa: F811
    finance = ["ticket", "finance", accepted, *as_user("s1.clerk"), "--bank", "b1", "--amount", "100.00"]
    before = height(consortium)
    fail(consortium, *finance, "--max-rate", "100.01", code=2, error="invalid_input")
    fail(consortium, *finance, "--max-rate", "3.505", code=2, error="invalid_input")
    fail(consortium, *finance, "--max-rate", "350bp", code=2, error="invalid_input")
    assert run(consortium, *finance, code=2).exit_code == 2  # --max-rate is required
    assert height(consortium) == before
    applied = run_json(consortium, *finance, "--max-rate", "3.5%")
    approve = ["financing", "approve", applied["application_id"], *as_user("b1.clerk")]
    before = height(consortium)
    result = fail(
        consortium,
        *approve,
        "--annual-rate-bp",
        "351",
        "--value-date",
        TODAY.isoformat(),
        code=6,
        error="rule_violation",
    )
    assert "3.50 %" in result.stderr
    assert height(consortium) == before
    # registered (中登网) before it is approved (#21)
    run_json(
        consortium,
        "financing",
        "register",
        applied["application_id"],
        *as_user("b1.clerk"),
        "--number",
        "ZD-RATE",
    )
    assert (
        run_json(consortium, *approve, "--annual-rate-bp", "350", "--value-date", TODAY.isoformat())["days"]
        > 0
    )


def test_the_core_accepts_a_line_and_chooses_it(consortium: Env) -> None:  # noqa: F811
    offered = run_json(
        consortium, "credit", "grant", *as_user("b1.clerk"), "--core", "c1", "--limit-fen", "5000"
    )
    assert offered["status"] == "offered"
    fail(consortium, "credit", "accept", *as_user("b1.clerk"), offered["id"], code=4, error="forbidden")
    chosen = [*issue_args(number="CLI-LINE", amount_fen=100), "--credit-line", offered["id"]]
    fail(consortium, *chosen, code=6, error="rule_violation")
    assert run_json(consortium, "credit", "accept", *as_user("c1.clerk"), offered["id"])["status"] == "active"
    assert run_json(consortium, *chosen)["credit_line_id"] == offered["id"]
