"""#21 payment through the bank, the round trip: settlement, the payment file, the bank's
camt.053 statement imported by the issuer; every piece the bank booked becomes PAID on the
ledger with its reference, a piece the statement lacks stays PAYMENT_PENDING and is reported,
debits of no piece of this settlement are reported, an import again records nothing. The
issuer's only; the parties read the reconciliation as they read the statement."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sys
from pathlib import Path

import pytest
from apiclient import MATURITY
from conftest import member_kyc
from support import OPERATOR_PASSWORD, PIN

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import camt053  # noqa: E402

pytestmark = pytest.mark.functional
CORE_ACCOUNT = member_kyc("core 公司", 0)["account_number"]


@pytest.fixture
def settled(members, accepted, portal):
    """1,000,000.00 settled in two pieces: tier1 keeps 749,999.99, tier2 holds 250,000.01."""
    root = accepted["id"]
    offered = members["tier1"].post(
        f"/tickets/{root}/transfers", {"to_org_id": "tier2", "amount_fen": 25_000_001, "pin": PIN}, expect=201
    )
    members["tier2"].post(f"/offers/{offered['offer_id']}/accept", {"pin": PIN}, expect=200)
    portal.platform.settings = dataclasses.replace(portal.platform.settings, today=MATURITY)
    statement = members["core"].post(f"/tickets/{root}/settle", {"pin": PIN}, expect=200)
    return root, statement


def _import(members, who, root, statement, xml: bytes, expect: int):
    path = f"/tickets/{root}/statements/{statement['statement_id']}/bank-statement"
    return members[who].post(path, {"pin": PIN, "statement_xml": xml.decode()}, expect=expect)


def test_every_booked_piece_becomes_paid_and_an_import_again_records_nothing(members, settled) -> None:
    root, statement = settled
    day = dt.date.fromisoformat(statement["settled_on"])
    booked = [(p["ticket_id"], p["amount_fen"], f"BK{n}") for n, p in enumerate(statement["paid"])]
    xml = camt053.statement(CORE_ACCOUNT, booked, day)
    report = _import(members, "core", root, statement, xml, 200)
    assert report["complete"] and report["paid_fen"] == report["due_fen"] == 100_000_000
    assert {line["status"] for line in report["lines"]} == {"PAID"}
    assert len(report["recorded"]) == 2 and report["unknown"] == [] and report["refused"] == []
    again = _import(members, "core", root, statement, xml, 200)
    assert again["recorded"] == [] and len(again["already"]) == 2 and again["complete"]
    # a holder reads its own line, paid with the bank's reference
    path = f"/tickets/{root}/statements/{statement['statement_id']}/reconciliation"
    mine = members["tier2"].get(path, expect=200)
    assert [(line["due_fen"], line["status"]) for line in mine["lines"]] == [(25_000_001, "PAID")]
    references = {ticket_id: reference for ticket_id, _, reference in booked}
    assert [p["bank_reference"] for p in mine["lines"][0]["payments"]] == [
        references[mine["lines"][0]["ticket_id"]]
    ]
    members["bank"].get(path, expect=403)


def test_a_missing_credit_stays_pending_and_strangers_are_reported(members, settled) -> None:
    root, statement = settled
    day = dt.date.fromisoformat(statement["settled_on"])
    first, second = statement["paid"]
    xml = camt053.statement(
        CORE_ACCOUNT,
        [
            (first["ticket_id"], first["amount_fen"] - 100, "BK1"),  # part of it (部分清偿)
            ("TK-NOT-OURS", 5_000, "BK2"),  # another payment of the core's
            (second["ticket_id"], second["amount_fen"] + 1, "BK3"),  # more than it is due
        ],
        day,
    )
    report = _import(members, "core", root, statement, xml, 200)
    status = {line["ticket_id"]: (line["status"], line["outstanding_fen"]) for line in report["lines"]}
    assert status == {
        first["ticket_id"]: ("PARTIALLY_PAID", 100),
        second["ticket_id"]: ("PAYMENT_PENDING", second["amount_fen"]),
    }
    assert [u["end_to_end_id"] for u in report["unknown"]] == ["TK-NOT-OURS"]
    assert [r["bank_reference"] for r in report["refused"]] == ["BK3"]
    assert not report["complete"] and report["outstanding_fen"] == 100 + second["amount_fen"]


def test_only_the_issuer_imports_its_own_accounts_statement(members, settled) -> None:
    root, statement = settled
    day = dt.date.fromisoformat(statement["settled_on"])
    booked = [(p["ticket_id"], p["amount_fen"], f"BK{n}") for n, p in enumerate(statement["paid"])]
    xml = camt053.statement(CORE_ACCOUNT, booked, day)
    for other in ("tier1", "tier2", "bank"):  # payees and outsiders: as if there were nothing
        assert _import(members, other, root, statement, xml, 404)["error"] == "not_found"
    foreign = camt053.statement("9999000011112222", booked, day)
    assert _import(members, "core", root, statement, foreign, 422)["error"] == "rule_violation"
    broken = _import(members, "core", root, statement, b"<Document>not a statement</Document>", 400)
    assert broken["error"] == "invalid_input"
    path = f"/tickets/{root}/statements/{statement['statement_id']}/reconciliation"
    assert {line["status"] for line in members["core"].get(path, expect=200)["lines"]} == {"PAYMENT_PENDING"}


def test_the_statement_page_shows_each_piece_as_the_bank_booked_it(app, members, settled) -> None:
    from test_portal_pages import portal_login

    root, statement = settled
    page = f"/tickets/{root}/statements/{statement['statement_id']}"
    issuer = portal_login(app, "core.clerk")
    assert "等待银行入账" in issuer.get(page).get_data(as_text=True)
    first, second = statement["paid"]
    day = dt.date.fromisoformat(statement["settled_on"])
    xml = camt053.statement(CORE_ACCOUNT, [(first["ticket_id"], first["amount_fen"], "BK-FIRST")], day)
    _import(members, "core", root, statement, xml, 200)
    html = issuer.get(page).get_data(as_text=True)
    assert "BK-FIRST" in html and "银行已付讫" in html and "等待银行入账" in html
    holder_of_first = "tier1" if first["holder_org_id"] == "tier1" else "tier2"
    other = "tier2" if holder_of_first == "tier1" else "tier1"
    assert "BK-FIRST" in portal_login(app, f"{holder_of_first}.clerk").get(page).get_data(as_text=True)
    assert "BK-FIRST" not in portal_login(app, f"{other}.clerk").get(page).get_data(as_text=True)


def test_a_camt054_debit_notification_records_each_payment_as_a_statement_does(members, settled) -> None:
    """Banks that notify each booked payment (camt.054.001.08) instead of, or before, the day's
    statement: the first piece's notification makes it PAID, the second's completes the
    settlement, and the day's statement then records nothing twice."""
    root, statement = settled
    day = dt.date.fromisoformat(statement["settled_on"])
    first, second = statement["paid"]
    one = camt053.statement(
        CORE_ACCOUNT, [(first["ticket_id"], first["amount_fen"], "BK-N1")], day, notification=True
    )
    report = _import(members, "core", root, statement, one, 200)
    assert len(report["recorded"]) == 1 and not report["complete"]
    two = camt053.statement(
        CORE_ACCOUNT, [(second["ticket_id"], second["amount_fen"], "BK-N2")], day, notification=True
    )
    report = _import(members, "core", root, statement, two, 200)
    assert len(report["recorded"]) == 1 and report["complete"] and report["paid_fen"] == 100_000_000
    both = [
        (first["ticket_id"], first["amount_fen"], "BK-N1"),
        (second["ticket_id"], second["amount_fen"], "BK-N2"),
    ]
    day_statement = camt053.statement(CORE_ACCOUNT, both, day)
    again = _import(members, "core", root, statement, day_statement, 200)
    assert again["recorded"] == [] and len(again["already"]) == 2


