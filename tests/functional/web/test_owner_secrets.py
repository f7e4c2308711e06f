"""Issue #17 point 2, as an attacker tries it: the desk chose every user's login password and
every card PIN, so it could log in and sign as anyone, and no one could change either. Now the
desk gets a one-time activation code and the user chooses the password; a card signs nothing
until its own user chooses the PIN; both are changed by their owner only."""

from __future__ import annotations

import datetime as dt

import pytest
from apiclient import MATURITY, PASSWORD, Api, activate, invoice, login
from sqlalchemy import select, update
from support import OPERATOR_PASSWORD, OPERATOR_PIN, PIN

from goldticket import domain as d
from goldticket.services import accounts
from goldticket.store.models import Account, IdempotencyRecord

pytestmark = pytest.mark.functional
NEW_PIN = "740319"


def _new_user(members, username="tier1.second", org_id="tier1"):
    created = members.operator.post(
        "/users",
        {"org_id": org_id, "username": username, "role": "clerk", "desk_pin": OPERATOR_PIN},
        expect=201,
    )
    return created


def _issue(members, number):
    return members["core"].post(
        "/tickets",
        {
            "payee_org_id": "tier1",
            "amount_fen": 100,
            "maturity_date": MATURITY.isoformat(),
            "invoices": [invoice(number, 100)],
            "pin": PIN,
        },
        expect=201,
    )


def test_the_desk_cannot_choose_a_password(members, portal):
    body = members.operator.post(
        "/users",
        {"org_id": "tier1", "username": "tier1.puppet", "password": "desk chosen password", "role": "clerk",
         "desk_pin": OPERATOR_PIN},
        expect=400,
    )  # fmt: skip
    assert body["error"] == "invalid_input"
    assert not portal.platform.users.has_user("tier1.puppet")


def test_the_desk_gets_a_code_once_and_cannot_log_in_as_the_user(members, client, portal):
    created = _new_user(members)
    code = created["activation_code"]
    assert set(created) >= {"id", "activation_code", "expires_at"}
    # the desk has no password to log in with, and the code is no password
    for guess in (code, PASSWORD, "desk chosen password"):
        Api(client).post("/auth/token", {"username": "tier1.second", "password": guess}, expect=401)
    with portal.database.session() as session:
        account = session.get(Account, "tier1.second")
        kept = [record.response or "" for record in session.scalars(select(IdempotencyRecord))]
    assert code not in (account.activation_sha256 or "") and code not in account.password_hash
    assert not any(code in response for response in kept)
    user = activate(client, "tier1.second", code, "the user's own password")
    assert user.get("/me", expect=200)["username"] == "tier1.second"
    again = Api(client).post(
        "/auth/activate",
        {"username": "tier1.second", "activation_code": code, "password": "the desk's password!"},
        expect=401,
    )
    assert again["error"] == "unauthenticated"
    login(client, "tier1.second", "the user's own password")


