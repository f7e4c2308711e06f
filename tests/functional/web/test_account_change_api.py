"""#21 a change of settlement account over the API: the member's admin asks with its own card,
the operator desk confirms; neither alone changes it; the new account is what the payment file
pays from then on; the counterparties read "changed on DATE" and get an inbox notice, never the
account itself."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET

import pytest
from apiclient import MATURITY, activate
from conftest import member_kyc
from support import OPERATOR_PIN, PIN

pytestmark = pytest.mark.functional
NEW_ACCOUNT = {
    "account_name": "tier2 公司",
    "account_number": "6222029999000077",
    "bank_name": "新开户银行",
    "cnaps_code": "103100000026",
}


@pytest.fixture
def tier2_admin(members):
    created = members.operator.post(
        "/users",
        {"org_id": "tier2", "username": "tier2.admin", "role": "admin", "desk_pin": OPERATOR_PIN},
        expect=201,
    )
    admin = activate(members.client, "tier2.admin", created["activation_code"])
    card = members.operator.post("/cards", {"user_id": "tier2.admin", "desk_pin": OPERATOR_PIN}, expect=201)
    assert admin.post(f"/me/cards/{card['card_id']}/pin", {"new_pin": PIN}, expect=200)["status"] == "active"
    return admin


@pytest.fixture
def shared(members, accepted):
    """tier2 holds a piece of core's ticket: core, tier1 and tier2 share its tree; bank does not."""
    root = accepted["id"]
    offered = members["tier1"].post(
        f"/tickets/{root}/transfers", {"to_org_id": "tier2", "amount_fen": 25_000_000, "pin": PIN}, expect=201
    )
    members["tier2"].post(f"/offers/{offered['offer_id']}/accept", {"pin": PIN}, expect=200)
    return root


def _ask(admin, org_id="tier2", account=None, expect=201):
    return admin.post(
        f"/orgs/{org_id}/account-changes", {"account": account or NEW_ACCOUNT, "pin": PIN}, expect=expect
    )


def test_the_admin_asks_the_operator_confirms_and_the_payment_file_pays_the_new_account(
    members, tier2_admin, shared, portal
) -> None:
    old_number = member_kyc("tier2 公司", 2)["account_number"]
    change = _ask(tier2_admin)
    assert change["status"] == "PENDING" and change["account"] == NEW_ACCOUNT
    assert members["tier2"].get("/orgs/tier2/kyc")["kyc"]["account_number"] == old_number  # not yet
    mine = members["tier2"].get("/orgs/tier2/account-changes?status=PENDING")["items"]
    assert [item["id"] for item in mine] == [change["id"]]
    waiting = members.operator.get("/account-changes?status=PENDING")["items"]
    assert [(item["member_id"], item["account"]["account_number"]) for item in waiting] == [
        ("tier2", NEW_ACCOUNT["account_number"])
    ]
    assert members["core"].get("/me/account-notices")["items"] == []
    confirmed = members.operator.post(
        f"/orgs/tier2/account-changes/{change['id']}/confirm", {"desk_pin": OPERATOR_PIN}, expect=200
    )
    assert confirmed["status"] == "CONFIRMED"
    kyc = members["tier2"].get("/orgs/tier2/kyc")
    assert kyc["kyc"]["account_number"] == NEW_ACCOUNT["account_number"]
    assert kyc["kyc"]["uscc"] == member_kyc("tier2 公司", 2)["uscc"]  # the rest of the record stays
    today = portal.platform.today().isoformat()
    for counterparty in ("core", "tier1"):
        notices = members[counterparty].get("/me/account-notices")["items"]
        assert notices == [{"member_id": "tier2", "name": "tier2 公司", "changed_on": today}]
        inbox = members[counterparty].get("/notifications")["items"]
        told = [item for item in inbox if item["kind"] == "account_changed"]
        assert [(item["other_org_id"], item["subject_id"]) for item in told] == [("tier2", change["id"])]
        assert "6222029999000077" not in str(members[counterparty].get("/me/account-notices"))
    assert members["bank"].get("/me/account-notices")["items"] == []  # no tree shared
    assert not [i for i in members["bank"].get("/notifications")["items"] if i["kind"] == "account_changed"]
    assert not [i for i in members["tier2"].get("/notifications")["items"] if i["kind"] == "account_changed"]
    members["tier1"].get("/orgs/tier2/account-changes", expect=404)  # the account is not theirs to read
    members["tier1"].get("/orgs/tier2/kyc", expect=404)
    # settlement: the payment file pays tier2's piece into the new account
    portal.platform.settings = dataclasses.replace(portal.platform.settings, today=MATURITY)
    statement = members["core"].post(f"/tickets/{shared}/settle", {"pin": PIN}, expect=200)
    path = f"/api/v1/tickets/{shared}/statements/{statement['statement_id']}/payment-file"
    xml = members.client.get(path, headers={"Authorization": f"Bearer {members['core'].token}"}).data.decode()
    tier2_piece = next(p["ticket_id"] for p in statement["paid"] if p["holder_org_id"] == "tier2")
    ns = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"}
    transfers = ET.fromstring(xml).findall(".//p:CdtTrfTxInf", ns)
    accounts = {
        t.find("p:PmtId/p:EndToEndId", ns).text: t.find("p:CdtrAcct/p:Id/p:Othr/p:Id", ns).text
        for t in transfers
    }
    assert accounts[tier2_piece] == NEW_ACCOUNT["account_number"]
    assert old_number not in xml