def test_the_reconciliation_report_downloads_with_what_the_bank_has_not_paid(app, members, settled) -> None:
    """The report a finance clerk files: every piece with what is due, what the bank booked and
    what is outstanding, the total; a holder's has its own line only; an outsider gets none."""
    import csv
    import io

    import openpyxl
    from test_portal_pages import portal_login

    root, statement = settled
    day = dt.date.fromisoformat(statement["settled_on"])
    first, second = statement["paid"]
    xml = camt053.statement(CORE_ACCOUNT, [(first["ticket_id"], first["amount_fen"], "BK-ONLY")], day)
    _import(members, "core", root, statement, xml, 200)
    page = f"/tickets/{root}/statements/{statement['statement_id']}"

    issuer = portal_login(app, "core.clerk")
    assert 'id="reconciliation-csv"' in issuer.get(page).get_data(as_text=True)
    answer = issuer.get(page + "/reconciliation/csv")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert "reconciliation-" in answer.headers["Content-Disposition"]
    header, *lines, total = list(csv.reader(io.StringIO(answer.data.decode("utf-8").lstrip("\ufeff"))))
    by_piece = {line[2]: line for line in lines}
    paid, pending = by_piece[first["ticket_id"]], by_piece[second["ticket_id"]]
    assert (paid[4], paid[5], paid[6], paid[8]) == (
        f"{first['amount_fen'] / 100:.2f}",
        f"{first['amount_fen'] / 100:.2f}",
        "0.00",
        "BK-ONLY",
    )
    assert (pending[5], pending[6], pending[8]) == ("0.00", f"{second['amount_fen'] / 100:.2f}", "")
    assert paid[7] != pending[7]
    assert total[4:7] == [
        "1000000.00",
        f"{first['amount_fen'] / 100:.2f}",
        f"{second['amount_fen'] / 100:.2f}",
    ]

    workbook = issuer.get(page + "/reconciliation/xlsx")
    rows = list(openpyxl.load_workbook(io.BytesIO(workbook.data)).active.iter_rows(values_only=True))
    assert len(rows) == 4 and sum(row[6] for row in rows[1:3]) == rows[3][6]
    assert issuer.get(page + "/reconciliation/pdf").status_code == 404

    holder = portal_login(app, "tier2.clerk")
    mine = list(
        csv.reader(
            io.StringIO(holder.get(page + "/reconciliation/csv").data.decode("utf-8").lstrip("\ufeff"))
        )
    )
    assert [line[2] for line in mine[1:-1]] == [
        p["ticket_id"] for p in statement["paid"] if p["holder_org_id"] == "tier2"
    ]
    outsider = portal_login(app, "bank.credit")
    assert outsider.get(page + "/reconciliation/csv").status_code in (403, 404)


