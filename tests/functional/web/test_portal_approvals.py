"""Issue #17 in the portal: a member admin approves the identities of its member's new cards,
and admins of the other members approve a member's recovery, each signed with the admin's own
card on a confirmation page; nobody else sees or signs these approvals."""

from __future__ import annotations

from typing import Any

import pytest
from apiclient import Members, activate
from support import OPERATOR_PIN, PIN
from test_card_life import _admin, _identity_status
from test_portal_pages import csrf, portal_login, request_key

pytestmark = pytest.mark.functional


def _new_card(members: Members, org_id: str, username: str, role: str = "clerk") -> str:
    created = members.operator.post(
        "/users",
        {"org_id": org_id, "username": username, "role": role, "desk_pin": OPERATOR_PIN},
        expect=201,
    )
    user = activate(members.client, username, created["activation_code"])
    opened = members.operator.post("/cards", {"user_id": username, "desk_pin": OPERATOR_PIN}, expect=201)
    card = user.post(f"/me/cards/{opened['card_id']}/pin", {"new_pin": PIN}, expect=200)
    return str(card["card_id"]), str(card["status"])


def _approve(browser: Any, action: str, serial: str) -> tuple[int, str]:
    page = browser.get("/approvals")
    confirm = browser.post(
        f"/sign/{action}", data={"csrf_token": csrf(page.get_data(as_text=True)), "card_id": serial}
    )
    html = confirm.get_data(as_text=True)
    if confirm.status_code != 200:
        return confirm.status_code, html
    done = browser.post(
        f"/sign/{action}/commit",
        data={"csrf_token": csrf(html), "card_id": serial, "pin": PIN, "request_key": request_key(html)},
        follow_redirects=True,
    )
    return done.status_code, done.get_data(as_text=True)


def test_a_member_admin_approves_its_new_card_in_the_portal(app: Any, members: Members, portal: Any) -> None:
    _admin(members, "tier1", "tier1.admin")  # tier1 is onboarded now: later identities wait
    _admin(members, "core", "core.admin")
    serial, status = _new_card(members, "tier1", "tier1.third")
    assert status == "pending_approval"
    clerk = portal_login(app, "tier1.clerk")
    assert clerk.get("/approvals").status_code == 403
    other = portal_login(app, "core.admin")
    assert serial not in other.get("/approvals").get_data(as_text=True)
    # another member's admin cannot sign it either: refused on the confirmation step, nothing signed
    code, html = _approve(other, "approve_card", serial)
    assert serial not in html or code != 200
    assert _identity_status(portal, serial) == "PENDING_APPROVAL"
    admin = portal_login(app, "tier1.admin")
    for lang in ("zh", "en"):
        admin.get(f"/lang/{lang}")
        listed = admin.get("/approvals")
        assert listed.status_code == 200 and serial in listed.get_data(as_text=True)
        assert "tier1.third" in listed.get_data(as_text=True)
    code, html = _approve(admin, "approve_card", serial)
    assert code == 200, html[:2000]
    assert _identity_status(portal, serial) == "ACTIVE"
    assert serial not in admin.get("/approvals").get_data(as_text=True)


def test_the_other_members_admins_approve_a_recovery_in_the_portal(
    app: Any, members: Members, portal: Any
) -> None:
    _, first = _admin(members, "tier1", "tier1.admin")
    for org_id in ("core", "tier2", "bank"):
        _admin(members, org_id, f"{org_id}.admin")
    members.operator.call("DELETE", f"/cards/{first['card_id']}", {"desk_pin": OPERATOR_PIN}, expect=200)
    _, proposed = _admin(members, "tier1", "tier1.admin2")
    serial = proposed["card_id"]
    assert portal_login(app, "tier2.clerk").get("/approvals").status_code == 403
    core = portal_login(app, "core.admin")
    assert serial in core.get("/approvals").get_data(as_text=True)
    code, html = _approve(core, "approve_recovery", serial)
    assert code == 200, html[:2000]
    assert _identity_status(portal, serial) == "PENDING_APPROVAL"  # one of the two needed
    assert serial not in core.get("/approvals").get_data(as_text=True)  # core has approved
    bank = portal_login(app, "bank.admin")
    code, html = _approve(bank, "approve_recovery", serial)
    assert code == 200, html[:2000]
    assert _identity_status(portal, serial) == "ACTIVE"
