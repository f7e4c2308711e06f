"""Issue #17 points 3 and 10 in the portal: the financing form signs the highest rate the holder
accepts (the live quote's rate, editable) and the confirmation shows it; the bank's review page
shows it and a rate above it is refused before the card; a core enterprise accepts a credit line
offered to it on the credit page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from apiclient import Members
from support import PIN, TODAY
from test_portal_pages import csrf, portal_login

from goldticket import domain as d

pytestmark = pytest.mark.functional


def _sign(browser, action: str, **fields: str):
    token = csrf(browser.get("/").get_data(as_text=True))
    page = browser.post(f"/sign/{action}", data={"csrf_token": token, **fields}, follow_redirects=True)
    return page, page.get_data(as_text=True)


def test_the_holder_signs_its_highest_rate_and_the_bank_sees_it(
    app: Any, members: Members, accepted: dict[str, Any], portal: Any
) -> None:
    holder = portal_login(app, "tier1.clerk")
    form = holder.get(f"/tickets/{accepted['id']}/finance").get_data(as_text=True)
    assert 'name="max_rate"' in form
    page, html = _sign(
        holder, "finance", ticket_id=accepted["id"], bank_org_id="bank", amount="1,000.00", max_rate="3.50"
    )
    assert page.status_code == 200 and "3.50%" in html, re.findall(r"role=.alert.>([^<]*)<", html)
    # #21 fee transparency: the annualised total cost at the holder's highest rate, before the PIN
    bank_member = portal.platform.evaluate("GetMember", {"id": "bank"})
    worst = d.quote_discount(
        amount_fen=100_000,
        annual_rate_bp=350,
        value_date=portal.platform.today(),
        maturity_date=d.parse_date(accepted["maturity_date"], "maturity_date"),
        day_basis=bank_member.get("day_basis", 360),
        fee_bp=bank_member.get("fee_bp", 0),
    )
    assert worst.annualised_cost_bp is not None and worst.annualised_cost_bp > 350
    assert f"{d.format_fen(worst.annualised_cost_bp)}%" in html and "年化综合成本" in html
    carried = dict(re.findall(r'<input type="hidden" name="([a-z0-9_]+)" value="([^"]*)"', html))
    done = holder.post("/sign/finance/commit", data={**carried, "pin": PIN})
    assert done.status_code == 302, re.findall(r"role=.alert.>([^<]*)<", done.get_data(as_text=True))
    (application,) = [
        item
        for item in members["bank"].get("/tickets?holder_org_id=tier1")["items"]
        if item.get("application_id")
    ] or [None]
    application_id = application["application_id"]
    stored = portal.platform.evaluate("GetApplication", {"application_id": application_id})
    assert stored["max_annual_rate_bp"] == 350
    members["bank"].post(  # registered (中登网) before it is approved (#21)
        f"/financing/{application_id}/registration",
        {"registration_number": "ZD-PORTAL-RATE", "registered_at": TODAY.isoformat(), "pin": PIN},
        expect=201,
    )

    bank = portal_login(app, "bank.credit")
    review = bank.get(f"/applications/{application_id}").get_data(as_text=True)
    assert 'id="holder-bound">3.50%' in review
    height = portal.platform.ledger.height()
    page, html = _sign(bank, "approve", application_id=application_id, rate="4.00", value_date="")
    assert "3.50%" in " ".join(re.findall(r"role=.alert.>([^<]*)<", html)), html[-2000:]
    assert 'type="password"' not in html  # refused before the PIN is asked for
    page, html = _sign(bank, "approve", application_id=application_id, rate="3.50", value_date="")
    assert page.status_code == 200 and html.count("3.50%") >= 2  # the rate and the holder's bound
    assert portal.platform.ledger.height() == height


def test_a_core_accepts_an_offered_line_on_the_credit_page(app: Any, members: Members, portal: Any) -> None:
    offered = members["bank"].post(
        "/credit-lines", {"core_org_id": "core", "limit_fen": 5_000, "pin": PIN}, expect=201
    )
    core = portal_login(app, "core.clerk")
    credit_page = core.get("/credit").get_data(as_text=True)
    assert f'name="credit_line_id" value="{offered["id"]}"' in credit_page
    bank_page = portal_login(app, "bank.credit").get("/credit").get_data(as_text=True)
    assert "/sign/accept_line" not in bank_page  # only the core answers
    page, html = _sign(core, "accept_line", credit_line_id=offered["id"])
    assert page.status_code == 200, re.findall(r"role=.alert.>([^<]*)<", html)
    carried = dict(re.findall(r'<input type="hidden" name="([a-z0-9_]+)" value="([^"]*)"', html))
    done = core.post("/sign/accept_line/commit", data={**carried, "pin": PIN})
    assert done.status_code == 302
    lines = {line["id"]: line for line in members["core"].get("/credit-lines")["items"]}
    assert lines[offered["id"]]["status"] == "active"
    issue_form = core.get("/issue").get_data(as_text=True)
    assert f'<option value="{offered["id"]}"' in issue_form  # the core may choose the line
