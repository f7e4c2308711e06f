"""#21 on the CLI: ``ticket issue --grace-days``, ``ticket finance --recourse``, and the
``overdue`` group: mark (refused before maturity plus grace, nothing written), demand (only of
an allowed obligor), the signed demand document, close."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from support import TODAY
from test_cli import (  # noqa: F401
    MATURITY,
    Env,
    as_user,
    consortium,
    env,
    fail,
    height,
    issue_args,
    reader,
    run,
    run_json,
)

pytestmark = pytest.mark.functional


def test_overdue_mark_demand_document_and_close(consortium: Env, tmp_path) -> None:  # noqa: F811
    issued = run_json(consortium, *issue_args(), "--grace-days", "2")
    assert issued["grace_days"] == 2
    run(consortium, "ticket", "accept", *as_user("s1.clerk"), issued["id"])
    applied = run_json(
        consortium, "ticket", "finance", issued["id"], *as_user("s1.clerk"), "--bank", "b1",
        "--amount-fen", "100000", "--max-rate", "5", "--recourse", "--yes",
    )  # fmt: skip
    run_json(
        consortium,
        "financing",
        "register",
        applied["application_id"],
        *as_user("b1.clerk"),
        "--number",
        "ZD-OD-1",
    )
    approved = run_json(
        consortium, "financing", "approve", applied["application_id"], *as_user("b1.clerk"),
        "--annual-rate-bp", "400", "--value-date", TODAY.isoformat(),
    )  # fmt: skip
    piece = approved["financed"]["id"]
    last_grace_day = {**consortium, "GOLDTICKET_TODAY": (MATURITY + dt.timedelta(days=2)).isoformat()}
    before = height(consortium)
    fail(last_grace_day, "overdue", "mark", piece, *as_user("b1.clerk"), code=6, error="rule_violation")
    assert height(consortium) == before
    late = {**consortium, "GOLDTICKET_TODAY": (MATURITY + dt.timedelta(days=3)).isoformat()}
    fail(late, "overdue", "mark", piece, *as_user("s1.clerk"), code=4, error="forbidden")
    marked = run_json(late, "overdue", "mark", piece, *as_user("b1.clerk"))
    assert (marked["status"], marked["unpaid_fen"]) == ("OVERDUE", 100_000)
    shown = run_json(late, "overdue", "show", piece, *reader("b1.clerk"))
    assert shown["obligors"] == {"c1": "issuer", "s1": "recourse"}
    fail(late, "overdue", "demand", piece, *as_user("b1.clerk"), "--of", "s2", code=4, error="forbidden")
    demand = run_json(late, "overdue", "demand", piece, *as_user("b1.clerk"), "--of", "s1", "--amount", "400")
    assert (demand["amount_fen"], demand["basis"]) == (40_000, "recourse")
    saved = tmp_path / "demand.pdf"
    run(late, "overdue", "document", piece, demand["demand_id"], *reader("s1.clerk"), "-o", str(saved))
    assert hashlib.sha256(saved.read_bytes()).hexdigest() == demand["document_sha256"]
    assert [item["ticket_id"] for item in run_json(late, "overdue", "list", *reader("s1.clerk"))] == [piece]
    fail(
        late,
        "overdue",
        "close",
        piece,
        demand["demand_id"],
        *as_user("b1.clerk"),
        code=2,
        error="invalid_input",
    )
    closed = run_json(
        late,
        "overdue",
        "close",
        piece,
        demand["demand_id"],
        *as_user("b1.clerk"),
        "--paid",
        "--reference",
        "W-1",
    )
    assert (closed["status"], closed["paid_by"]) == ("PAID", "obligor")
    assert run_json(late, "overdue", "show", piece, *reader("b1.clerk"))["unpaid_fen"] == 60_000
