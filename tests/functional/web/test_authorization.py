"""The authorization matrix: every write endpoint x every role (operator, core, the holder, a
supplier of another chain position, a bank). Each call carries a WRONG PIN: an actor the
services allow reaches the card and gets ``wrong_pin``; any other actor is refused with
``forbidden`` before a card is touched. Without the services' role checks the refused actors
would reach the card too (and get ``wrong_pin``), so every row fails if its check is removed.
"""

from __future__ import annotations

import pytest
from apiclient import MATURITY, invoice
from support import PIN

pytestmark = pytest.mark.functional

WRONG = "000000"
ACTORS = ("operator", "core", "tier1", "tier2", "bank")


def _issue(members, number, payee="tier1", amount=1_000_000):
    return members["core"].post(
        "/tickets",
        {
            "payee_org_id": payee,
            "amount_fen": amount,
            "maturity_date": MATURITY.isoformat(),
            "invoices": [invoice(number, amount)],
            "pin": PIN,
        },
        expect=201,
    )


@pytest.fixture
def objects(members, accepted):
    tier1 = members["tier1"]
    pending = _issue(members, "INV-P")
    offered = _issue(members, "INV-O")
    tier1.post(f"/tickets/{offered['id']}/accept", {"pin": PIN}, expect=200)
    offer = tier1.post(
        f"/tickets/{offered['id']}/transfers", {"to_org_id": "tier2", "amount_fen": 1, "pin": PIN}, expect=201
    )
    financed = _issue(members, "INV-F")
    tier1.post(f"/tickets/{financed['id']}/accept", {"pin": PIN}, expect=200)
    application = tier1.post(
        f"/tickets/{financed['id']}/financing",
        {"bank_org_id": "bank", "amount_fen": 1, "max_annual_rate_bp": 1_000, "pin": PIN},
        expect=201,
    )
    line = members["bank"].post(
        "/credit-lines", {"core_org_id": "core", "limit_fen": 7, "pin": PIN}, expect=201
    )
    return {
        "line": line["id"],
        "active": accepted["id"],
        "pending": pending["id"],
        "offer": offer["offer_id"],
        "application": application["application_id"],
    }


def _matrix(o):
    """(method, path, body, the orgs allowed)."""
    signed = {"pin": WRONG}
    return [
        ("POST", "/credit-lines", {"core_org_id": "core", "limit_fen": 100, **signed}, {"bank"}),
        ("POST", f"/credit-lines/{o['line']}/accept", signed, {"core"}),
        ("POST", f"/credit-lines/{o['line']}/decline", signed, {"core"}),
        (
            "POST",
            "/tickets",
            {
                "payee_org_id": "tier1",
                "amount_fen": 100,
                "maturity_date": MATURITY.isoformat(),
                "invoices": [invoice("INV-M", 100)],
                **signed,
            },
            {"core"},
        ),
        ("POST", f"/tickets/{o['pending']}/accept", signed, {"tier1"}),
        ("POST", f"/tickets/{o['pending']}/reject", {"reason": "no", **signed}, {"tier1"}),
        ("POST", f"/tickets/{o['pending']}/cancel", signed, {"core"}),
        (
            "POST",
            f"/tickets/{o['active']}/transfers",
            {"to_org_id": "tier2", "amount_fen": 1, **signed},
            {"tier1"},
        ),
        (
            "POST",
            f"/tickets/{o['active']}/financing",
            {"bank_org_id": "bank", "amount_fen": 1, "max_annual_rate_bp": 1_000, **signed},
            {"tier1"},
        ),
        ("POST", f"/offers/{o['offer']}/accept", signed, {"tier2"}),
        ("POST", f"/offers/{o['offer']}/reject", signed, {"tier2"}),
        ("POST", f"/offers/{o['offer']}/cancel", signed, {"tier1"}),
        (
            "POST",
            f"/financing/{o['application']}/approve",
            {"annual_rate_bp": 300, "value_date": "2026-12-01", **signed},
            {"bank"},
        ),
        ("POST", f"/financing/{o['application']}/reject", {"reason": "no", **signed}, {"bank"}),
        (
            "POST",
            f"/financing/{o['application']}/registration",
            {"registration_number": "ZD-1", **signed},
            {"bank"},
        ),
        ("POST", f"/tickets/{o['active']}/settle", signed, {"core"}),
        ("POST", f"/tickets/{o['active']}/freeze", {"reason": "court", **signed}, {"operator"}),
        ("POST", f"/tickets/{o['active']}/unfreeze", signed, {"operator"}),
    ]


