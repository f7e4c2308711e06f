"""#21 KYC at onboarding over the API: the desk registers a member with its 统一社会信用代码,
legal representative, address and settlement account; a wrong check character or an account
in another name is refused and registers nothing; the ledger keeps the record's SHA-256; only
the operator and the member's own users read the record."""

from __future__ import annotations

import pytest
from apiclient import activate
from support import OPERATOR_PIN

from goldticket import domain as d

pytestmark = pytest.mark.functional

KYC = {
    "uscc": "91110108551385082Q",
    "legal_representative": "李四",
    "registered_address": "北京市海淀区中关村大街 1 号",
    "account_name": "中关村精密部件有限公司",
    "account_number": "6222020012345678",
    "bank_name": "中国工商银行北京中关村支行",
    "cnaps_code": "102100000030",
}
NAME = "中关村精密部件有限公司"


def _register(members, org_id: str, kyc: dict, expect: int, name: str = NAME):
    body = {"desk_pin": OPERATOR_PIN, "id": org_id, "name": name, "role": "supplier", "kyc": kyc}
    return members.operator.post("/orgs", body, expect=expect)


def test_a_member_is_registered_with_its_kyc_and_only_it_and_the_operator_read_it(members, client, portal):
    ids = {org["id"] for org in members.operator.get("/orgs")["items"]}
    bad = _register(members, "zgc", {**KYC, "uscc": "91110108551385083Q"}, 422)  # check character
    assert "unified social credit code" in bad["message"]
    other = _register(members, "zgc", {**KYC, "account_name": "另一家公司"}, 422)
    assert "member's name" in other["message"]
    assert {org["id"] for org in members.operator.get("/orgs")["items"]} == ids  # nothing registered
    _register(members, "zgc", KYC, 201)
    answer = members.operator.get("/orgs/zgc/kyc", expect=200)
    assert answer["kyc"] == KYC
    on_ledger = portal.platform.evaluate("GetMember", {"id": "zgc"})
    assert on_ledger["kyc_sha256"] == answer["kyc_sha256"] == d.check_kyc(KYC, NAME).sha256
    assert "uscc" not in on_ledger and KYC["account_number"] not in str(on_ledger)  # only the hash
    # another member's user: as if there were none; the member's own user reads it
    members["tier1"].get("/orgs/zgc/kyc", expect=404)
    created = members.operator.post(
        "/users",
        {"org_id": "zgc", "username": "zgc.clerk", "role": "clerk", "desk_pin": OPERATOR_PIN},
        expect=201,
    )
    own = activate(client, "zgc.clerk", created["activation_code"])
    assert own.get("/orgs/zgc/kyc", expect=200)["kyc_sha256"] == answer["kyc_sha256"]
    # a member registered without KYC has none to show
    members.operator.post(
        "/orgs",
        {"desk_pin": OPERATOR_PIN, "id": "nokyc", "name": "无资料公司", "role": "supplier"},
        expect=201,
    )
    members.operator.get("/orgs/nokyc/kyc", expect=404)


def test_the_desk_registers_a_member_with_its_kyc_in_the_portal(app, members, portal):
    import re

    from support import OPERATOR_PASSWORD
    from test_portal_pages import csrf, portal_login

    desk = portal_login(app, "operator", OPERATOR_PASSWORD)
    token = csrf(desk.get("/desk").get_data(as_text=True))
    fields = {"csrf_token": token, "id": "zgc2", "name": NAME, "role": "supplier", **KYC}
    refused = desk.post(
        "/sign/create_org", data={**fields, "uscc": "91110108551385083Q"}, follow_redirects=True
    )
    said = " ".join(re.findall(r"role=.alert.>([^<]*)<", refused.get_data(as_text=True)))
    assert "统一社会信用代码" in said, said  # in Chinese, before the PIN
    assert 'type="password"' not in refused.get_data(as_text=True)
    partial = desk.post("/sign/create_org", data={**fields, "bank_name": ""}, follow_redirects=True)
    said = " ".join(re.findall(r"role=.alert.>([^<]*)<", partial.get_data(as_text=True)))
    assert "全部填写" in said and 'type="password"' not in partial.get_data(as_text=True)  # all or none
    page = desk.post("/sign/create_org", data=fields)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and KYC["uscc"] in html and KYC["cnaps_code"] in html
    carried = dict(re.findall(r'<input type="hidden" name="([a-z0-9_]+)" value="([^"]*)"', html))
    done = desk.post("/sign/create_org/commit", data={**carried, "desk_pin": OPERATOR_PIN})
    assert done.status_code == 302, re.findall(r"role=.alert.>([^<]*)<", done.get_data(as_text=True))
    member = portal.platform.evaluate("GetMember", {"id": "zgc2"})
    assert member["kyc_sha256"] == d.check_kyc(KYC, NAME).sha256