def test_an_activation_code_expires(members, client, portal):
    created = _new_user(members)
    with portal.database.session() as session:
        session.execute(
            update(Account)
            .where(Account.username == "tier1.second")
            .values(activation_expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )
    Api(client).post(
        "/auth/activate",
        {"username": "tier1.second", "activation_code": created["activation_code"], "password": PASSWORD},
        expect=401,
    )


def test_the_desk_cannot_choose_a_pin_nor_set_it(members, client, portal):
    created = _new_user(members)
    user = activate(client, "tier1.second", created["activation_code"])
    refused = members.operator.post(
        "/cards", {"user_id": "tier1.second", "pin": PIN, "desk_pin": OPERATOR_PIN}, expect=400
    )
    assert refused["error"] == "invalid_input"
    card = members.operator.post("/cards", {"user_id": "tier1.second", "desk_pin": OPERATOR_PIN}, expect=201)
    assert card["status"] == "awaiting_pin" and "certificate_pem" not in card
    assert user.get("/me")["cards"] == [
        {"card_id": card["card_id"], "serial": card["serial"], "status": "awaiting_pin", "locked": False}
    ]
    # the card signs nothing yet; the desk (or anyone else) cannot choose its PIN
    ticket = _issue(members, "INV-S1")
    user.post(f"/tickets/{ticket['id']}/accept", {"pin": PIN}, expect=404)
    for other in (members.operator, members["tier1"]):
        body = other.post(f"/me/cards/{card['card_id']}/pin", {"new_pin": PIN}, expect=403)
        assert body["error"] == "forbidden"
    first = user.post(f"/me/cards/{card['card_id']}/pin", {"old_pin": PIN, "new_pin": NEW_PIN}, expect=400)
    assert "no PIN yet" in first["message"]  # a first PIN takes no old one
    chosen = user.post(f"/me/cards/{card['card_id']}/pin", {"new_pin": NEW_PIN}, expect=200)
    assert chosen["status"] in ("active", "pending_approval") and chosen["certificate_pem"]
    # once the PIN is set, a change needs old_pin
    again = user.post(f"/me/cards/{card['card_id']}/pin", {"new_pin": PIN}, expect=400)
    assert "old_pin" in again["message"], again  # says what is missing, not a PIN format rule


def test_users_change_their_own_password_and_pin(members, client):
    tier1 = members["tier1"]
    other_token = login(client, "tier1.clerk")
    tier1.post(
        "/me/password", {"old_password": "not my password", "new_password": "a new password"}, expect=401
    )
    tier1.post("/me/password", {"old_password": PASSWORD, "new_password": "a new password"}, expect=200)
    other_token.get("/me", expect=401)  # the other tokens are revoked
    tier1.get("/me", expect=200)  # this one stays
    Api(client).post("/auth/token", {"username": "tier1.clerk", "password": PASSWORD}, expect=401)
    login(client, "tier1.clerk", "a new password")

    card_id = members.cards["tier1"]
    path = f"/me/cards/{card_id}/pin"
    assert tier1.post(path, {"old_pin": "999999", "new_pin": NEW_PIN}, expect=403)["error"] == "wrong_pin"
    tier1.post(path, {"old_pin": PIN, "new_pin": NEW_PIN}, expect=200)
    ticket = _issue(members, "INV-S2")
    assert tier1.post(f"/tickets/{ticket['id']}/accept", {"pin": PIN}, expect=403)["error"] == "wrong_pin"
    tier1.post(f"/tickets/{ticket['id']}/accept", {"pin": NEW_PIN}, expect=200)


def test_a_replacement_is_finished_by_the_user_with_their_pin(members, client):
    tier1 = members["tier1"]
    old = members.cards["tier1"]
    certificate = tier1.get("/me")["cards"][0]
    members.operator.post(
        f"/cards/{old}/replace", {"operator_password": "wrong operator password", "desk_pin": OPERATOR_PIN},
        expect=403,
    )  # fmt: skip
    refused = members.operator.post(
        f"/cards/{old}/replace",
        {"operator_password": OPERATOR_PASSWORD, "desk_pin": OPERATOR_PIN, "pin": PIN},
        expect=400,
    )
    assert refused["error"] == "invalid_input"
    started = members.operator.post(
        f"/cards/{old}/replace",
        {"operator_password": OPERATOR_PASSWORD, "desk_pin": OPERATOR_PIN},
        expect=201,
    )
    assert started["status"] == "awaiting_recovery"
    new = started["card_id"]
    members.operator.post(f"/me/cards/{new}/recover", {"pin": PIN}, expect=403)  # not the desk's to finish
    assert tier1.post(f"/me/cards/{new}/recover", {"pin": "999999"}, expect=403)["error"] == "wrong_pin"
    done = tier1.post(f"/me/cards/{new}/recover", {"pin": PIN}, expect=200)
    assert done["status"] == "active" and done["certificate_pem"]
    cards = {card["card_id"]: card["status"] for card in tier1.get("/me")["cards"]}
    assert cards == {old: "replaced", new: "active"}, (cards, certificate)
    ticket = _issue(members, "INV-S3")
    tier1.post(f"/tickets/{ticket['id']}/accept", {"pin": PIN}, expect=200)


def test_the_desk_cannot_log_in_or_sign_as_a_user_it_creates(client):
    """The attack as it was: the desk creates a user with a password and a card with a PIN of
    its choosing, then logs in and signs as that user. Needs only the operator's own login."""
    operator = login(client, "operator", OPERATOR_PASSWORD)
    operator.post(
        "/orgs", {"id": "s9", "name": "供应商九", "role": "supplier", "desk_pin": OPERATOR_PIN}, expect=201
    )
    chosen = "desk chosen password"
    answer = operator.post(
        "/users",
        {
            "org_id": "s9",
            "username": "s9.clerk",
            "password": chosen,
            "role": "clerk",
            "desk_pin": OPERATOR_PIN,
        },
    )
    assert operator.last.status_code == 400, answer
    operator.post(
        "/users", {"org_id": "s9", "username": "s9.clerk", "role": "clerk", "desk_pin": OPERATOR_PIN}
    )
    Api(client).post("/auth/token", {"username": "s9.clerk", "password": chosen}, expect=401)
    answer = operator.post("/cards", {"user_id": "s9.clerk", "pin": PIN, "desk_pin": OPERATOR_PIN})
    assert operator.last.status_code == 400, answer
    card = operator.post("/cards", {"user_id": "s9.clerk", "desk_pin": OPERATOR_PIN}, expect=201)
    assert card["status"] == "awaiting_pin"
    operator.post(f"/me/cards/{card['card_id']}/pin", {"new_pin": PIN}, expect=403)


def test_the_services_refuse_a_weak_password_whatever_the_api_checked(members, portal):
    """The CLI and the portal reach accounts without the API's schema: a password under 10 or
    over 256 characters is refused there too, on activation and on change, and changes nothing."""
    created = _new_user(members, username="tier1.weak")
    for weak in ("short", "x" * 257, 1234567890):
        with pytest.raises(d.InvalidInputError):
            accounts.activate(portal, "tier1.weak", created["activation_code"], weak, "127.0.0.9")
    token = accounts.login(portal, "tier1.clerk", PASSWORD, "127.0.0.9")["token"]
    actor = accounts.authenticate(portal, token)
    for weak in ("short", "x" * 257):
        with pytest.raises(d.InvalidInputError):
            accounts.change_password(portal, actor, token, PASSWORD, weak, "127.0.0.9")
    accounts.login(portal, "tier1.clerk", PASSWORD, "127.0.0.9")  # the password did not change
    accounts.activate(portal, "tier1.weak", created["activation_code"], "a long enough one", "127.0.0.9")


def test_the_desk_cannot_disable_or_reset_its_own_login(members, portal):
    """Disabling or resetting the acting operator admin's own login is refused: another operator
    admin does it (the desk would otherwise hand itself a fresh activation code)."""
    token = accounts.login(portal, "operator", OPERATOR_PASSWORD, "127.0.0.9")["token"]
    operator = accounts.authenticate(portal, token)
    for action in (accounts.disable_user, accounts.reset_password):
        with pytest.raises(d.ForbiddenError):
            action(portal, operator, desk_pin=OPERATOR_PIN, username="operator")
    assert accounts.authenticate(portal, token).username == "operator"
    accounts.login(portal, "operator", OPERATOR_PASSWORD, "127.0.0.9")


def test_the_services_refuse_a_malformed_activation_before_counting_it(members, portal):
    """A username or code that is not a string, or a code over 64 characters, is bad input (the
    CLI and portal reach accounts without the API's schema), not a wrong code: no try counted."""
    created = _new_user(members, username="tier1.odd")
    for username, code in (
        ("tier1.odd", "x" * 65),
        (["tier1.odd"], created["activation_code"]),
        ("tier1.odd", 7),
    ):
        with pytest.raises(d.InvalidInputError):
            accounts.activate(portal, username, code, "a long enough one", "127.0.0.10")
    accounts.activate(portal, "tier1.odd", created["activation_code"], "a long enough one", "127.0.0.10")


def test_a_password_change_states_the_old_password_and_a_new_one(members, portal):
    """The old password over 256 characters or not a string is bad input, not a counted wrong
    password; the new one equal to the old is a rule violation; neither changes anything."""
    token = accounts.login(portal, "tier1.clerk", PASSWORD, "127.0.0.11")["token"]
    actor = accounts.authenticate(portal, token)
    for old in ("x" * 257, None, 1234567890123):
        with pytest.raises(d.InvalidInputError):
            accounts.change_password(portal, actor, token, old, "a brand new password", "127.0.0.11")
    with pytest.raises(d.RuleViolationError):
        accounts.change_password(portal, actor, token, PASSWORD, PASSWORD, "127.0.0.11")
    accounts.login(portal, "tier1.clerk", PASSWORD, "127.0.0.11")


def test_a_malformed_login_is_bad_input_and_a_user_is_created_once(members, portal):
    """A login whose username or password is not a string, or a password over 256 characters,
    is bad input at the services (not a counted wrong password); a second activation for an
    existing user is a conflict and leaves the first one's code working."""
    for username, password in (("tier1.clerk", "x" * 257), (["tier1.clerk"], PASSWORD), ("tier1.clerk", 7)):
        with pytest.raises(d.InvalidInputError):
            accounts.login(portal, username, password, "127.0.0.12")
    accounts.login(portal, "tier1.clerk", PASSWORD, "127.0.0.12")
    first = accounts.issue_activation(portal, username="tier1.once", org_id="tier1", role="clerk")
    with pytest.raises(d.StateConflictError):
        accounts.issue_activation(portal, username="tier1.once", org_id="tier1", role="clerk")
    accounts.activate(portal, "tier1.once", first["activation_code"], "a long enough one", "127.0.0.12")


def test_the_services_refuse_a_malformed_or_guessable_card_pin(members, portal):
    """The card's user sets its PIN through the services (as the portal and the CLI do, without
    the API's schema): anything but 6 to 12 digits is bad input; in production a PIN anyone
    would try first (a repeated digit, a run, a repeated pattern) is refused too. Each refusal
    leaves the card waiting for its PIN; a good PIN then sets it."""
    import dataclasses

    from goldticket.services import cards

    created = _new_user(members, username="tier1.pins")
    activate(members.client, "tier1.pins", created["activation_code"])
    card = members.operator.post("/cards", {"user_id": "tier1.pins", "desk_pin": OPERATOR_PIN}, expect=201)
    platform = portal.platform
    actor = platform.actor("tier1.pins")
    serial = card["card_id"]
    for bad in ("12345", "1234567890123", "12a456", "", 135790, None):
        with pytest.raises(d.InvalidInputError, match="6 to 12 digits"):
            cards.set_pin(platform, actor, serial, bad)  # type: ignore[arg-type]
    assert platform.cards.registry.get(serial).status == "OPENED"
    test_settings = platform.settings
    platform.settings = dataclasses.replace(test_settings, env="prod", today=None)
    try:
        for guessable in ("111111", "123456", "987654", "121212", "123123"):
            with pytest.raises(d.InvalidInputError, match="too easy to guess"):
                cards.set_pin(platform, actor, serial, guessable)
    finally:
        platform.settings = test_settings
    assert platform.cards.registry.get(serial).status == "OPENED"
    assert cards.set_pin(platform, actor, serial, "111111")["status"]  # dev and test: any 6 digits
