"""The OpenAPI document carries the rules the server enforces, so that a client generated from it
(or a fuzzer such as schemathesis) sends what the server takes: the ticket statuses as an enum,
the shape of every id in a path, the rate's real ceiling, no null where a query string cannot
carry one; and the server takes every value the document allows there."""

from __future__ import annotations

import re
import typing

import pytest
from apiclient import MATURITY
from support import OPERATOR_PIN, PIN, TODAY

from goldticket.domain.financing import MAX_RATE_BP
from goldticket.domain.status import TicketStatus
from web.api.schemas import PATH_IDS, Status

pytestmark = pytest.mark.functional


@pytest.fixture
def doc(client):
    return client.get("/api/v1/openapi.json").get_json()


def _query(doc, path: str, name: str) -> dict:
    parameters = doc["paths"][path]["get"]["parameters"]
    return next(p for p in parameters if p["name"] == name and p["in"] == "query")["schema"]


def test_the_status_filter_is_an_enum_of_every_stored_status(doc, members, accepted):
    assert set(typing.get_args(Status)) == {status.value for status in TicketStatus}
    schema = _query(doc, "/api/v1/tickets", "status")
    assert schema["type"] == "string" and set(schema["enum"]) == {status.value for status in TicketStatus}
    tier1 = members["tier1"]
    for status in schema["enum"]:
        tier1.get(f"/tickets?status={status}", expect=200)
    assert tier1.get("/tickets?status=ACTIVE", expect=200)["total"] == 1
    assert tier1.get("/tickets?status=OVERDUE", expect=400)["error"] == "invalid_input"


def test_no_query_parameter_is_described_as_null(doc):
    for path, methods in doc["paths"].items():
        for operation in methods.values():
            for parameter in operation.get("parameters", []):
                text = repr(parameter["schema"])
                assert "'null'" not in text and "None" not in text, (path, parameter)


def test_every_path_id_has_the_shape_of_the_ids_the_server_makes(doc, members, accepted):
    for path, methods in doc["paths"].items():
        for operation in methods.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path":
                    assert "pattern" in parameter["schema"], (path, parameter)
    tier1, tier2, bank = members["tier1"], members["tier2"], members["bank"]
    offer = tier1.post(
        f"/tickets/{accepted['id']}/transfers",
        {"to_org_id": "tier2", "amount_fen": 100, "pin": PIN},
        expect=201,
    )
    piece = tier2.post(f"/offers/{offer['offer_id']}/accept", {"pin": PIN}, expect=200)["transferred"]
    applied = tier2.post(
        f"/tickets/{piece['id']}/financing",
        {"bank_org_id": "bank", "amount_fen": 100, "max_annual_rate_bp": 500, "pin": PIN},
        expect=201,
    )
    made = {
        "ticket_id": [accepted["id"], piece["id"]],
        "root_id": [piece["root_id"]],
        "offer_id": [offer["offer_id"]],
        "application_id": [applied["application_id"]],
        "card_id": list(members.cards.values()),
    }
    certificate = members.client.get(
        f"/api/v1/tickets/{piece['id']}/certificate", headers={"Authorization": f"Bearer {tier2.token}"}
    )
    made["certificate_id"] = [certificate.headers["X-Certificate-Id"]]
    for name, values in made.items():
        for value in values:
            assert re.fullmatch(PATH_IDS[name].strip("^$"), value), (name, value)
    # a shape the document allows but nothing has: not found, never a server error
    assert bank.get(f"/tickets/TK{'0' * 20}", expect=404)["error"] == "not_found"
    operator = members.operator
    assert operator.post(f"/cards/BS{'0' * 16}/report-lost", {"desk_pin": OPERATOR_PIN}, expect=404)


def test_the_rate_ceiling_is_the_servers(doc, client):
    schema = _query(doc, "/api/v1/quote", "annual_rate_bp")
    assert schema["maximum"] == MAX_RATE_BP
    approval = doc["components"]["schemas"]["Approval"]["properties"]["annual_rate_bp"]
    assert approval["maximum"] == MAX_RATE_BP
    dates = f"value_date={TODAY}&maturity_date={MATURITY}"
    top = client.get(f"/api/v1/quote?amount_fen=100000000&annual_rate_bp={MAX_RATE_BP}&{dates}")
    assert top.status_code == 200
    over = client.get(f"/api/v1/quote?amount_fen=100000000&annual_rate_bp={MAX_RATE_BP + 1}&{dates}")
    assert over.status_code == 400 and over.get_json()["error"] == "invalid_input"
    assert "before the maturity date" in doc["paths"]["/api/v1/quote"]["get"]["description"]
