"""#21 a change of settlement account in the portal, in Chinese and English: the member's admin
asks on the settlement account page (its card's PIN), the operator confirms it at the desk (its
own card's PIN); a clerk gets no form; the counterparties' ticket and statement pages and inbox
say the account changed and when, never the account itself."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest
from apiclient import MATURITY, activate
from support import OPERATOR_PIN, PIN
from test_account_change_api import NEW_ACCOUNT
from test_portal_day import alerts, carried, confirm, login, sign

pytestmark = pytest.mark.functional


@pytest.fixture
def tier2_admin(members):
    created = members.operator.post(
        "/users",
        {"org_id": "tier2", "username": "tier2.admin", "role": "admin", "desk_pin": OPERATOR_PIN},
        expect=201,
    )
    admin = activate(members.client, "tier2.admin", created["activation_code"])
    card = members.operator.post("/cards", {"user_id": "tier2.admin", "desk_pin": OPERATOR_PIN}, expect=201)
    admin.post(f"/me/cards/{card['card_id']}/pin", {"new_pin": PIN}, expect=200)
    return admin


def test_the_admin_asks_the_desk_confirms_and_counterparties_are_told(
    app: Any, members, accepted, tier2_admin, portal
) -> None:
    root = accepted["id"]
    offered = members["tier1"].post(
        f"/tickets/{root}/transfers", {"to_org_id": "tier2", "amount_fen": 25_000_000, "pin": PIN}, expect=201
    )
    piece = members["tier2"].post(f"/offers/{offered['offer_id']}/accept", {"pin": PIN}, expect=200)[
        "transferred"
    ]
    for lang in ("zh", "en"):
        page = login(app, "tier2.clerk", lang).get("/settlement-account")
        assert page.status_code == 200 and 'id="account-change-form"' not in page.get_data(as_text=True)
    admin = login(app, "tier2.admin")
    html = admin.get("/settlement-account").get_data(as_text=True)
    assert 'id="account-change-form"' in html and "结算账户" in html
    page, html = confirm(
        admin, "request_account_change", **{**NEW_ACCOUNT, "account_name": "别人"}, back="/settlement-account"
    )
    assert "/sign/request_account_change/commit" not in html  # another name: refused before the PIN
    page, html = confirm(admin, "request_account_change", **NEW_ACCOUNT, back="/settlement-account")
    assert page.status_code == 200 and NEW_ACCOUNT["account_number"] in html, alerts(html)
    done = sign(admin, html, follow_redirects=True).get_data(as_text=True)
    assert "等待运营方确认" in done and NEW_ACCOUNT["account_number"] in done
    # a clerk's confirmation page for the admin's form is refused
    page, html = confirm(
        login(app, "tier2.clerk"), "request_account_change", **NEW_ACCOUNT, back="/settlement-account"
    )
    assert "/sign/request_account_change/commit" not in html
    operator = login(app, "operator")
    for lang in ("zh", "en"):
        assert login(app, "operator", lang).get("/desk").status_code == 200
    desk = operator.get("/desk").get_data(as_text=True)
    change_id = re.search(r'data-change="(AC[0-9a-f]{20})"', desk).group(1)
    assert NEW_ACCOUNT["account_number"] in desk
    page, html = confirm(
        operator, "confirm_account_change", member_id="tier2", change_id=change_id, back="/desk"
    )
    assert page.status_code == 200 and 'name="desk_pin"' in html, alerts(html)
    wrong = operator.post("/sign/confirm_account_change/commit", data={**carried(html), "desk_pin": "999999"})
    assert wrong.status_code == 422
    assert members["tier2"].get("/orgs/tier2/kyc")["kyc"]["account_number"] != NEW_ACCOUNT["account_number"]
    operator.post("/sign/confirm_account_change/commit", data={**carried(html), "desk_pin": OPERATOR_PIN})
    assert members["tier2"].get("/orgs/tier2/kyc")["kyc"]["account_number"] == NEW_ACCOUNT["account_number"]
    # the counterparties: the ticket page, the inbox, then the statement page
    for username, lang, words in (
        ("core.clerk", "zh", "结算账户已于"),
        ("tier1.clerk", "en", "changed on"),
    ):
        browser = login(app, username, lang)
        html = browser.get(f"/tickets/{root}").get_data(as_text=True)
        assert 'data-account-notice="tier2"' in html and words in html
        assert NEW_ACCOUNT["account_number"] not in html
        inbox = browser.get("/inbox").get_data(as_text=True)
        assert ("交易对手的结算账户已变更" if lang == "zh" else "settlement account changed") in inbox
    assert "data-account-notice" not in login(app, "bank.credit").get("/").get_data(as_text=True)
    own = login(app, "tier2.clerk").get(f"/tickets/{piece['id']}").get_data(as_text=True)
    assert 'data-account-notice="tier2"' not in own  # its own change is no notice to itself
    portal.platform.settings = dataclasses.replace(portal.platform.settings, today=MATURITY)
    statement = members["core"].post(f"/tickets/{root}/settle", {"pin": PIN}, expect=200)
    html = (
        login(app, "core.clerk")
        .get(f"/tickets/{root}/statements/{statement['statement_id']}")
        .get_data(as_text=True)
    )
    assert 'data-account-notice="tier2"' in html
