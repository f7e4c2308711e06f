"""The whole life cycle over HTTP, as an outside client that follows only API.md would run it."""

from __future__ import annotations

import dataclasses

import pytest
from apiclient import MATURITY
from support import OPERATOR_PASSWORD, OPERATOR_PIN, PIN, TODAY

pytestmark = pytest.mark.functional


def test_life_cycle(members, accepted, portal):
    core, tier1, tier2, bank = (members[org] for org in ("core", "tier1", "tier2", "bank"))
    root = accepted["id"]
    assert accepted["status"] == "ACTIVE" and accepted["amount_fen"] == 100_000_000
    assert {
        "id",
        "root_id",
        "parent_id",
        "issuer_org_id",
        "holder_org_id",
        "amount_fen",
        "issue_date",
        "maturity_date",
        "status",
        "invoices",
        "tx_id",
    } <= set(accepted)

    offered = tier1.post(
        f"/tickets/{root}/transfers", {"to_org_id": "tier2", "amount_fen": 30_000_000, "pin": PIN}, expect=201
    )
    assert (
        offered["ticket"]["status"] == "LOCKED_TRANSFER"
        and offered["ticket"]["offer_id"] == offered["offer_id"]
    )
    moved = tier2.post(f"/offers/{offered['offer_id']}/accept", {"pin": PIN}, expect=200)
    piece, rest = moved["transferred"], moved["remainder"]
    assert (piece["amount_fen"], rest["amount_fen"]) == (30_000_000, 70_000_000)
    assert tier2.get(f"/tickets/{piece['id']}", expect=200)["holder_org_id"] == "tier2"

    quote = tier2.get(
        f"/quote?amount_fen=30000000&annual_rate_bp=262&value_date={TODAY}&maturity_date={MATURITY}",
        expect=200,
    )
    applied = tier2.post(
        f"/tickets/{piece['id']}/financing",
        {"bank_org_id": "bank", "amount_fen": 30_000_000, "max_annual_rate_bp": 1_000, "pin": PIN},
        expect=201,
    )
    assert applied["ticket"]["status"] == "LOCKED_FINANCING"
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
    assert approved["discount_interest_fen"] == quote["discount_interest_fen"]
    assert approved["proceeds_fen"] == quote["proceeds_fen"]
    assert approved["financed"]["status"] == "FINANCED" and approved["remainder"] is None

    frozen = members.operator.post(
        f"/tickets/{rest['id']}/freeze", {"pin": OPERATOR_PIN, "reason": "court order"}, expect=200
    )
    assert frozen["status"] == "FROZEN"
    members.operator.post(f"/tickets/{rest['id']}/unfreeze", {"pin": OPERATOR_PIN}, expect=200)

    # tier1 sees its pieces and what its transfer made, not tier2's financing (issue #17);
    # the issuer, who pays every piece, sees the whole tree
    assert tier1.get(f"/tickets?root_id={root}", expect=200)["total"] == 3
    listed = core.get(f"/tickets?root_id={root}", expect=200)
    assert listed["total"] == 4
    assert (
        sum(t["amount_fen"] for t in listed["items"] if t["status"] in ("ACTIVE", "FINANCED")) == 100_000_000
    )
    history = tier1.get(f"/tickets/{root}/history", expect=200)
    assert [h["action"] for h in history] == ["issue", "accept", "offer_transfer", "accept_transfer"]
    assert all(h["block"] > 0 and h["card_serial"] for h in history)
    tree = tier1.get(f"/tickets/{root}/lineage", expect=200)
    assert [child["ticket"]["amount_fen"] for child in tree["children"]] in (
        [30_000_000, 70_000_000],
        [70_000_000, 30_000_000],
    )

    core.post(f"/tickets/{root}/settle", {"pin": PIN}, expect=422)  # not yet mature
    portal.platform.settings = dataclasses.replace(portal.platform.settings, today=MATURITY)
    statement = core.post(f"/tickets/{root}/settle", {"pin": PIN}, expect=200)
    assert statement["total_paid_fen"] == 100_000_000
    assert {p["holder_org_id"]: p["amount_fen"] for p in statement["paid"]} == {
        "tier1": 70_000_000,
        "bank": 30_000_000,
    }
    lines = core.get("/credit-lines?core_org_id=core", expect=200)
    assert lines["items"][0]["used_fen"] == 0


def test_lost_card_replaced_keeps_signing(members, accepted, client):
    tier1, operator = members["tier1"], members.operator
    serial = members.cards["tier1"]
    assert (
        operator.post(f"/cards/{serial}/report-lost", {"desk_pin": OPERATOR_PIN}, expect=200)["status"]
        == "suspended"
    )
    tier1.post(
        f"/tickets/{accepted['id']}/transfers",
        {"to_org_id": "tier2", "amount_fen": 1, "pin": PIN},
        expect=423,
    )
    started = operator.post(
        f"/cards/{serial}/replace",
        {"operator_password": OPERATOR_PASSWORD, "desk_pin": OPERATOR_PIN},
        expect=201,
    )
    assert started["status"] == "awaiting_recovery"
    new = tier1.post(f"/me/cards/{started['card_id']}/recover", {"pin": PIN}, expect=200)
    assert new["status"] == "active" and new["card_id"] != serial
    tier1.post(
        f"/tickets/{accepted['id']}/transfers",
        {"to_org_id": "tier2", "amount_fen": 1, "pin": PIN},
        expect=201,
    )


def test_five_wrong_pins_lock_the_card(members, accepted):
    tier1 = members["tier1"]
    path = f"/tickets/{accepted['id']}/transfers"
    for _ in range(5):
        body = tier1.post(path, {"to_org_id": "tier2", "amount_fen": 1, "pin": "000000"}, expect=403)
        assert body["error"] == "wrong_pin"
    assert (
        tier1.post(path, {"to_org_id": "tier2", "amount_fen": 1, "pin": PIN}, expect=423)["error"]
        == "card_locked"
    )
    assert tier1.get(f"/tickets/{accepted['id']}", expect=200)["status"] == "ACTIVE"
