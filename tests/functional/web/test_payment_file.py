"""#21 payment at maturity through the bank: the settlement's ISO 20022 pain.001.001.09 file for
the issuer's bank, one credit transfer per paid piece (end-to-end id = the piece) to the
holder's registered settlement account, valid against the official schema, exact to the fen;
the issuer's only."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
import xmlschema
from apiclient import MATURITY
from conftest import member_kyc
from support import PIN

from goldticket.payments import schema

pytestmark = pytest.mark.functional
NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"}


def test_the_issuer_gets_a_valid_payment_file_paying_each_piece_to_its_holder(members, accepted, portal):
    root = accepted["id"]
    offered = members["tier1"].post(
        f"/tickets/{root}/transfers", {"to_org_id": "tier2", "amount_fen": 25_000_001, "pin": PIN}, expect=201
    )
    piece = members["tier2"].post(f"/offers/{offered['offer_id']}/accept", {"pin": PIN}, expect=200)
    portal.platform.settings = dataclasses.replace(portal.platform.settings, today=MATURITY)
    statement = members["core"].post(f"/tickets/{root}/settle", {"pin": PIN}, expect=200)
    path = f"/api/v1/tickets/{root}/statements/{statement['statement_id']}/payment-file"
    core = members["core"]
    answer = members.client.get(path, headers={"Authorization": f"Bearer {core.token}"})
    assert answer.status_code == 200 and answer.mimetype == "application/xml"
    assert "attachment" in answer.headers["Content-Disposition"]
    xml = answer.data.decode()
    schema().validate(xml)  # the official XSD, again, here
    document = xmlschema.XMLResource(xml)
    transfers = document.root.findall(".//p:CdtTrfTxInf", NS)
    paid = {
        t.find("p:PmtId/p:EndToEndId", NS).text: (
            Decimal(t.find("p:Amt/p:InstdAmt", NS).text),
            t.find("p:CdtrAcct/p:Id/p:Othr/p:Id", NS).text,
            t.find("p:CdtrAgt/p:FinInstnId/p:ClrSysMmbId/p:MmbId", NS).text,
        )
        for t in transfers
    }
    tier1, tier2 = member_kyc("tier1 公司", 1), member_kyc("tier2 公司", 2)
    assert paid == {
        piece["remainder"]["id"]: (Decimal("749999.99"), tier1["account_number"], tier1["cnaps_code"]),
        piece["transferred"]["id"]: (Decimal("250000.01"), tier2["account_number"], tier2["cnaps_code"]),
    }
    assert document.root.find(".//p:GrpHdr/p:CtrlSum", NS).text == "1000000.00"
    assert document.root.find(".//p:GrpHdr/p:NbOfTxs", NS).text == "2"
    assert (
        document.root.find(".//p:DbtrAcct/p:Id/p:Othr/p:Id", NS).text
        == member_kyc("core 公司", 0)["account_number"]
    )
    assert document.root.find(".//p:ReqdExctnDt/p:Dt", NS).text == statement["settled_on"]
    # the payees and anyone else: as if there were no such file
    for other in ("tier1", "tier2", "bank"):
        token = members[other].token
        refused = members.client.get(path, headers={"Authorization": f"Bearer {token}"})
        assert refused.status_code == 404 and refused.get_json()["error"] == "not_found", other


def test_the_statement_page_offers_the_payment_file_to_the_issuer_only(app, members, accepted, portal):
    from test_portal_pages import portal_login

    root = accepted["id"]
    portal.platform.settings = dataclasses.replace(portal.platform.settings, today=MATURITY)
    statement = members["core"].post(f"/tickets/{root}/settle", {"pin": PIN}, expect=200)
    page = f"/tickets/{root}/statements/{statement['statement_id']}"
    issuer = portal_login(app, "core.clerk")
    assert 'id="payment-file"' in issuer.get(page).get_data(as_text=True)
    answer = issuer.get(page + "/payment-file")
    assert answer.status_code == 200 and answer.mimetype == "application/xml"
    schema().validate(answer.data.decode())
    holder = portal_login(app, "tier1.clerk")
    assert 'id="payment-file"' not in holder.get(page).get_data(as_text=True)
    assert holder.get(page + "/payment-file").status_code == 404


def test_the_payment_file_as_csv_and_xlsx_for_the_issuer_only(app, members, accepted, portal):
    """#21 exports: the same transfers as the pain.001 file, one row per piece and a total row,
    exact to the fen, over the API and from the statement page; nobody else gets them."""
    import io

    import openpyxl
    from test_portal_pages import portal_login

    root = accepted["id"]
    portal.platform.settings = dataclasses.replace(portal.platform.settings, today=MATURITY)
    statement = members["core"].post(f"/tickets/{root}/settle", {"pin": PIN}, expect=200)
    path = f"/api/v1/tickets/{root}/statements/{statement['statement_id']}/payment-file"
    core = {"Authorization": f"Bearer {members['core'].token}"}
    answer = members.client.get(path + "?format=csv&lang=en", headers=core)
    assert answer.status_code == 200 and answer.mimetype == "text/csv", answer.get_data(as_text=True)
    rows = answer.data.decode("utf-8-sig").splitlines()
    assert rows[0].split(",")[:4] == [
        "Statement no.",
        "Root ticket no.",
        "Execution date",
        "End-to-end id (ticket no.)",
    ]
    tier1 = member_kyc("tier1 公司", 1)
    (line,) = rows[1:-1]
    cells = line.split(",")
    assert (cells[3], cells[5], cells[7], cells[8], cells[9]) == (
        root, tier1["account_number"], tier1["cnaps_code"], "1000000.00", "CNY",
    )  # fmt: skip
    assert rows[-1].split(",")[8] == "1000000.00"
    answer = members.client.get(path + "?format=xlsx", headers=core)
    sheet = openpyxl.load_workbook(io.BytesIO(answer.data)).active
    assert sheet.cell(1, 1).value == "清分单号" and sheet.cell(2, 9).value == 1000000
    assert sheet.cell(2, 6).value == tier1["account_number"]  # text, never a number
    assert members.client.get(path + "?format=pdf", headers=core).status_code == 400
    for other in ("tier1", "bank"):
        refused = members.client.get(
            path + "?format=csv", headers={"Authorization": f"Bearer {members[other].token}"}
        )
        assert refused.status_code == 404, other
    page = f"/tickets/{root}/statements/{statement['statement_id']}"
    issuer = portal_login(app, "core.clerk")
    html = issuer.get(page).get_data(as_text=True)
    assert 'id="payment-file-csv"' in html and 'id="payment-file-xlsx"' in html
    assert issuer.get(page + "/payment-file/xlsx").status_code == 200
    holder = portal_login(app, "tier1.clerk")
    assert 'id="payment-file-csv"' not in holder.get(page).get_data(as_text=True)
    assert holder.get(page + "/payment-file/csv").status_code == 404
