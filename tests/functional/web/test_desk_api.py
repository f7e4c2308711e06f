"""#20 point 13 over the API: the desk disables a login, resets a forgotten password (a new
activation code; the desk never chooses the password) and corrects a member, each with the
acting operator admin's own card PIN, never on its own account, and nobody else may."""

from __future__ import annotations

import pytest
from apiclient import PASSWORD, Api, activate
from support import OPERATOR_PASSWORD, OPERATOR_PIN

pytestmark = pytest.mark.functional

WRONG_PIN = "97531864"


def _logs_in(client, username: str, password: str = PASSWORD) -> int:
    return client.post("/api/v1/auth/token", json={"username": username, "password": password}).status_code


def test_the_desk_disables_a_login_and_nobody_else_can(members, client):
    tier1, core = members["tier1"], members["core"]
    assert tier1.get("/me", expect=200)["username"] == "tier1.clerk"
    for other in (core, members["bank"]):  # members' users are not the desk
        body = other.post("/users/tier1.clerk/disable", {"desk_pin": OPERATOR_PIN}, expect=403)
        assert body["error"] == "forbidden"
    body = members.operator.post("/users/tier1.clerk/disable", {"desk_pin": WRONG_PIN}, expect=403)
    assert body["error"] == "wrong_pin"
    assert _logs_in(client, "tier1.clerk") == 200  # nothing changed by the refusals
    members.operator.post("/users/nobody.here/disable", {"desk_pin": OPERATOR_PIN}, expect=404)
    own = members.operator.post("/users/operator/disable", {"desk_pin": OPERATOR_PIN}, expect=403)
    assert "another operator admin" in own["message"]
    done = members.operator.post("/users/tier1.clerk/disable", {"desk_pin": OPERATOR_PIN}, expect=200)
    assert done == {"username": "tier1.clerk", "login": "disabled"}
    tier1.get("/me", expect=401)  # every token revoked at once
    assert _logs_in(client, "tier1.clerk") == 401
    assert _logs_in(client, "operator", OPERATOR_PASSWORD) == 200


def test_a_reset_password_gives_a_new_code_and_the_user_chooses_the_password(members, client):
    tier2 = members["tier2"]
    members["core"].post("/users/tier2.clerk/reset-password", {"desk_pin": OPERATOR_PIN}, expect=403)
    assert _logs_in(client, "tier2.clerk") == 200
    reset = members.operator.post("/users/tier2.clerk/reset-password", {"desk_pin": OPERATOR_PIN}, expect=200)
    assert reset["username"] == "tier2.clerk" and reset["activation_code"]
    assert "password" not in reset  # the desk never sees or chooses one
    tier2.get("/me", expect=401)
    assert _logs_in(client, "tier2.clerk") == 401  # the old password opens nothing
    again = activate(client, "tier2.clerk", reset["activation_code"], "tier2's own new password")
    assert again.get("/me", expect=200)["username"] == "tier2.clerk"
    # the code worked once
    Api(client).post(
        "/auth/activate",
        {
            "username": "tier2.clerk",
            "activation_code": reset["activation_code"],
            "password": "yet another one!",
        },
        expect=401,
    )


def test_the_desk_corrects_a_member_and_only_the_fields_given(members, portal):
    platform = portal.platform
    before = platform.evaluate("GetMember", {"id": "bank"})
    change = {"desk_pin": OPERATOR_PIN, "fee_bp": 25, "day_basis": 365, "name_en": "Bank of Tests"}
    members["bank"].call("PATCH", "/orgs/bank", change, expect=403)
    members.operator.call("PATCH", "/orgs/bank", {**change, "desk_pin": WRONG_PIN}, expect=403)
    members.operator.call("PATCH", "/orgs/bank", {"desk_pin": OPERATOR_PIN}, expect=400)  # nothing to change
    members.operator.call("PATCH", "/orgs/bank", {"desk_pin": OPERATOR_PIN, "day_basis": 300}, expect=400)
    members.operator.call("PATCH", "/orgs/operator", {"desk_pin": OPERATOR_PIN, "name": "x"}, expect=403)
    members.operator.call("PATCH", "/orgs/nobody", {"desk_pin": OPERATOR_PIN, "name": "x"}, expect=404)
    assert platform.evaluate("GetMember", {"id": "bank"}) == before  # the refusals changed nothing
    answer = members.operator.call("PATCH", "/orgs/bank", change, expect=200)
    assert (
        answer["id"] == "bank" and answer["name_en"] == "Bank of Tests" and answer["name"] == before["name"]
    )
    after = platform.evaluate("GetMember", {"id": "bank"})
    assert (after["fee_bp"], after["day_basis"], after["role"], after["msp_id"]) == (
        25,
        365,
        before["role"],
        before["msp_id"],
    )


def test_a_member_is_registered_under_its_own_organisation_only_once_trusted(members):
    """#19 over the API: `msp_id` names the organisation of a bank with its own node; one the
    platform does not trust is refused and nothing is registered; the role's own is taken."""
    desk = members.operator
    body = {
        "desk_pin": OPERATOR_PIN,
        "name": "江南银行",
        "role": "bank",
        "id": "jnyh",
        "msp_id": "BankJnyhMSP",
    }
    refused = desk.post("/orgs", body, expect=400)
    assert refused["error"] == "invalid_input" and "does not trust BankJnyhMSP" in refused["message"]
    assert "jnyh" not in {org["id"] for org in desk.get("/orgs", expect=200)["items"]}
    desk.post("/orgs", {**body, "msp_id": "bad msp!"}, expect=400)
    made = desk.post("/orgs", {**body, "msp_id": "BankMSP"}, expect=201)
    assert made["msp_id"] == "BankMSP"
