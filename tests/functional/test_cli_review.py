"""#20 maker-checker on the CLI: ``review set`` by the member's admin, ``ticket issue`` over the
threshold only prepared, ``review list``/``show`` for the reviewer, ``review approve`` refused to
the maker and signed by the admin, ``review reject``."""

from __future__ import annotations

import pytest
from support import PIN
from test_cli import (  # noqa: F401
    USER_PASSWORD,
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


def _enrol_admin(env: Env, member_id: str, username: str) -> None:  # noqa: F811
    added = run_json(env, "user", "add", "--member", member_id, "--username", username, "--role", "admin")
    run(
        env, "user", "activate", username, "--code", added["activation_code"], "--new-password", USER_PASSWORD
    )
    opened = run_json(env, "card", "issue", username)
    run(
        env,
        "card",
        "set-pin",
        "--as",
        username,
        "--password",
        USER_PASSWORD,
        opened["serial"],
        "--new-pin",
        PIN,
    )


def test_review_set_prepare_list_approve_and_reject(consortium: Env) -> None:  # noqa: F811
    env = consortium  # noqa: F811
    _enrol_admin(env, "c1", "c1.admin")
    fail(
        env,
        "review",
        "set",
        *as_user("c1.clerk"),
        "--operation",
        "issue",
        "--above",
        "100",
        code=4,
        error="forbidden",
    )
    setting = run_json(env, "review", "set", *as_user("c1.admin"), "--operation", "issue", "--above", "100")
    assert (setting["operations"], setting["threshold_fen"]) == (["issue"], 10_000)
    assert run_json(env, "review", "setting", *reader("c1.clerk"))["threshold_fen"] == 10_000

    prepared = run_json(env, *issue_args())
    assert prepared["status"] == "PENDING_REVIEW"
    operation = prepared["operation"]
    assert run_json(env, "review", "list", *reader("c1.clerk"))["items"] == []
    (waiting,) = run_json(env, "review", "list", *reader("c1.admin"))["items"]
    assert waiting["id"] == operation["id"]
    shown = run_json(env, "review", "show", operation["id"], *reader("c1.admin"))
    assert shown["request"]["payee_org_id"] == "s1" and shown["intent_sha256"] == operation["intent_sha256"]
    before = height(env)
    fail(env, "review", "approve", operation["id"], *as_user("c1.clerk"), code=4, error="forbidden")
    assert height(env) == before
    approved = run_json(env, "review", "approve", operation["id"], *as_user("c1.admin"))
    assert approved["result"]["status"] == "PENDING_ACCEPTANCE"
    assert approved["operation"]["checker"]["user"] == "c1.admin"

    second = run_json(env, *issue_args(number="INV2"))["operation"]
    rejected = run_json(env, "review", "reject", second["id"], *as_user("c1.clerk"), "--reason", "typo")
    assert rejected["status"] == "REJECTED"
    fail(env, "review", "approve", second["id"], *as_user("c1.admin"), code=5, error="conflict")
