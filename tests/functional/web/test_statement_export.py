"""#21 exports: a settlement's clearing statement as CSV and XLSX, exact to the fen, with the
lines each party may read: the issuer every line, a holder its own only, anyone else nothing."""

from __future__ import annotations

import csv
import dataclasses
import io
from decimal import Decimal

import openpyxl
import pytest
from apiclient import MATURITY
from support import PIN

pytestmark = pytest.mark.functional


def _get(members, who: str, path: str):
    return members.client.get(path, headers={"Authorization": f"Bearer {members[who].token}"})


def test_the_statement_exports_as_each_party_may_read_it(members, accepted, portal):
    root = accepted["id"]
    offered = members["tier1"].post(
        f"/tickets/{root}/transfers", {"to_org_id": "tier2", "amount_fen": 25_000_001, "pin": PIN}, expect=201
    )
    piece = members["tier2"].post(f"/offers/{offered['offer_id']}/accept", {"pin": PIN}, expect=200)
    portal.platform.settings = dataclasses.replace(portal.platform.settings, today=MATURITY)
    statement = members["core"].post(f"/tickets/{root}/settle", {"pin": PIN}, expect=200)
    path = f"/api/v1/tickets/{root}/statements/{statement['statement_id']}/export"

    answer = _get(members, "core", path + "?format=csv&lang=en")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert "attachment" in answer.headers["Content-Disposition"]
    text = answer.data.decode("utf-8")
    assert text.startswith("\ufeff")  # Excel reads the Chinese names
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == [
        "Statement no.",
        "Root ticket no.",
        "Settled on",
        "Ticket no.",
        "Holder",
        "Amount (yuan)",
        "Outcome",
    ]
    lines = {row[3]: (row[5], row[6]) for row in rows[1:]}
    assert lines == {
        piece["remainder"]["id"]: ("749999.99", "paid"),
        piece["transferred"]["id"]: ("250000.01", "paid"),
    }
    assert sum(Decimal(amount) for amount, _ in lines.values()) == Decimal(statement["total_paid_fen"]) / 100

    # XLSX: amounts are numbers to the fen, the date a date
    answer = _get(members, "core", path + "?format=xlsx")
    assert answer.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(answer.data)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0] == "清分单号"
    assert sorted(Decimal(str(row[5])).quantize(Decimal("0.01")) for row in values[1:]) == [
        Decimal("250000.01"),
        Decimal("749999.99"),
    ]
    assert values[1][2].date().isoformat() == statement["settled_on"]

    # a holder its own line only; a bank outside the settlement nothing
    answer = _get(members, "tier2", path + "?format=csv&lang=en")
    assert answer.status_code == 200
    rows = list(csv.reader(io.StringIO(answer.data.decode("utf-8").lstrip("\ufeff"))))
    assert [row[3] for row in rows[1:]] == [piece["transferred"]["id"]]
    refused = _get(members, "bank", path)
    assert refused.status_code == 403 and refused.get_json()["error"] == "forbidden"
    # bad input: a clear 400, nothing else
    bad = _get(members, "core", path + "?format=pdf")
    assert bad.status_code == 400 and bad.get_json()["error"]


def test_the_statement_page_offers_its_exports_to_each_party(app, members, accepted, portal):
    from test_portal_pages import portal_login

    root = accepted["id"]
    portal.platform.settings = dataclasses.replace(portal.platform.settings, today=MATURITY)
    statement = members["core"].post(f"/tickets/{root}/settle", {"pin": PIN}, expect=200)
    page = f"/tickets/{root}/statements/{statement['statement_id']}"
    for username in ("core.clerk", "tier1.clerk"):
        browser = portal_login(app, username)
        html = browser.get(page).get_data(as_text=True)
        assert 'id="statement-csv"' in html and 'id="statement-xlsx"' in html
        answer = browser.get(page + "/export/xlsx")
        assert answer.status_code == 200, username
        assert answer.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        sheet = openpyxl.load_workbook(io.BytesIO(answer.data)).active
        assert len(list(sheet.iter_rows(values_only=True))) == 2  # the header and the one piece
        assert browser.get(page + "/export/pdf").status_code == 404
    outsider = portal_login(app, "bank.credit")
    assert outsider.get(page + "/export/csv").status_code in (403, 404)
