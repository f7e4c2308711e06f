"""Issue #17, points 7 and 13 over HTTP: a member reads its own pieces and the path to them,
not its siblings (API and portal); the public page names no one; the portal's verify page and
the desk's confirmation pages serve the roles the API serves."""

from __future__ import annotations

import io
from typing import Any

import pytest
from apiclient import Members
from support import PIN
from test_portal_pages import form_token, portal_login

pytestmark = pytest.mark.functional


def _split(members: Members, accepted: dict[str, Any]) -> tuple[str, str]:
    """tier1 gives 300,000.00 of its ticket to tier2: (tier2's piece, tier1's remainder)."""
    offer = members["tier1"].post(
        f"/tickets/{accepted['id']}/transfers", {"to_org_id": "tier2", "amount_fen": 30_000_000, "pin": PIN},
        expect=201,
    )  # fmt: skip
    moved = members["tier2"].post(f"/offers/{offer['offer_id']}/accept", {"pin": PIN}, expect=200)
    return moved["transferred"]["id"], moved["remainder"]["id"]


def test_a_member_reads_its_own_pieces_and_the_path_not_its_siblings(
    app: Any, members: Members, accepted: dict[str, Any]
) -> None:
    mine, sibling = _split(members, accepted)
    tier2 = members["tier2"]
    tree = tier2.get(f"/tickets/{mine}/lineage", expect=200)

    def ids(node: dict[str, Any]) -> list[str]:
        return [node["ticket"]["id"], *(i for child in node["children"] for i in ids(child))]

    assert sorted(ids(tree)) == sorted([accepted["id"], mine])
    for path in (f"/tickets/{sibling}", f"/tickets/{sibling}/history", f"/tickets/{sibling}/lineage"):
        tier2.get(path, expect=404)
    listed = tier2.get(f"/tickets?root_id={accepted['id']}", expect=200)
    assert sorted(t["id"] for t in listed["items"]) == sorted([accepted["id"], mine])
    assert listed["total"] == 2
    # the holder that split and the issuer see the whole tree
    assert len(ids(members["tier1"].get(f"/tickets/{mine}/lineage", expect=200))) == 3
    assert len(ids(members["core"].get(f"/tickets/{mine}/lineage", expect=200))) == 3
    # the portal's ticket page: no sibling link
    page = portal_login(app, "tier2.clerk").get(f"/tickets/{accepted['id']}").get_data(as_text=True)
    assert mine in page and sibling not in page
    assert portal_login(app, "tier2.clerk").get(f"/tickets/{sibling}").status_code == 404


def test_the_portal_verify_page_serves_banks_only(app: Any, members: Members) -> None:
    for username in ("tier1.clerk", "core.clerk"):
        browser = portal_login(app, username)
        assert browser.get("/certificates/verify").status_code == 403
        answer = browser.post(
            "/certificates/verify",
            data={"csrf_token": form_token(browser), "file": (io.BytesIO(b"%PDF-1.7"), "c.pdf")},
            content_type="multipart/form-data",
        )
        assert answer.status_code == 403
    assert portal_login(app, "bank.credit").get("/certificates/verify").status_code == 200


def test_the_desks_confirmation_pages_are_the_operators_only(app: Any, members: Members) -> None:
    """A member's user asks the desk's confirmation page about another member's user or card:
    refused, and the page never says which member the username belongs to."""
    browser = portal_login(app, "tier1.clerk")
    token = form_token(browser)
    asks = [
        ("issue_card", {"user_id": "core.clerk"}),
        ("report_lost", {"card_id": members.cards["core"]}),
        ("create_user", {"org_id": "core", "username": "x.y", "role": "clerk"}),
        ("create_org", {"id": "n", "name": "n", "role": "core"}),
    ]
    for name, values in asks:
        answer = browser.post(f"/sign/{name}", data={"csrf_token": token, **values}, follow_redirects=True)
        html = answer.get_data(as_text=True)
        assert "core 公司" not in html and "Card PIN" not in html, name
        assert "only an admin of the operator" in html or "运营方" in html or answer.status_code == 403, name
