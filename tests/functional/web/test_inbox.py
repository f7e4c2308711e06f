"""#20 to-do and notifications: the counts of what waits for a member (GET /todo, the portal's
badges) and its inbox, fed by the follower from the ledger's events. Attacked: another member's
notification can be neither read nor marked (404, API and portal), a form without its CSRF
token marks nothing, and projecting the ledger again (a rebuild, a block applied twice) writes
no notification twice and keeps what was read."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import Any

import pytest
from apiclient import MATURITY, Members, invoice
from sqlalchemy import func, select
from support import OPERATOR_PASSWORD, PIN, TODAY
from test_portal_pages import form_token, portal_login

from goldticket.services.portal import Portal
from goldticket.store.models import Notification

pytestmark = pytest.mark.functional

ZERO = {"tickets_to_accept": 0, "offers_to_accept": 0, "applications_to_review": 0, "pieces_due_soon": 0}


def _issue(
    members: Members, payee: str = "tier1", amount_fen: int = 100_000_000, number: str = "INV-1"
) -> str:
    issued = members["core"].post(
        "/tickets",
        {
            "payee_org_id": payee,
            "amount_fen": amount_fen,
            "maturity_date": MATURITY.isoformat(),
            "invoices": [invoice(number, amount_fen)],
            "pin": PIN,
        },
        expect=201,
    )
    return str(issued["id"])


def _todo(api: Any) -> dict[str, int]:
    counts = api.get("/todo", expect=200)
    return {kind: counts[kind] for kind in ZERO}


def _kinds(api: Any) -> list[str]:
    return [n["kind"] for n in api.get("/notifications", expect=200)["items"]]


def _stored(portal: Portal) -> int:
    with portal.database.session() as session:
        return int(session.scalar(select(func.count()).select_from(Notification)) or 0)


def test_the_todo_counts_follow_the_work_of_each_member(members: Members, portal: Portal) -> None:
    core, tier1, tier2, bank = (members[org] for org in ("core", "tier1", "tier2", "bank"))
    ticket = _issue(members)
    assert _todo(tier1) == {**ZERO, "tickets_to_accept": 1}
    assert _todo(core) == ZERO and _todo(tier2) == ZERO
    tier1.post(f"/tickets/{ticket}/accept", {"pin": PIN}, expect=200)
    assert _todo(tier1) == ZERO
    offer = tier1.post(
        f"/tickets/{ticket}/transfers",
        {"to_org_id": "tier2", "amount_fen": 30_000_000, "pin": PIN},
        expect=201,
    )
    assert _todo(tier2) == {**ZERO, "offers_to_accept": 1}
    assert _todo(tier1) == ZERO  # the sender waits; nothing for it to do
    piece = tier2.post(f"/offers/{offer['offer_id']}/accept", {"pin": PIN}, expect=200)["transferred"]
    assert _todo(tier2) == ZERO
    tier2.post(
        f"/tickets/{piece['id']}/financing",
        {"bank_org_id": "bank", "amount_fen": 10_000_000, "max_annual_rate_bp": 1_000, "pin": PIN},
        expect=201,
    )
    assert _todo(bank) == {**ZERO, "applications_to_review": 1}
    assert _todo(members.operator) == ZERO

    # three days before maturity every live piece is due soon, for its holder and its issuer
    portal.platform.settings = dataclasses.replace(
        portal.platform.settings, today=MATURITY - dt.timedelta(days=3)
    )
    answer = tier1.get("/todo", expect=200)
    assert (
        answer["pieces_due_soon"] == 1 and answer["due_by"] == (MATURITY + dt.timedelta(days=4)).isoformat()
    )
    assert _todo(tier2)["pieces_due_soon"] == 1  # the part locked for the bank is still its own
    assert _todo(core)["pieces_due_soon"] == 2


def test_each_member_is_told_of_what_concerns_it_newest_first(members: Members, portal: Portal) -> None:
    core, tier1, tier2, bank = (members[org] for org in ("core", "tier1", "tier2", "bank"))
    ticket = _issue(members)
    tier1.post(f"/tickets/{ticket}/accept", {"pin": PIN}, expect=200)
    first = tier1.post(
        f"/tickets/{ticket}/transfers",
        {"to_org_id": "tier2", "amount_fen": 30_000_000, "pin": PIN},
        expect=201,
    )
    tier2.post(f"/offers/{first['offer_id']}/reject", {"pin": PIN}, expect=200)
    second = tier1.post(
        f"/tickets/{ticket}/transfers",
        {"to_org_id": "tier2", "amount_fen": 30_000_000, "pin": PIN},
        expect=201,
    )
    piece = tier2.post(f"/offers/{second['offer_id']}/accept", {"pin": PIN}, expect=200)["transferred"]
    applied = tier2.post(
        f"/tickets/{piece['id']}/financing",
        {"bank_org_id": "bank", "amount_fen": 10_000_000, "max_annual_rate_bp": 1_000, "pin": PIN},
        expect=201,
    )
    bank.post(
        f"/financing/{applied['application_id']}/registration",
        {"registration_number": f"ZD-{applied['application_id']}", "pin": PIN},
        expect=201,
    )
    bank.post(
        f"/financing/{applied['application_id']}/approve",
        {"annual_rate_bp": 262, "value_date": TODAY.isoformat(), "pin": PIN},
        expect=200,
    )
    rejected = _issue(members, payee="tier2", amount_fen=5_000_000, number="INV-2")
    tier2.post(f"/tickets/{rejected}/reject", {"reason": "no such delivery", "pin": PIN}, expect=200)

    assert _kinds(tier1) == ["offer_accepted", "offer_rejected", "ticket_issued"]
    assert _kinds(tier2) == ["ticket_issued", "financing_approved", "offer_received", "offer_received"]
    assert _kinds(bank) == ["financing_requested"]
    # the accepted transfer's signed notice of assignment is delivered to the debtor (#21)
    assert _kinds(core) == ["ticket_rejected", "assignment_notified", "ticket_accepted"]
    listed = tier1.get("/notifications", expect=200)
    assert listed["total"] == 3 and listed["unread"] == 3
    issued = listed["items"][-1]
    assert issued["ticket_id"] == ticket and issued["other_org_id"] == "core"
    assert issued["amount_fen"] == 100_000_000 and issued["read"] is False
    approved = tier2.get("/notifications", expect=200)["items"][1]
    assert approved["subject_id"] == applied["application_id"] and approved["other_org_id"] == "bank"
    assert members.operator.get("/notifications", expect=200) == {"items": [], "total": 0, "unread": 0}

    # settlement at maturity: each paid piece's holder is told; the issuer, who paid, is not
    portal.platform.settings = dataclasses.replace(portal.platform.settings, today=MATURITY)
    core.post(f"/tickets/{ticket}/settle", {"pin": PIN}, expect=200)
    assert _kinds(tier1)[0] == "ticket_settled"
    assert _kinds(bank)[0] == "ticket_settled"
    assert _kinds(tier2)[0] == "ticket_settled"
    assert "ticket_settled" not in _kinds(core)


def test_a_member_reads_and_marks_only_its_own_notifications(app: Any, members: Members) -> None:
    tier1, tier2 = members["tier1"], members["tier2"]
    _issue(members)
    (mine,) = tier1.get("/notifications", expect=200)["items"]
    assert tier2.get("/notifications", expect=200)["total"] == 0
    # another member's user: absent, whether it exists or not, and it stays unread
    for other in (tier2, members["core"], members.operator):
        answer = other.post(f"/notifications/{mine['id']}/read", expect=404)
        assert answer["error"] == "not_found" and set(answer) == {"error", "message"}
    tier2.post("/notifications/NT00000000000000000000/read", expect=404)
    tier2.post("/notifications/1/read", expect=404)  # not the shape of an id
    assert tier1.get("/notifications?unread=true", expect=200)["total"] == 1
    # the portal: the same
    browser = portal_login(app, "tier2.clerk")
    answer = browser.post(f"/inbox/{mine['id']}/read", data={"csrf_token": form_token(browser)})
    assert answer.status_code == 404
    assert mine["id"] not in browser.get("/inbox").get_data(as_text=True)
    assert tier1.get("/notifications?unread=true", expect=200)["total"] == 1
    # no token: nothing
    assert members.client.get("/api/v1/notifications").status_code == 401
    assert members.client.get("/api/v1/todo").status_code == 401

    marked = tier1.post(f"/notifications/{mine['id']}/read", expect=200)
    assert marked["read"] is True and marked["read_at"]
    again = tier1.post(f"/notifications/{mine['id']}/read", expect=200)
    assert again["read_at"] == marked["read_at"]  # the first reading stays
    listed = tier1.get("/notifications", expect=200)
    assert listed["unread"] == 0 and tier1.get("/notifications?unread=true", expect=200)["items"] == []


def test_the_portal_shows_badges_and_the_inbox_and_marks_read_by_form(app: Any, members: Members) -> None:
    ticket = _issue(members)
    browser = portal_login(app, "tier1.clerk")
    home = browser.get("/").get_data(as_text=True)
    assert re.search(r'data-testid="badge-tickets_to_accept">1<', home)
    assert re.search(r'data-testid="badge-notifications">1<', home)
    assert 'href="/inbox"' in home
    page = browser.get("/inbox").get_data(as_text=True)
    (notification,) = re.findall(r'data-notification="(NT[0-9a-f]{20})"', page)
    assert ticket in page and "core 公司" in page
    # without the form's CSRF token: refused, still unread
    assert browser.post(f"/inbox/{notification}/read", data={}).status_code == 400
    assert 'class="unread"' in browser.get("/inbox").get_data(as_text=True)
    answer = browser.post(f"/inbox/{notification}/read", data={"csrf_token": form_token(browser)})
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/inbox")
    page = browser.get("/inbox").get_data(as_text=True)
    assert 'class="read"' in page and 'data-testid="badge-notifications"' not in page
    for page in ("0", "x", "99999999999999999999999"):  # any page number is a page, maybe empty
        assert browser.get(f"/inbox?page={page}").status_code == 200
    # "mark all read" marks the member's own only
    _issue(members, payee="tier2", amount_fen=2_000_000, number="INV-2")
    _issue(members, amount_fen=3_000_000, number="INV-3")
    assert browser.post("/inbox/read", data={}).status_code == 400  # no CSRF token
    answer = browser.post("/inbox/read", data={"csrf_token": form_token(browser)})
    assert answer.status_code == 302
    assert members["tier1"].get("/notifications?unread=true", expect=200)["total"] == 0
    assert members["tier2"].get("/notifications?unread=true", expect=200)["total"] == 1
    # in English too
    browser.get("/lang/en")
    page = browser.get("/inbox").get_data(as_text=True)
    assert "A ticket was issued to you" in page and "To accept" in page
    # the core enterprise's nav has its due entry and no one else's; the operator has no inbox
    core = portal_login(app, "core.clerk").get("/").get_data(as_text=True)
    assert 'data-todo="pieces_due_soon"' in core and 'data-todo="tickets_to_accept"' not in core
    operator = portal_login(app, "operator", OPERATOR_PASSWORD)
    assert 'data-todo="notifications"' not in operator.get("/").get_data(as_text=True)
    assert operator.get("/inbox").status_code == 404


def test_projecting_again_writes_no_notification_twice_and_keeps_what_was_read(
    members: Members, portal: Portal
) -> None:
    tier1 = members["tier1"]
    ticket = _issue(members)
    tier1.post(f"/tickets/{ticket}/accept", {"pin": PIN}, expect=200)
    tier1.post(
        f"/tickets/{ticket}/transfers",
        {"to_org_id": "tier2", "amount_fen": 30_000_000, "pin": PIN},
        expect=201,
    )
    (issued,) = [n for n in tier1.get("/notifications", expect=200)["items"] if n["kind"] == "ticket_issued"]
    tier1.post(f"/notifications/{issued['id']}/read", expect=200)
    before = {org: members[org].get("/notifications", expect=200) for org in ("core", "tier1", "tier2")}
    stored = _stored(portal)
    assert stored == 3

    portal.follower.rebuild()  # the read model dropped and projected from block 0
    assert _stored(portal) == stored
    # every block applied once more over the projection as it stands
    with portal.database.session(immediate=True) as session:
        for block in portal.follower.ledger.blocks(0):
            portal.follower._apply_block(session, block)
            if block.number + 1 >= portal.follower.ledger.height():
                break
    assert _stored(portal) == stored
    after = {org: members[org].get("/notifications", expect=200) for org in ("core", "tier1", "tier2")}
    assert after == before
    assert next(n for n in after["tier1"]["items"] if n["id"] == issued["id"])["read"] is True