def test_every_ledger_write_checks_the_role_before_the_card(members, objects, portal):
    registry = portal.platform.cards.registry
    apis = {"operator": members.operator, **members.users}
    height = portal.platform.ledger.height()
    for method, path, body, allowed in _matrix(objects):
        for org in ACTORS:
            answer = apis[org].call(method, path, body)
            expected = "wrong_pin" if org in allowed else "forbidden"
            assert (answer["error"], apis[org].last.status_code) == (expected, 403), (path, org, answer)
            username = "operator" if org == "operator" else dict(members.usernames)[org]
            registry.unlock(registry.active_card(username).serial)
    assert portal.platform.ledger.height() == height  # nothing was written


# Each attacker gives their own card's PIN as desk_pin: a right PIN of a non-operator opens no desk.
DESK = [
    ("POST", "/orgs", {"name": "新公司", "role": "supplier", "desk_pin": PIN}),
    (
        "POST",
        "/users",
        {"org_id": "tier1", "username": "tier1.second", "desk_pin": PIN},
    ),
    ("POST", "/cards", {"user_id": "tier1.clerk", "desk_pin": PIN}),
    ("POST", "/cards/BS0000000000000000/report-lost", {"desk_pin": PIN}),
    ("POST", "/cards/BS0000000000000000/unlock", {"desk_pin": PIN}),
    ("POST", "/cards/BS0000000000000000/replace", {"operator_password": "x", "desk_pin": PIN}),
    ("DELETE", "/cards/BS0000000000000000", {"desk_pin": PIN}),
]


@pytest.mark.parametrize(("method", "path", "body"), DESK)
def test_only_the_operator_desk_runs_the_desk(members, method, path, body, portal):
    height = portal.platform.ledger.height()
    for org in ("core", "tier1", "tier2", "bank"):
        answer = members[org].call(method, path, body)
        assert (members[org].last.status_code, answer["error"]) == (403, "forbidden"), (org, answer)
    assert portal.platform.ledger.height() == height


def test_members_read_only_the_trees_they_take_part_in(members, accepted):
    ticket_id = accepted["id"]
    for org in ("core", "tier1"):
        assert members[org].get(f"/tickets/{ticket_id}", expect=200)["id"] == ticket_id
    members.operator.get(f"/tickets/{ticket_id}", expect=200)
    for org in ("tier2", "bank"):
        assert members[org].get(f"/tickets/{ticket_id}", expect=404)["error"] == "not_found"
        members[org].get(f"/tickets/{ticket_id}/history", expect=404)
        members[org].get(f"/tickets/{ticket_id}/lineage", expect=404)
        assert members[org].get("/tickets?holder_org_id=tier1", expect=200)["total"] == 0
    assert members["tier1"].get("/tickets?holder_org_id=tier1", expect=200)["total"] == 1
    # once tier2 is offered a piece it takes part in the tree and reads it
    members["tier1"].post(
        f"/tickets/{ticket_id}/transfers", {"to_org_id": "tier2", "amount_fen": 5, "pin": PIN}, expect=201
    )
    members["tier2"].get(f"/tickets/{ticket_id}", expect=200)
    assert members["bank"].get("/credit-lines", expect=200)["total"] == 1
    assert members["tier1"].get("/credit-lines", expect=200)["total"] == 0


def test_tokens_expire_and_are_revoked(members, client, portal):
    tier1 = members["tier1"]
    tier1.get("/auth/me", expect=200)
    tier1.call("DELETE", "/auth/token", expect=200)
    assert tier1.get("/auth/me", expect=401)["error"] == "unauthenticated"
    from apiclient import login
    from sqlalchemy import update

    from goldticket.store.models import Token

    fresh = login(client, "tier2.clerk")
    fresh.get("/auth/me", expect=200)
    with portal.database.session() as session:
        import datetime as dt

        session.execute(update(Token).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
    assert fresh.get("/auth/me", expect=401)["error"] == "unauthenticated"
    assert tier1.__class__(client, "not-a-token").get("/tickets", expect=401)["error"] == "unauthenticated"
    assert tier1.__class__(client).get("/tickets", expect=401)["error"] == "unauthenticated"


def test_logins_are_rate_limited(members, client, portal):
    from apiclient import PASSWORD, Api

    anonymous = Api(client)
    for _ in range(5):
        body = anonymous.post(
            "/auth/token", {"username": "tier1.clerk", "password": "wrong password"}, expect=401
        )
        assert body["error"] == "unauthenticated"
    body = anonymous.post("/auth/token", {"username": "tier1.clerk", "password": PASSWORD}, expect=429)
    assert body["error"] == "rate_limited"
    anonymous.post("/auth/token", {"username": "tier2.clerk", "password": PASSWORD}, expect=200)
    from sqlalchemy import select

    from goldticket.store.models import Account, Token

    with portal.database.session() as session:
        hashes = session.scalars(select(Account.password_hash)).all()
        tokens = session.scalars(select(Token.token_sha256)).all()
    assert all(value.startswith("$argon2id$") and PASSWORD not in value for value in hashes)
    assert all(len(value) == 64 for value in tokens)