def test_neither_side_alone_changes_the_account(members, tier2_admin, shared) -> None:
    old_number = member_kyc("tier2 公司", 2)["account_number"]

    def refused(api, path, body, status, error):
        assert api.post(path, body, expect=status)["error"] == error

    asked = "/orgs/tier2/account-changes"
    refused(members["tier2"], asked, {"account": NEW_ACCOUNT, "pin": PIN}, 403, "forbidden")  # a clerk
    refused(members.operator, asked, {"account": NEW_ACCOUNT, "pin": OPERATOR_PIN}, 403, "forbidden")
    refused(
        tier2_admin, "/orgs/tier1/account-changes", {"account": NEW_ACCOUNT, "pin": PIN}, 403, "forbidden"
    )
    refused(
        tier2_admin,
        asked,
        {"account": {**NEW_ACCOUNT, "account_name": "别人"}, "pin": PIN},
        422,
        "rule_violation",
    )
    refused(
        tier2_admin, asked, {"account": {**NEW_ACCOUNT, "cnaps_code": "12"}, "pin": PIN}, 400, "invalid_input"
    )
    same = {k: member_kyc("tier2 公司", 2)[k] for k in NEW_ACCOUNT}
    refused(tier2_admin, asked, {"account": same, "pin": PIN}, 422, "rule_violation")
    refused(tier2_admin, asked, {"account": NEW_ACCOUNT, "pin": "000000"}, 403, "wrong_pin")
    change = _ask(tier2_admin)
    refused(
        tier2_admin,
        asked,
        {"account": {**NEW_ACCOUNT, "account_number": "6222020000111122"}, "pin": PIN},
        409,
        "conflict",
    )
    confirm = f"/orgs/tier2/account-changes/{change['id']}/confirm"
    refused(tier2_admin, confirm, {"desk_pin": PIN}, 403, "forbidden")  # the member confirms nothing
    refused(members["core"], confirm, {"desk_pin": PIN}, 403, "forbidden")
    refused(members.operator, confirm, {"desk_pin": "999999"}, 403, "wrong_pin")
    refused(
        members.operator,
        f"/orgs/tier1/account-changes/{change['id']}/confirm",
        {"desk_pin": OPERATOR_PIN},
        404,
        "not_found",
    )
    reject = f"/orgs/tier2/account-changes/{change['id']}/reject"
    refused(members["core"], reject, {"pin": PIN}, 403, "forbidden")
    assert members["tier2"].get("/orgs/tier2/kyc")["kyc"]["account_number"] == old_number
    declined = members.operator.post(
        reject, {"desk_pin": OPERATOR_PIN, "reason": "no bank letter"}, expect=200
    )
    assert declined["status"] == "REJECTED" and declined["reason"] == "no bank letter"
    refused(members.operator, confirm, {"desk_pin": OPERATOR_PIN}, 409, "conflict")
    assert members["tier2"].get("/orgs/tier2/kyc")["kyc"]["account_number"] == old_number
    assert members["core"].get("/me/account-notices")["items"] == []
    # the admin may ask again, and withdraw it itself
    again = _ask(tier2_admin)
    withdrawn = tier2_admin.post(
        f"/orgs/tier2/account-changes/{again['id']}/reject", {"pin": PIN}, expect=200
    )
    assert withdrawn["status"] == "REJECTED"
    assert members["tier2"].get("/orgs/tier2/kyc")["kyc"]["account_number"] == old_number