def test_the_issuer_imports_its_bank_statement_in_the_portal(app, members, settled, portal) -> None:
    """The upload on the clearing statement's page shows what will be recorded before the PIN;
    nothing is written until the card signs; a file of no camt message is refused with a
    sentence; a holder is offered no upload and cannot post one."""
    import html
    import io
    import re

    from test_portal_pages import form_token, portal_login

    root, statement = settled
    day = dt.date.fromisoformat(statement["settled_on"])
    first, second = statement["paid"]
    page = f"/tickets/{root}/statements/{statement['statement_id']}"
    upload = page + "/bank-statement"
    xml = camt053.statement(
        CORE_ACCOUNT,
        [(first["ticket_id"], first["amount_fen"], "BK-P1"), ("SOMEONE-ELSE-2", 99, "BK-X")],
        day,
        notification=True,
    )

    issuer = portal_login(app, "core.clerk")
    assert 'id="bank-statement-upload"' in issuer.get(page).get_data(as_text=True)
    token = form_token(issuer)
    bad = issuer.post(upload, data={"csrf_token": token, "file": (io.BytesIO(b"<x/>"), "s.xml")})
    assert bad.status_code == 302
    assert "camt" in issuer.get(bad.headers["Location"]).get_data(as_text=True)

    shown = issuer.post(upload, data={"csrf_token": token, "file": (io.BytesIO(xml), "camt054.xml")})
    text = shown.get_data(as_text=True)
    assert shown.status_code == 200 and "SOMEONE-ELSE-2" in text and first["ticket_id"] in text
    path = f"/tickets/{root}/statements/{statement['statement_id']}/reconciliation"
    assert {line["status"] for line in members["core"].get(path, expect=200)["lines"]} == {"PAYMENT_PENDING"}
    carried = {
        name: html.unescape(value)
        for name, value in re.findall(r'<input type="hidden" name="([a-z0-9_]+)" value="([^"]*)"', text)
    }
    assert carried["statement_xml"].encode() == xml
    done = issuer.post("/sign/import_bank_statement/commit", data={**carried, "pin": PIN})
    assert done.status_code == 302 and done.headers["Location"] == page
    lines = {line["ticket_id"]: line["status"] for line in members["core"].get(path, expect=200)["lines"]}
    assert lines == {first["ticket_id"]: "PAID", second["ticket_id"]: "PAYMENT_PENDING"}
    again = issuer.post("/sign/import_bank_statement/commit", data={**carried, "pin": PIN})
    assert again.status_code == 302  # the same request key: answered once, recorded once

    holder = portal_login(app, "tier2.clerk")
    assert 'id="bank-statement-upload"' not in holder.get(page).get_data(as_text=True)
    refused = holder.post(upload, data={"csrf_token": form_token(holder), "file": (io.BytesIO(xml), "s.xml")})
    assert refused.status_code == 302
    for username in ("bank.credit", "operator"):  # neither party to the statement nor its issuer
        other = (
            portal_login(app, username, OPERATOR_PASSWORD)
            if username == "operator"
            else portal_login(app, username)
        )
        assert other.post(
            upload, data={"csrf_token": form_token(other), "file": (io.BytesIO(xml), "s.xml")}
        ).status_code in (302, 403, 404)
    theirs = {line["ticket_id"]: line["status"] for line in members["tier2"].get(path, expect=200)["lines"]}
    assert theirs and all(lines[ticket_id] == status for ticket_id, status in theirs.items())  # unchanged


