"""#20 maker-checker over the API: a member's admin sets it, a clerk's issue over the threshold
answers 202 with the prepared operation (idempotent like any write), the reviewer sees exactly
the intent and approves it with their own card; the maker, another member and a clerk may not."""

from __future__ import annotations

import re

import pytest
from apiclient import MATURITY, activate, invoice
from support import OPERATOR_PIN, PIN
from test_portal_pages import portal_login

pytestmark = pytest.mark.functional


@pytest.fixture
def core_admin(members):
    created = members.operator.post(
        "/users",
        {"org_id": "core", "username": "core.admin", "role": "admin", "desk_pin": OPERATOR_PIN},
        expect=201,
    )
    admin = activate(members.client, "core.admin", created["activation_code"])
    card = members.operator.post("/cards", {"user_id": "core.admin", "desk_pin": OPERATOR_PIN}, expect=201)
    assert admin.post(f"/me/cards/{card['card_id']}/pin", {"new_pin": PIN}, expect=200)["status"] == "active"
    return admin


def test_maker_checker_issue_over_the_api(members, core_admin) -> None:
    clerk = members["core"]
    setting = {"operations": ["issue"], "threshold_fen": 50_000_000, "reviewers": [], "pin": PIN}
    clerk.call("PUT", "/me/dual-control", setting, expect=403)
    core_admin.call("PUT", "/me/dual-control", {**setting, "operations": ["pay"]}, expect=400)
    saved = core_admin.call("PUT", "/me/dual-control", setting, expect=200)
    assert (saved["operations"], saved["threshold_fen"]) == (["issue"], 50_000_000)
    assert clerk.get("/me/dual-control", expect=200)["threshold_fen"] == 50_000_000

    body = {
        "payee_org_id": "tier1",
        "amount_fen": 120_000_000,
        "maturity_date": MATURITY.isoformat(),
        "invoices": [invoice("INV-MC-API", 120_000_000)],
        "pin": PIN,
    }
    prepared = clerk.post("/tickets", body, expect=202, **{"Idempotency-Key": "mc-1"})
    assert prepared["status"] == "PENDING_REVIEW"
    operation = prepared["operation"]
    assert clerk.post("/tickets", body, expect=202, **{"Idempotency-Key": "mc-1"}) == prepared
    assert clerk.last.headers.get("Idempotent-Replayed") == "true"
    assert members["tier1"].get("/tickets?holder_org_id=tier1", expect=200)["items"] == []

    assert clerk.get("/operations?status=TO_REVIEW", expect=200)["items"] == []
    listed = core_admin.get("/operations?status=TO_REVIEW", expect=200)["items"]
    assert [item["id"] for item in listed] == [operation["id"]]
    shown = core_admin.get(f"/operations/{operation['id']}", expect=200)
    assert shown["request"]["amount_fen"] == 120_000_000 and shown["request"]["payee_org_id"] == "tier1"
    members["tier1"].get(f"/operations/{operation['id']}", expect=404)  # need to know
    clerk.post(f"/operations/{operation['id']}/approve", {"pin": PIN}, expect=403)  # the maker
    core_admin.get("/operations/OP0000000000000000000x", expect=404)

    approved = core_admin.post(f"/operations/{operation['id']}/approve", {"pin": PIN}, expect=200)
    assert approved["operation"]["status"] == "APPROVED"
    assert approved["operation"]["maker"]["user"] == "core.clerk"
    assert approved["operation"]["checker"]["user"] == "core.admin"
    ticket = approved["result"]
    assert (ticket["status"], ticket["amount_fen"]) == ("PENDING_ACCEPTANCE", 120_000_000)
    core_admin.post(f"/operations/{operation['id']}/approve", {"pin": PIN}, expect=409)
    history = core_admin.get(f"/tickets/{ticket['id']}/history", expect=200)
    entries = history["items"] if isinstance(history, dict) else history
    assert [(h["by_user"], h["maker_user"]) for h in entries] == [("core.admin", "core.clerk")]
    assert core_admin.get("/operations?status=APPROVED", expect=200)["total"] == 1

    # below the threshold the clerk signs alone, as before
    small = {**body, "amount_fen": 100, "invoices": [invoice("INV-MC-SMALL", 100)]}
    assert clerk.post("/tickets", small, expect=201)["status"] == "PENDING_ACCEPTANCE"


