"""#21 overdue and recourse over the API: recourse chosen at financing, the piece marked overdue
after maturity plus grace days (422 before, nothing written), a demand of an earlier holder only
with recourse (403 otherwise), its signed PDF whose SHA-256 is the ledger's, the overdue list of
each party, and closing the demand."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib

import pytest
from apiclient import MATURITY
from support import PIN, TODAY

pytestmark = pytest.mark.functional


def test_recourse_overdue_demand_and_close(members, accepted, portal) -> None:
    root = accepted["id"]
    applied = members["tier1"].post(
        f"/tickets/{root}/financing",
        {
            "bank_org_id": "bank",
            "amount_fen": 30_000_000,
            "max_annual_rate_bp": 600,
            "recourse": True,
            "pin": PIN,
        },
        expect=201,
    )
    members["tier1"].post(
        f"/tickets/{root}/financing",
        {"bank_org_id": "bank", "amount_fen": 1, "max_annual_rate_bp": 600, "recourse": "yes", "pin": PIN},
        expect=400,
    )
    members["bank"].post(
        f"/financing/{applied['application_id']}/registration",
        {"registration_number": f"ZD-{applied['application_id']}", "pin": PIN},
        expect=201,
    )
    approved = members["bank"].post(
        f"/financing/{applied['application_id']}/approve",
        {"annual_rate_bp": 500, "value_date": TODAY.isoformat(), "pin": PIN},
        expect=200,
    )
    piece = approved["financed"]["id"]
    settings = portal.platform.settings
    portal.platform.settings = dataclasses.replace(settings, today=MATURITY + dt.timedelta(days=3))
    members["bank"].post(f"/tickets/{piece}/overdue", {"pin": PIN}, expect=422)  # the last grace day
    assert members["bank"].get(f"/tickets/{piece}/overdue", expect=200)["overdue"] is None
    portal.platform.settings = dataclasses.replace(settings, today=MATURITY + dt.timedelta(days=4))
    members["tier1"].post(f"/tickets/{piece}/overdue", {"pin": PIN}, expect=403)
    marked = members["bank"].post(f"/tickets/{piece}/overdue", {"pin": PIN}, expect=201)
    assert marked["unpaid_fen"] == 30_000_000
    detail = members["core"].get(f"/tickets/{piece}/overdue", expect=200)
    assert detail["obligors"] == {"core": "issuer", "tier1": "recourse"}
    members["tier2"].get(f"/tickets/{piece}/overdue", expect=404)
    members["bank"].post(f"/tickets/{piece}/demands", {"obligor_org_id": "tier2", "pin": PIN}, expect=403)
    members["tier1"].post(f"/tickets/{piece}/demands", {"obligor_org_id": "core", "pin": PIN}, expect=403)
    demand = members["bank"].post(
        f"/tickets/{piece}/demands", {"obligor_org_id": "tier1", "pin": PIN}, expect=201
    )
    assert (demand["amount_fen"], demand["basis"], demand["status"]) == (30_000_000, "recourse", "OPEN")
    token = members["tier1"].token
    response = members.client.get(
        f"/api/v1/tickets/{piece}/demands/{demand['demand_id']}/document",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert hashlib.sha256(response.data).hexdigest() == demand["document_sha256"]
    assert [item["ticket_id"] for item in members["tier1"].get("/overdue", expect=200)["items"]] == [piece]
    assert members["tier2"].get("/overdue", expect=200)["items"] == []
    close = f"/tickets/{piece}/demands/{demand['demand_id']}/close"
    members["tier1"].post(close, {"outcome": "written_off", "pin": PIN}, expect=403)
    closed = members["bank"].post(close, {"outcome": "written_off", "pin": PIN}, expect=200)
    assert closed["status"] == "WRITTEN_OFF"
    members["bank"].post(close, {"outcome": "written_off", "pin": PIN}, expect=409)
