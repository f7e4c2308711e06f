"""Issue #17, point 14 on the command line and on disk: a user's book is read only with its
own secret, and no file of the data directory is readable by group or others."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from test_cli import PIN, WRONG_PIN, Env, accepted, as_user, consortium, env, fail, run, run_json  # noqa: F401

pytestmark = pytest.mark.functional


def test_a_users_book_is_not_read_without_its_secret(consortium: Env, accepted: str) -> None:  # noqa: F811
    for what in ("ticket", "offer", "financing"):
        fail(consortium, what, "list", "--as", "s1.clerk", code=4, error="unauthenticated")
        fail(consortium, what, "list", "--as", "s1.clerk", "--pin", WRONG_PIN, code=4, error="wrong_pin")
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
    held = run_json(consortium, "ticket", "list", *as_user("s1.clerk"))
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
