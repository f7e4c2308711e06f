"""#20 dashboards: each role's first figures, exact to the fen, agree with the lists the same
user reads, and show nothing of another member's."""

from __future__ import annotations

import datetime as dt

import pytest
from apiclient import MATURITY
from support import PIN, TODAY

pytestmark = pytest.mark.functional


def _live_sum(api, **filters: str) -> tuple[int, int]:
    query = "&".join(f"{k}={v}" for k, v in filters.items())
    items = api.get(f"/tickets?per_page=100&{query}", expect=200)["items"]
    return len(items), sum(t["amount_fen"] for t in items)


def test_every_roles_dashboard_adds_up_to_the_fen(members, accepted):
    core, tier1, tier2, bank = (members[org] for org in ("core", "tier1", "tier2", "bank"))
    root = accepted["id"]
    offered = tier1.post(
        f"/tickets/{root}/transfers", {"to_org_id": "tier2", "amount_fen": 30_000_001, "pin": PIN}, expect=201
    )
    piece = tier2.post(f"/offers/{offered['offer_id']}/accept", {"pin": PIN}, expect=200)["transferred"]
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
    approved = bank.post(
        f"/financing/{applied['application_id']}/approve",
        {"annual_rate_bp": 262, "value_date": TODAY.isoformat(), "pin": PIN},
        expect=200,
    )
    interest, fee, proceeds = approved["discount_interest_fen"], approved["fee_fen"], approved["proceeds_fen"]
    assert interest > 0 and proceeds == 10_000_000 - interest - fee

    one = tier1.get("/dashboard", expect=200)
    assert one["role"] == "supplier" and one["today"] == TODAY.isoformat()
    assert one["held"] == {"count": 1, "amount_fen": 69_999_999}
    assert one["available_to_finance"] == {"count": 1, "amount_fen": 69_999_999}
    assert one["financed"]["count"] == 0  # tier2's financing is not tier1's
    assert one["due"]["month"] == {"count": 0, "amount_fen": 0}  # maturity is 90 days away

    two = tier2.get("/dashboard", expect=200)
    assert two["held"] == {"count": 1, "amount_fen": 20_000_001}  # the remainder after financing
    assert two["financed"] == {
        "count": 1,
        "amount_fen": 10_000_000,
        "proceeds_fen": proceeds,
        "interest_fen": interest,
        "fee_fen": fee,
        "cost_fen": interest + fee,
    }

    owed = core.get("/dashboard", expect=200)
    assert owed["role"] == "core"
    assert owed["owed"] == {"count": 3, "amount_fen": 100_000_000}  # every live piece, to the fen
    assert owed["waiting_acceptance"] == {"count": 0, "amount_fen": 0}
    (line,) = owed["credit_lines"]
    assert line["id"] == members.credit_line["id"] and line["used_fen"] == 100_000_000

    lender = bank.get("/dashboard", expect=200)
    assert lender["portfolio"] == {"count": 1, "amount_fen": 10_000_000}
    assert lender["financed"]["proceeds_fen"] == proceeds
    assert lender["financed"]["interest_fen"] + lender["financed"]["fee_fen"] == interest + fee
    (exposure,) = lender["exposure"]
    assert exposure == {"core_org_id": "core", "held_fen": 10_000_000, "limit_fen": line["limit_fen"],
                        "used_fen": 100_000_000}  # fmt: skip

    platform = members.operator.get("/dashboard", expect=200)
    assert platform["live"] == {"count": 3, "amount_fen": 100_000_000}
    assert platform["states"]["SPLIT"]["count"] == 2
    # the holder's figure is what its own list says
    assert _live_sum(tier2, status="ACTIVE") == (1, 20_000_001)


def test_pieces_due_this_week_and_overdue_are_counted_apart(members, accepted, portal, monkeypatch):
    """A piece is due this week when its maturity falls from today to Sunday; once past, overdue."""
    tier1 = members["tier1"]
    monkeypatch.setattr(portal.platform, "today", lambda: MATURITY)
    due = tier1.get("/dashboard", expect=200)["due"]
    assert due["week"] == {"count": 1, "amount_fen": 100_000_000}
    assert due["month"] == {"count": 1, "amount_fen": 100_000_000}
    assert due["overdue"] == {"count": 0, "amount_fen": 0}
    monkeypatch.setattr(portal.platform, "today", lambda: MATURITY + dt.timedelta(days=1))
    due = tier1.get("/dashboard", expect=200)["due"]
    assert due["week"]["count"] == 0 and due["overdue"] == {"count": 1, "amount_fen": 100_000_000}


def test_a_dashboard_needs_a_login(client):
    answer = client.get("/api/v1/dashboard")
    assert answer.status_code == 401 and answer.get_json()["error"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_roles_dashboard_page_shows_its_figures(app, members, accepted, lang):
    from support import OPERATOR_PASSWORD
    from test_portal_pages import portal_login

    expected = {
        "core.clerk": ("owed", "lines"),
        "tier1.clerk": ("holdings", "financed"),
        "bank.credit": ("portfolio", "exposure"),
        "operator": ("platform",),
    }
    for username, sections in expected.items():
        browser = (
            portal_login(app, username, OPERATOR_PASSWORD)
            if username == "operator"
            else portal_login(app, username)
        )
        browser.get(f"/lang/{lang}")
        page = browser.get("/dashboard")
        assert page.status_code == 200, username
        html = page.get_data(as_text=True)
        for section in sections:
            assert f'id="{section}"' in html, (username, section)
        if username == "tier1.clerk":
            assert "1,000,000.00" in html  # tier1 holds the 1,000,000.00 ticket