def _multipart(members, who, root, statement, fields: dict, files: dict | None = None, **headers):
    """POST the import as multipart/form-data (API.md: the multipart field ``file``)."""
    import io

    path = f"/api/v1/tickets/{root}/statements/{statement['statement_id']}/bank-statement"
    data = dict(fields)
    for name, content in (files or {}).items():
        data[name] = (io.BytesIO(content), "camt053.xml")
    headers["Authorization"] = f"Bearer {members[who].token}"
    return members.client.post(path, data=data, content_type="multipart/form-data", headers=headers)


def test_the_api_takes_the_bank_statement_as_the_multipart_file_field(members, settled) -> None:
    """API.md: ``POST .../bank-statement`` (multipart ``file``); the PIN is a form field. The
    same report as the JSON body's, and a retry with its Idempotency-Key replays it."""
    root, statement = settled
    day = dt.date.fromisoformat(statement["settled_on"])
    booked = [(p["ticket_id"], p["amount_fen"], f"BK{n}") for n, p in enumerate(statement["paid"])]
    xml = camt053.statement(CORE_ACCOUNT, booked, day)
    first = _multipart(
        members, "core", root, statement, {"pin": PIN}, {"file": xml}, **{"Idempotency-Key": "mp-1"}
    )
    assert first.status_code == 200, first.get_json()
    report = first.get_json()
    assert report["complete"] and len(report["recorded"]) == 2
    again = _multipart(
        members, "core", root, statement, {"pin": PIN}, {"file": xml}, **{"Idempotency-Key": "mp-1"}
    )
    assert again.status_code == 200 and again.headers.get("Idempotent-Replayed") == "true"
    assert again.get_json()["recorded"] == report["recorded"]
    # JSON stays (an addition to API.md): the same file again records nothing new
    assert _import(members, "core", root, statement, xml, 200)["recorded"] == []


