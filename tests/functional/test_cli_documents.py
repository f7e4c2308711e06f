"""#21 ``goldticket document download|verify``: each signed document of a ticket (the issuer's
payment commitment, a transfer's assignment agreement and notice to the debtor, a financing's
assignment to the bank) downloaded and checked by a member of the ticket's path with its login
password; a changed copy is forged (exit 11), a member outside the path is refused (exit 4),
bad input answers a clear error and a non-zero exit."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from test_cli import (  # noqa: F401
    Env,
    accepted,
    as_user,
    consortium,
    env,
    fail,
    issue_args,
    reader,
    run,
    run_json,
)

pytestmark = pytest.mark.functional


@pytest.fixture
def trail(consortium: Env, accepted: str) -> dict[str, Any]:  # noqa: F811
    """s1 transfers 20,000.00 of the accepted ticket to s2 (accepted), then applies for
    financing of its remainder with b1."""
    offer = run_json(
        consortium,
        "ticket",
        "transfer",
        accepted,
        *as_user("s1.clerk"),
        "--to",
        "s2",
        "--amount-fen",
        "2000000",
    )
    moved = run_json(consortium, "offer", "accept", *as_user("s2.clerk"), offer["offer_id"])
    applied = run_json(
        consortium,
        "ticket",
        "finance",
        moved["remainder"]["id"],
        *as_user("s1.clerk"),
        "--bank",
        "b1",
        "--amount-fen",
        "1000000",
        "--max-rate",
        "2.62",
        "--recourse",
    )
    return {"root": accepted, "offer_id": offer["offer_id"], "application_id": applied["application_id"]}


def test_every_document_downloads_and_verifies(
    consortium: Env,  # noqa: F811
    trail: dict[str, Any],
    tmp_path: Path,
) -> None:
    for kind, key, user in (
        ("commitment", "root", "s2.clerk"),
        ("agreement", "offer_id", "s1.clerk"),
        ("notice", "offer_id", "c1.clerk"),
        ("assignment", "application_id", "b1.clerk"),
    ):
        path = tmp_path / f"{kind}.pdf"
        got = run_json(consortium, "document", "download", kind, trail[key], *reader(user), "-o", str(path))
        data = path.read_bytes()
        assert data.startswith(b"%PDF-") and got["sha256"] == hashlib.sha256(data).hexdigest(), got
        assert (got["kind"], got["file"], got["bytes"]) == (kind, str(path), len(data))
        verdict = run_json(consortium, "document", "verify", kind, trail[key], str(path), *reader(user))
        assert verdict["verdict"] == "valid" and verdict["recorded_sha256"] == got["sha256"], verdict
        readable = run(consortium, "document", "verify", kind, trail[key], str(path), *reader(user)).stdout
        assert "valid" in readable
        changed = tmp_path / f"{kind}-changed.pdf"
        changed.write_bytes(data + b"\n% appended\n")
        forged = run(
            consortium, "document", "verify", kind, trail[key], str(changed), *reader(user), "--json", code=11
        )
        assert '"verdict": "forged"' in forged.stdout and '"reason_code": "bytes_appended"' in forged.stdout
        # read by a person: the verdict, its code and the reason in words, exit 11 as before
        readable = run(
            consortium, "document", "verify", kind, trail[key], str(changed), *reader(user), code=11
        )
        assert "forged" in readable.stdout and "bytes_appended" in readable.stdout, readable.stdout
        assert "bytes were added after the signature" in readable.stdout, readable.stdout
    # the countersigned agreement carries both cards' signatures
    path = tmp_path / "agreement.pdf"
    assert path.read_bytes().count(b"/ByteRange") == 2


def test_outsiders_and_bad_input_are_refused(consortium: Env, trail: dict[str, Any], tmp_path: Path) -> None:  # noqa: F811
    path = tmp_path / "notice.pdf"
    run_json(
        consortium, "document", "download", "notice", trail["offer_id"], *reader("s1.clerk"), "-o", str(path)
    )
    # a ticket of another tree: s2 is not in its path
    other = run_json(consortium, *issue_args(number="INV-OTHER"))
    run_json(consortium, "ticket", "accept", other["id"], *as_user("s1.clerk"))
    fail(
        consortium,
        "document",
        "download",
        "commitment",
        other["id"],
        *reader("s2.clerk"),
        code=4,
        error="forbidden",
    )
    fail(
        consortium,
        "document",
        "verify",
        "commitment",
        other["id"],
        str(path),
        *reader("s2.clerk"),
        code=4,
        error="forbidden",
    )
    # no such offer, no such kind, no file, a wrong password
    fail(
        consortium,
        "document",
        "download",
        "notice",
        "OF0000000000",
        *reader("s1.clerk"),
        code=3,
        error="not_found",
    )
    wrong = run(consortium, "document", "download", "invoice", trail["root"], *reader("s1.clerk"), code=2)
    assert "invoice" in wrong.stderr and "commitment" in wrong.stderr
    fail(
        consortium,
        "document",
        "verify",
        "notice",
        trail["offer_id"],
        str(tmp_path / "missing.pdf"),
        *reader("s1.clerk"),
        code=2,
        error="invalid_input",
    )
    fail(
        consortium,
        "document",
        "download",
        "notice",
        trail["offer_id"],
        "--as",
        "s1.clerk",
        "--password",
        "wrong",
        code=4,
        error="unauthenticated",
    )
    not_pdf = tmp_path / "text.pdf"
    not_pdf.write_bytes(b"plain text")
    verdict = run(
        consortium,
        "document",
        "verify",
        "notice",
        trail["offer_id"],
        str(not_pdf),
        *reader("s1.clerk"),
        code=11,
    )
    assert "forged" in verdict.stdout
