"""#21 registration (中登网) on the CLI: ``financing filing`` writes the filing's JSON and PDF
(0600) or hands them to the registry outbox, ``financing register --from-registry`` records the
answer the bank placed in the inbox, ``financing registrations`` and ``financing search`` read;
``financing approve`` is refused before a registration and nothing is written."""

from __future__ import annotations

import hashlib
import json
import stat
from pathlib import Path

import pytest
from support import TODAY
from test_cli import (  # noqa: F401
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


def test_filing_registration_and_search_on_the_cli(consortium: Env, tmp_path: Path) -> None:  # noqa: F811
    issued = run_json(consortium, *issue_args())
    run(consortium, "ticket", "accept", *as_user("s1.clerk"), issued["id"])
    applied = run_json(
        consortium, "ticket", "finance", issued["id"], *as_user("s1.clerk"), "--bank", "b1",
        "--amount-fen", "100000", "--max-rate", "5", "--yes",
    )  # fmt: skip
    application_id = applied["application_id"]
    approve = ["financing", "approve", application_id, *as_user("b1.clerk"), "--annual-rate-bp", "400",
               "--value-date", TODAY.isoformat()]  # fmt: skip
    before = height(consortium)
    fail(consortium, *approve, code=6, error="rule_violation")
    assert height(consortium) == before

    out = tmp_path / "filing"
    shown = run_json(
        consortium, "financing", "filing", application_id, *reader("b1.clerk"), "--out-dir", str(out)
    )
    written = out / f"filing-{application_id}.json"
    assert hashlib.sha256(written.read_bytes()).hexdigest() == shown["sha256"]
    assert json.loads(written.read_bytes()) == shown["filing"]
    assert (out / f"filing-{application_id}.pdf").read_bytes().startswith(b"%PDF")
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    fail(consortium, "financing", "filing", application_id, *reader("s1.clerk"), code=4, error="forbidden")

    filed = run_json(consortium, "financing", "filing", application_id, *reader("b1.clerk"), "--to-registry")
    inbox = Path(filed["filed"][0]).parent.parent / "inbox"
    register = ["financing", "register", application_id, *as_user("b1.clerk"), "--from-registry"]
    fail(consortium, *register, code=3, error="not_found")  # no answer yet
    answer = {
        "registration_number": "07391234000777",
        "registered_on": TODAY.isoformat(),
        "expires_on": "2027-06-01",
    }
    (inbox / f"{application_id}.json").write_text(json.dumps(answer))
    recorded = run_json(consortium, *register)
    assert (recorded["registration_number"], recorded["expires_on"]) == ("07391234000777", "2027-06-01")
    assert recorded["filing_sha256"] == shown["sha256"]

    listed = run_json(consortium, "financing", "registrations", application_id, *reader("s1.clerk"))
    assert listed["current"] == recorded["registration_id"]
    searched = run_json(consortium, "financing", "search", application_id, *reader("b1.clerk"))
    assert searched["own"]["current"] == recorded["registration_id"] and searched["registrations"] == []
    assert run_json(consortium, *approve)["financed"]["holder_org_id"] == "b1"