def _reviews_badge(app, username: str) -> str | None:
    """The count on the navigation's link to the review page, as the user's portal shows it."""
    html = portal_login(app, username).get("/").get_data(as_text=True)
    link = re.search(r'<a href="/reviews" data-todo="operations_to_review">(.*?)</a>', html, re.S)
    assert link, "no link to the review page in the navigation"
    badge = re.search(r'data-testid="badge-operations_to_review">(\d+)<', link.group(1))
    return badge.group(1) if badge else None


def test_the_navigation_counts_the_operations_waiting_for_this_users_review(app, members, core_admin) -> None:
    """Counted from the read model: the member's admins and named reviewers see them, the maker
    does not, another member's users never; approved or rejected, it is gone."""
    clerk = members["core"]
    setting = {"operations": ["issue"], "threshold_fen": 50_000_000, "reviewers": ["core.clerk"], "pin": PIN}
    core_admin.call("PUT", "/me/dual-control", setting, expect=200)
    operations = []
    for number in ("INV-MC-TODO-1", "INV-MC-TODO-2"):
        body = {
            "payee_org_id": "tier1",
            "amount_fen": 120_000_000,
            "maturity_date": MATURITY.isoformat(),
            "invoices": [invoice(number, 120_000_000)],
            "pin": PIN,
        }
        operations.append(clerk.post("/tickets", body, expect=202)["operation"])
    assert core_admin.get("/todo", expect=200)["operations_to_review"] == 2
    assert clerk.get("/todo", expect=200)["operations_to_review"] == 0  # a reviewer, but the maker
    assert members["tier1"].get("/todo", expect=200)["operations_to_review"] == 0
    assert _reviews_badge(app, "core.admin") == "2"
    assert _reviews_badge(app, "core.clerk") is None

    core_admin.post(f"/operations/{operations[0]['id']}/approve", {"pin": PIN}, expect=200)
    assert core_admin.get("/todo", expect=200)["operations_to_review"] == 1
    assert _reviews_badge(app, "core.admin") == "1"

    # the reviewer the setting names counts what another user prepared
    body = {
        "payee_org_id": "tier1",
        "amount_fen": 120_000_000,
        "maturity_date": MATURITY.isoformat(),
        "invoices": [invoice("INV-MC-TODO-3", 120_000_000)],
        "pin": PIN,
    }
    by_admin = core_admin.post("/tickets", body, expect=202)["operation"]
    assert clerk.get("/todo", expect=200)["operations_to_review"] == 1
    assert _reviews_badge(app, "core.clerk") == "1"
    assert core_admin.get("/todo", expect=200)["operations_to_review"] == 1  # the clerk's second
    clerk.post(f"/operations/{by_admin['id']}/reject", {"pin": PIN, "reason": "no"}, expect=200)
    core_admin.post(f"/operations/{operations[1]['id']}/reject", {"pin": PIN, "reason": "no"}, expect=200)
    assert core_admin.get("/todo", expect=200)["operations_to_review"] == 0
    assert clerk.get("/todo", expect=200)["operations_to_review"] == 0
    assert _reviews_badge(app, "core.admin") is None


def test_a_weakening_put_is_prepared_for_another_users_review(app, members, core_admin) -> None:
    """PUT /me/dual-control turning the setting off while it is on answers 202 with the prepared
    operation: the setting stays until another admin or reviewer approves (chaincode-enforced,
    tests/scenario/test_dual_control.py)."""
    setting = {"operations": ["issue"], "threshold_fen": 50_000_000, "reviewers": [], "pin": PIN}
    assert core_admin.call("PUT", "/me/dual-control", setting, expect=200)["operations"] == ["issue"]
    prepared = core_admin.call("PUT", "/me/dual-control", {**setting, "operations": []}, expect=202)
    assert prepared["status"] == "PENDING_REVIEW"
    assert prepared["operation"]["function"] == "SetDualControl"
    assert core_admin.get("/me/dual-control", expect=200)["operations"] == ["issue"]
    core_admin.post(f"/operations/{prepared['operation']['id']}/approve", {"pin": PIN}, expect=403)
    page = portal_login(app, "core.admin").get("/reviews")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'data-testid="prepared-{prepared["operation"]["id"]}"' in html and "放宽经办复核设置" in html
    # strengthening is signed alone
    stronger = {**setting, "operations": ["issue", "settle"]}
    assert core_admin.call("PUT", "/me/dual-control", stronger, expect=200)["operations"] == [
        "issue",
        "settle",
    ]