def test_a_multipart_bank_statement_is_refused_as_the_json_one_is(members, settled) -> None:
    root, statement = settled
    day = dt.date.fromisoformat(statement["settled_on"])
    booked = [(p["ticket_id"], p["amount_fen"], f"BK{n}") for n, p in enumerate(statement["paid"])]
    xml = camt053.statement(CORE_ACCOUNT, booked, day)

    def refused(who, fields, files, status, error):
        answer = _multipart(members, who, root, statement, fields, files)
        assert (answer.status_code, answer.get_json()["error"]) == (status, error), answer.get_json()
        return answer.get_json()

    refused("core", {"pin": PIN}, None, 400, "invalid_input")  # no file
    refused("core", {"pin": PIN}, {"statement": xml}, 400, "invalid_input")  # another field name
    refused("core", {}, {"file": xml}, 400, "invalid_input")  # no PIN
    refused("core", {"pin": PIN, "statement_xml": xml.decode()}, {"file": xml}, 400, "invalid_input")
    refused("core", {"pin": PIN, "other": "x"}, {"file": xml}, 400, "invalid_input")  # unknown field
    refused("core", {"pin": PIN}, {"file": b"\xff\xfe<Document/>"}, 400, "invalid_input")  # not UTF-8
    refused("core", {"pin": PIN}, {"file": b"<Document>not a statement</Document>"}, 400, "invalid_input")
    refused("core", {"pin": PIN}, {"file": b""}, 400, "invalid_input")  # empty
    refused("core", {"pin": "000000"}, {"file": xml}, 403, "wrong_pin")
    for other in ("tier1", "bank"):
        refused(other, {"pin": PIN}, {"file": xml}, 404, "not_found")
    foreign = camt053.statement("9999000011112222", booked, day)
    refused("core", {"pin": PIN}, {"file": foreign}, 422, "rule_violation")
    # over the text field's limit (240,000 characters) but within the body's: as JSON, 400
    long = b"<!--" + b"x" * 240_000 + b"-->"
    refused("core", {"pin": PIN}, {"file": long}, 400, "invalid_input")
    # over the body's limit (256 KiB, as the JSON body and the portal's form): 413
    body = b"--xyz\r\nContent-Disposition: form-data; name=pin\r\n\r\n" + PIN.encode() + b"\r\n"
    body += b"--xyz\r\nContent-Disposition: form-data; name=file; filename=s.xml\r\n\r\n"
    body += b"<!--" + b"x" * (300 * 1024) + b"-->\r\n--xyz--\r\n"
    path = f"/api/v1/tickets/{root}/statements/{statement['statement_id']}/bank-statement"
    big = members.client.post(
        path,
        data=body,
        content_type="multipart/form-data; boundary=xyz",
        headers={"Authorization": f"Bearer {members['core'].token}"},
    )
    assert (big.status_code, big.get_json()["error"]) == (413, "payload_too_large")
    recon = members["core"].get(f"/tickets/{root}/statements/{statement['statement_id']}/reconciliation")
    assert {line["status"] for line in recon["lines"]} == {"PAYMENT_PENDING"}  # nothing recorded


def test_the_openapi_document_offers_the_bank_statement_as_multipart(members) -> None:
    document = members.client.get("/api/v1/openapi.json").get_json()
    body = document["paths"]["/api/v1/tickets/{root_id}/statements/{statement_id}/bank-statement"]["post"][
        "requestBody"
    ]["content"]
    form = body["multipart/form-data"]["schema"]
    assert set(form["required"]) == {"file", "pin"} and form["properties"]["file"]["format"] == "binary"
    assert "application/json" in body
