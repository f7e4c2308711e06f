"""API details: the error shape for bad input, idempotency keys, 16 concurrent transfers of
one ticket, the read model's rebuild, health, metrics and the OpenAPI document."""

from __future__ import annotations

import threading

import pytest
from apiclient import Api, invoice
from support import PIN

pytestmark = pytest.mark.functional


def _transfer(ticket_id, amount=1, **extra):
    return (
        f"/tickets/{ticket_id}/transfers",
        {"to_org_id": "tier2", "amount_fen": amount, "pin": PIN, **extra},
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"to_org_id": "tier2", "amount_fen": 1.5, "pin": PIN}, "amount_fen"),
        ({"to_org_id": "tier2", "amount_fen": 1.0000001, "pin": PIN}, "amount_fen"),  # 1.0 is 1
        ({"to_org_id": "tier2", "amount_fen": "100", "pin": PIN}, "amount_fen"),
        ({"to_org_id": "tier2", "amount_fen": 10**30, "pin": PIN}, "amount_fen"),
        ({"to_org_id": "tier2", "amount_fen": 0, "pin": PIN}, "amount_fen"),
        ({"to_org_id": "tier2", "amount_fen": -5, "pin": PIN}, "amount_fen"),
        ({"to_org_id": "tier2", "amount_fen": True, "pin": PIN}, "amount_fen"),
        ({"to_org_id": "tier2", "amount_fen": 1, "pin": "12ab56"}, "pin"),
        ({"to_org_id": "tier2", "amount_fen": 1}, "pin"),
        ({"to_org_id": "tier2", "amount_fen": 1, "pin": PIN, "extra": 1}, "extra"),
        ([1, 2, 3], "body"),
    ],
)
def test_bad_bodies_are_400_and_change_nothing(members, accepted, portal, body, message):
    height = portal.platform.ledger.height()
    answer = members["tier1"].post(f"/tickets/{accepted['id']}/transfers", body, expect=400)
    assert answer["error"] == "invalid_input" and message in answer["message"]
    assert PIN not in answer["message"] and "12ab56" not in answer["message"]
    assert portal.platform.ledger.height() == height


