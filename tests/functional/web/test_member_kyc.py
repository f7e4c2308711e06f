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
    members.operator.get("/orgs/tier1/kyc", expect=404)
