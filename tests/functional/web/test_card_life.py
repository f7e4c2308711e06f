"""Issue #17 points 1 and 4 over the API: an account follows its user's card (eliminating the
last card disables the login and its tokens), a card reported lost is suspended on the ledger,
the desk does not act on its own card, a user has one live card, and a member left without an
admin is recovered by admins of a majority of the other members."""

from __future__ import annotations

from typing import Any

from apiclient import PASSWORD, Api, activate, login
from support import OPERATOR_PIN, PIN

from goldticket.services import cards


def _identity_status(portal: Any, serial: str) -> str | None:
    return cards.ledger_status(portal.platform, portal.platform.cards.registry.get(serial))


def test_an_eliminated_users_token_and_login_answer_401(members, accepted, portal) -> None:
    tier1 = members["tier1"]
    tier1.get("/tickets", expect=200)
    members.operator.call(
        "DELETE", f"/cards/{members.cards['tier1']}", {"desk_pin": OPERATOR_PIN}, expect=200
    )
    for path in ("/tickets", f"/tickets/{accepted['id']}", f"/tickets/{accepted['id']}/history"):
        assert tier1.get(path, expect=401)["error"] == "unauthenticated"
    answer = Api(members.client).post(
        "/auth/token", {"username": "tier1.clerk", "password": PASSWORD}, expect=401
    )
    assert answer["error"] == "unauthenticated"
    # a certificate is a ledger write made for the requesting user: refused too
    response = members.client.get(
        f"/api/v1/tickets/{accepted['id']}/certificate", headers={"Authorization": f"Bearer {tier1.token}"}
    )
    assert response.status_code == 401
    members["tier2"].get("/tickets", expect=200)  # other users are untouched


def test_a_card_reported_lost_is_suspended_on_the_ledger_and_its_user_keeps_the_login(
    members, portal
) -> None:
    serial = members.cards["tier1"]
    answer = members.operator.post(f"/cards/{serial}/report-lost", {"desk_pin": OPERATOR_PIN}, expect=200)
    assert answer["status"] == "suspended"
    assert _identity_status(portal, serial) == "SUSPENDED"
    user = login(members.client, "tier1.clerk")  # the replacement is finished by the user, logged in
    replaced = members.operator.post(
        f"/cards/{serial}/replace",
        {"operator_password": portal.settings.operator_password, "desk_pin": OPERATOR_PIN},
        expect=201,
    )
    # a replacement keeps the old card's key: choosing a new PIN as for a new card (a new key)
    # is refused, and the card still waits for its user's recovery
    refused = user.call("POST", f"/me/cards/{replaced['card_id']}/pin", {"new_pin": "246813"})
    assert "replaces another" in refused["message"], refused
    assert portal.platform.cards.registry.get(replaced["card_id"]).status == "OPENED"
    user.post(f"/me/cards/{replaced['card_id']}/recover", {"pin": PIN}, expect=200)
    assert _identity_status(portal, replaced["card_id"]) == "ACTIVE"


def test_the_desk_does_not_act_on_its_own_card(members, portal) -> None:
    registry = portal.platform.cards.registry
    own = registry.active_card("operator").serial
    desk = {"desk_pin": OPERATOR_PIN}
    calls = [
        ("POST", f"/cards/{own}/report-lost", desk),
        ("POST", f"/cards/{own}/unlock", desk),
        ("DELETE", f"/cards/{own}", desk),
        (
            "POST",
            f"/cards/{own}/replace",
            {**desk, "operator_password": portal.settings.operator_password},
        ),
    ]
    for method, path, body in calls:
        refused = members.operator.call(method, path, body, expect=403)
        assert refused["error"] == "forbidden" and "own card" in refused["message"], path
    assert registry.get(own).status == "ACTIVE" and _identity_status(portal, own) == "ACTIVE"
    # refused before the desk PIN is tried: a wrong one costs the desk's card no try
    members.operator.post(f"/cards/{own}/report-lost", {"desk_pin": "999999"}, expect=403)
    assert registry.get(own).wrong_pins == 0


def test_a_second_card_for_a_user_is_refused(members, portal) -> None:
    refused = members.operator.post(
        "/cards", {"user_id": "tier1.clerk", "desk_pin": OPERATOR_PIN}, expect=409
    )
    assert refused["error"] == "conflict" and "replace" in refused["message"]
    assert len(portal.platform.cards.registry.cards_of("tier1.clerk")) == 1


def _admin(members, org_id: str, username: str) -> tuple[Api, dict[str, Any]]:
    operator = members.operator
    created = operator.post(
        "/users",
        {"org_id": org_id, "username": username, "role": "admin", "desk_pin": OPERATOR_PIN},
        expect=201,
    )
    user = activate(members.client, username, created["activation_code"])
    opened = operator.post("/cards", {"user_id": username, "desk_pin": OPERATOR_PIN})
    card = user.post(f"/me/cards/{opened['card_id']}/pin", {"new_pin": PIN}, expect=200)
    return user, card


def test_a_member_without_admin_is_recovered_by_the_other_members_admins(members, portal) -> None:
    _, first = _admin(members, "tier1", "tier1.admin")
    assert first["status"] == "active"  # tier1's first admin: onboarding
    voters = {org_id: _admin(members, org_id, f"{org_id}.admin")[0] for org_id in ("core", "tier2", "bank")}
    members.operator.call("DELETE", f"/cards/{first['card_id']}", {"desk_pin": OPERATOR_PIN}, expect=200)
    _, proposed = _admin(members, "tier1", "tier1.admin2")
    assert proposed["status"] == "pending_approval"  # set by its user; it waits all the same
    serial = proposed["card_id"]
    # the operator desk cannot approve it, nor a clerk of another member
    assert members.operator.post(f"/cards/{serial}/recovery-approvals", {"pin": OPERATOR_PIN}, expect=403)
    members["tier2"].post(f"/cards/{serial}/recovery-approvals", {"pin": PIN}, expect=403)
    one = voters["core"].post(f"/cards/{serial}/recovery-approvals", {"pin": PIN}, expect=200)
    assert one["status"] == "pending_approval"
    assert one["recovery"] == {"approvals": 1, "needed": 2, "approved_by": ["core"]}
    again = voters["core"].post(f"/cards/{serial}/recovery-approvals", {"pin": PIN}, expect=409)
    assert again["error"] == "conflict"
    two = voters["bank"].post(f"/cards/{serial}/recovery-approvals", {"pin": PIN}, expect=200)
    assert two["status"] == "active" and two["recovery"]["approved_by"] == ["core", "bank"]
    assert _identity_status(portal, serial) == "ACTIVE"
    missing = voters["tier2"].post(f"/cards/{serial}/recovery-approvals", {}, expect=400)
    assert missing["error"] == "invalid_input"
