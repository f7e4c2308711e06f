"""Issue #17 points 3 and 10 over the API (../shared/API.md, Tickets and Credit): the holder's
signed rate bound is a required field of the application, a bank cannot approve above it, and
every schema's rate limit is the domain's; a bank offers a credit line, the core accepts it, and
each sees only its own lines."""

from __future__ import annotations

import pytest
from apiclient import MATURITY, invoice
from support import PIN, TODAY

from goldticket.domain import MAX_RATE_BP

pytestmark = pytest.mark.functional


def test_a_bank_cannot_approve_above_the_rate_the_holder_signed_over_the_api(members, accepted, portal):
    tier1, bank = members["tier1"], members["bank"]
    path = f"/tickets/{accepted['id']}/financing"
    body = {"bank_org_id": "bank", "amount_fen": 1_000, "pin": PIN}
    height = portal.platform.ledger.height()
    for bound in (None, MAX_RATE_BP + 1, 100_000, "350", 3.5):
        sent = body if bound is None else {**body, "max_annual_rate_bp": bound}
        assert tier1.post(path, sent, expect=400)["error"] == "invalid_input", bound
    assert portal.platform.ledger.height() == height
    applied = tier1.post(path, {**body, "max_annual_rate_bp": 350}, expect=201)
    approve = f"/financing/{applied['application_id']}/approve"
    height = portal.platform.ledger.height()
    assert bank.post(
        approve, {"annual_rate_bp": 100_000, "value_date": TODAY.isoformat(), "pin": PIN}, expect=400
    )
    refused = bank.post(
        approve, {"annual_rate_bp": 351, "value_date": TODAY.isoformat(), "pin": PIN}, expect=422
    )
    assert refused["error"] == "rule_violation" and "3.50 %" in refused["message"]
    assert portal.platform.ledger.height() == height
    bank.post(  # registered (中登网) before it is approved (#21)
        f"/financing/{applied['application_id']}/registration",
        {"registration_number": "ZD-RATE", "registered_at": TODAY.isoformat(), "pin": PIN},
        expect=201,
    )
    approved = bank.post(
        approve, {"annual_rate_bp": 350, "value_date": TODAY.isoformat(), "pin": PIN}, expect=200
    )
    assert approved["proceeds_fen"] > 0


def test_every_rate_in_the_api_schema_has_the_domains_limit(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    found = []

    def walk(node, name=""):
        if isinstance(node, dict):
            if str(node.get("name", "")).endswith("rate_bp") and isinstance(node.get("schema"), dict):
                found.append((node["name"], node["schema"].get("maximum")))
            for key, value in node.items():
                if key.endswith("rate_bp") and isinstance(value, dict):
                    found.append((key, value.get("maximum")))
                walk(value, key)
        elif isinstance(node, list):
            for item in node:
                walk(item, name)

    walk(spec)
    names = {name for name, _ in found}
    assert {"annual_rate_bp", "max_annual_rate_bp"} <= names, found
    assert all(maximum == MAX_RATE_BP for _, maximum in found), found
    assert client.get(
        f"/api/v1/quote?amount_fen=100&annual_rate_bp={MAX_RATE_BP + 1}&value_date=2026-12-01&maturity_date=2027-01-01"
    ).status_code in (400, 401)


def test_a_bank_offers_a_credit_line_and_only_the_core_accepts_it(members, portal):
    core, bank, tier1, tier2 = members["core"], members["bank"], members["tier1"], members["tier2"]
    offered = bank.post(
        "/credit-lines", {"core_org_id": "core", "limit_fen": 500_000, "pin": PIN}, expect=201
    )
    assert (offered["status"], offered["used_fen"], offered["bank_org_id"]) == ("offered", 0, "bank")
    ticket = {
        "payee_org_id": "tier1",
        "amount_fen": 100,
        "maturity_date": MATURITY.isoformat(),
        "invoices": [invoice("CL-API-1", 100)],
        "credit_line_id": offered["id"],
        "pin": PIN,
    }
    assert core.post("/tickets", ticket, expect=422)["error"] == "rule_violation"
    for other in (bank, tier1, tier2):
        other.post(f"/credit-lines/{offered['id']}/accept", {"pin": PIN}, expect=403)
    accepted = core.post(f"/credit-lines/{offered['id']}/accept", {"pin": PIN}, expect=200)
    assert accepted["status"] == "active"
    assert core.post(f"/credit-lines/{offered['id']}/accept", {"pin": PIN}, expect=409)["error"] == "conflict"
    issued = core.post("/tickets", {**ticket, "invoices": [invoice("CL-API-2", 100)]}, expect=201)
    assert issued["credit_line_id"] == offered["id"]
    # each sees its own lines (two banks apart: tests/scenario/test_prices_credit_invoices.py)
    assert core.get("/credit-lines", expect=200)["total"] == 2
    assert bank.get("/credit-lines", expect=200)["total"] == 2
    assert tier1.get("/credit-lines", expect=200)["total"] == 0
