"""GET /api/v1/quote takes its day basis from the query string (text "365"), as the portal's
live quote sends it."""

from __future__ import annotations

from flask.testing import FlaskClient


def test_the_day_basis_comes_from_the_query_string(client: FlaskClient) -> None:
    base = (
        "/api/v1/quote?amount_fen=100000000&annual_rate_bp=365&value_date=2026-01-01&maturity_date=2026-01-11"
    )
    on_365 = client.get(base + "&day_basis=365")
    on_360 = client.get(base + "&day_basis=360")
    assert on_365.status_code == 200 and on_365.get_json()["discount_interest_fen"] == 100_000
    assert on_360.status_code == 200 and on_360.get_json()["discount_interest_fen"] == 101_389
    assert client.get(base + "&day_basis=364").status_code == 400
