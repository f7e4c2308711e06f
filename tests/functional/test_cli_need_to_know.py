"""Issue #17, point 14 on the command line and on disk: a user's book is read only with its
own secret, and no file of the data directory is readable by group or others."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from test_cli import (  # noqa: F401
    PIN,
    USER_PASSWORD,
    Env,
    accepted,
    as_user,
    consortium,
    env,
    fail,
    reader,
    run,
    run_json,
)

pytestmark = pytest.mark.functional


def test_a_users_book_is_not_read_without_its_secret(consortium: Env, accepted: str) -> None:  # noqa: F811
    for what in ("ticket", "offer", "financing"):
        fail(consortium, what, "list", "--as", "s1.clerk", code=4, error="unauthenticated")
        fail(
            consortium,
            what,
            "list",
            "--as",
            "s1.clerk",
            "--password",
            "wrong",
            code=4,
            error="unauthenticated",
        )
        fail(
            consortium,
            what,
            "list",
            "--as",
            "s1.clerk",
            "--token",
            "not-a-token",
            code=4,
            error="unauthenticated",
        )
    held = run_json(consortium, "ticket", "list", *reader("s1.clerk"))
    assert [t["id"] for t in held] == [accepted]


def _readable_by_others(root: Path) -> list[str]:
    found = []
    for path in [root, *root.rglob("*")]:
        if path.is_symlink():
            continue
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            found.append(f"{path.relative_to(root)} {oct(mode)}")
    return found


def test_no_file_in_the_data_directory_is_readable_by_group_or_others(env: Env) -> None:  # noqa: F811
    run(env, "init")
    run(env, "demo")
    assert _readable_by_others(Path(env["GOLDTICKET_DATA_DIR"])) == []


def test_a_card_pin_is_not_a_login_for_a_read(consortium: Env, accepted: str, tmp_path: Path) -> None:  # noqa: F811
    """The right card PIN alone, or no secret, reads nothing (the PIN signs; the login password
    or an API token says who reads); the password given, piped on stdin or from the
    environment does."""
    for what in ("ticket", "offer", "financing"):
        fail(consortium, what, "list", *as_user("s1.clerk"), code=4, error="unauthenticated")
        fail(consortium, what, "list", "--as", "s1.clerk", code=4, error="unauthenticated")
    refused = fail(consortium, "ticket", "list", "--as", "s1.clerk", code=4, error="unauthenticated")
    assert "--password" in refused.stderr and "--pin" not in refused.stderr
    fail(
        consortium, "ticket", "list", "--as", "s1.clerk", "--password-stdin", code=4, error="unauthenticated"
    )
    for args, stdin, extra_env in (
        (["--password", USER_PASSWORD], None, {}),
        (["--password-stdin"], USER_PASSWORD + "\n", {}),
        ([], None, {"GOLDTICKET_PASSWORD": USER_PASSWORD}),
    ):
        done = run(
            {**consortium, **extra_env}, "ticket", "list", "--as", "s1.clerk", *args, "--json", stdin=stdin
        )
        assert [t["id"] for t in json.loads(done.stdout)] == [accepted]
    # a certificate (a ledger write made for the user) and a statement read the user's book too
    path = tmp_path / "c.pdf"
    certify = ["certificate", "issue", "--as", "s1.clerk", accepted, "-o", str(path)]
    fail(consortium, *certify, code=4, error="unauthenticated")
    fail(consortium, *certify, "--pin", PIN, code=4, error="unauthenticated")
    assert not path.exists()
    issued = run_json(consortium, *certify, "--password", USER_PASSWORD)
    assert issued["ticket_id"] == accepted and path.exists()
    statement = ["certificate", "statement", "--as", "c1.clerk", accepted, "ST0"]
    fail(consortium, *statement, code=4, error="unauthenticated")