def test_malformed_and_oversized_bodies(members, accepted, client):
    headers = {"Authorization": f"Bearer {members['tier1'].token}"}
    path = f"/api/v1/tickets/{accepted['id']}/transfers"
    cases = [
        (b"{not json", "application/json", 400, "invalid_input"),
        (b'{"amount_fen": 1', "application/json", 400, "invalid_input"),
        (b"amount_fen=1", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
        (b'{"pin": "' + b"1" * 300_000 + b'"}', "application/json", 413, "payload_too_large"),
    ]
    for data, content_type, status, code in cases:
        response = client.post(path, data=data, content_type=content_type, headers=headers)
        assert (response.status_code, response.get_json()["error"]) == (status, code)
    issue = {
        "payee_org_id": "tier1",
        "amount_fen": 100,
        "maturity_date": "2026-02-30",
        "invoices": [invoice("INV-D", 100)],
        "pin": PIN,
    }
    assert members["core"].post("/tickets", issue, expect=400)["error"] == "invalid_input"
    issue["maturity_date"] = "2030-01-01"
    assert members["core"].post("/tickets", issue, expect=422)["error"] == "rule_violation"
    for path, method, status, code in [
        ("/api/v1/nothing-here", "GET", 404, "not_found"),
        ("/api/v1/tickets", "DELETE", 405, "method_not_allowed"),
        ("/api/v1/tickets/TKnone", "GET", 404, "not_found"),
    ]:
        response = client.open(path, method=method, headers=headers)
        assert (response.status_code, response.get_json()["error"]) == (status, code)
    tier1 = members["tier1"]
    assert tier1.get("/tickets?per_page=501", expect=400)["error"] == "invalid_input"
    assert tier1.get("/tickets?page=1.5", expect=400)["error"] == "invalid_input"
    assert tier1.get("/tickets?status=NOPE", expect=400)["error"] == "invalid_input"
    path, body = _transfer(accepted["id"], amount=100_000_001)
    assert tier1.post(path, body, expect=422)["error"] == "rule_violation"
    path, body = _transfer("TKnothing")
    assert tier1.post(path, body, expect=404)["error"] == "not_found"


def test_idempotency_keys(members, accepted, portal):
    tier1 = members["tier1"]
    path, body = _transfer(accepted["id"], amount=10)
    first = tier1.post(path, body, expect=201, **{"Idempotency-Key": "k-1"})
    height = portal.platform.ledger.height()
    again = tier1.post(path, body, expect=201, **{"Idempotency-Key": "k-1"})
    assert again == first and tier1.last.headers["Idempotent-Replayed"] == "true"
    assert portal.platform.ledger.height() == height
    other = {**body, "amount_fen": 11}
    assert tier1.post(path, other, expect=409, **{"Idempotency-Key": "k-1"})["error"] == "conflict"
    # a refused request does not use up its key: the retry runs
    path2, body2 = _transfer(accepted["id"], amount=5)
    assert tier1.post(path2, {**body2, "pin": "000000"}, expect=403, **{"Idempotency-Key": "k-2"})
    tier1.post(f"/offers/{first['offer_id']}/cancel", {"pin": PIN}, expect=200)
    tier1.post(path2, body2, expect=201, **{"Idempotency-Key": "k-2"})
    # keys belong to their user
    members["core"].post("/tickets/none/cancel", {"pin": PIN}, expect=404, **{"Idempotency-Key": "k-1"})
    from sqlalchemy import select

    from goldticket.store.models import IdempotencyRecord

    with portal.database.session() as session:
        stored = " ".join(row.response or "" for row in session.scalars(select(IdempotencyRecord)))
    assert PIN not in stored


def test_a_retry_after_a_crash_returns_the_committed_result(members, accepted, portal):
    """The first attempt committed but its process died before answering: the record is
    pending under a dead owner with the transaction noted; the retry answers from the ledger."""
    from goldticket.services import idempotency
    from goldticket.store.models import IdempotencyRecord

    tier1 = members["tier1"]
    path, body = _transfer(accepted["id"], amount=7)
    first = tier1.post(path, body, expect=201, **{"Idempotency-Key": "crash-1"})
    with portal.database.session(immediate=True) as session:  # it writes
        row = session.get(IdempotencyRecord, ("tier1.clerk", "crash-1"))
        assert row.tx_ids and row.state == "done"
        row.state, row.response, row.owner = "pending", None, f"{idempotency.HOST}:999999999:dead"
    height = portal.platform.ledger.height()
    again = tier1.post(path, body, expect=201, **{"Idempotency-Key": "crash-1"})
    assert again["offer_id"] == first["offer_id"] and again["ticket"]["id"] == first["ticket"]["id"]
    assert portal.platform.ledger.height() == height


def test_sixteen_concurrent_transfers_one_wins(app, members, accepted, portal):
    token = members["tier1"].token
    path, body = _transfer(accepted["id"], amount=40_000_000)
    results = []
    barrier = threading.Barrier(16)

    def attempt():
        api = Api(app.test_client(), token)
        barrier.wait()
        answer = api.post(path, body)
        results.append((api.last.status_code, answer))

    threads = [threading.Thread(target=attempt) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(status for status, _ in results)
    assert statuses == [201] + [409] * 15, results
    offer_id = next(answer["offer_id"] for status, answer in results if status == 201)
    moved = members["tier2"].post(f"/offers/{offer_id}/accept", {"pin": PIN}, expect=200)
    assert moved["transferred"]["amount_fen"] + moved["remainder"]["amount_fen"] == 100_000_000


def test_rebuilding_the_read_model_gives_the_same_state(members, accepted, portal):
    tier1 = members["tier1"]
    offer = tier1.post(*_transfer(accepted["id"], amount=3), expect=201)
    members["tier2"].post(f"/offers/{offer['offer_id']}/accept", {"pin": PIN}, expect=200)
    before = _snapshot(members, accepted["id"])
    assert portal.follower.rebuild() == portal.platform.ledger.height()
    assert _snapshot(members, accepted["id"]) == before


def _snapshot(members, root_id):
    operator = members.operator
    return (
        operator.get(f"/tickets?root_id={root_id}"),
        operator.get(f"/tickets/{root_id}/history"),
        operator.get(f"/tickets/{root_id}/lineage"),
        operator.get("/credit-lines"),
        operator.get("/orgs"),
    )


def test_health_metrics_and_openapi(client, members, portal):
    health = client.get("/healthz").get_json()
    assert health == {
        "status": "ok",
        "ledger": portal.platform.ledger.kind,
        "height": portal.platform.ledger.height(),
        "signer": "in_process" if portal.platform.gateway is None else "ok",
    }
    assert client.get("/api/v1/healthz").get_json() == health
    metrics = client.get("/metrics").get_data(as_text=True)
    assert "goldticket_ledger_height" in metrics and "goldticket_follower_lag_blocks 0.0" in metrics
    assert 'goldticket_http_requests_total{method="GET",route="/healthz",status="200"}' in metrics
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.1")
    issue = doc["paths"]["/api/v1/tickets"]["post"]
    schema = doc["components"]["schemas"][
        issue["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    ]
    assert schema["properties"]["amount_fen"]["type"] == "integer"
    assert "/api/v1/offers/{offer_id}/accept" in doc["paths"]
    quote = client.get(
        "/api/v1/quote?amount_fen=100000000&annual_rate_bp=262&value_date=2026-01-01&maturity_date=2026-03-17"
    )
    assert (
        quote.get_json()["discount_interest_fen"] == 545_833
        and quote.get_json()["proceeds_fen"] == 99_454_167
    )
    bad = client.get(
        "/api/v1/quote?amount_fen=1.5&annual_rate_bp=262&value_date=2026-01-01&maturity_date=2026-03-17"
    )
    assert bad.status_code == 400 and bad.get_json()["error"] == "invalid_input"
