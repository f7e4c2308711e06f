"""Issue #20, find and export: a ticket list searched (ticket id, invoice number, counterparty),
filtered (status, maturity range, amount range typed in yuan), sorted and paged on the server,
and exported as CSV and XLSX with exactly the list's rows; another member's tickets never
appear in a search or an export."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import Decimal
from html import unescape
from typing import Any

import pytest
from apiclient import Api, Members, invoice
from openpyxl import load_workbook
from support import PIN, TODAY

pytestmark = pytest.mark.functional

DAYS = (30, 60, 90)


def _issue(members: Members, payee: str, amount_fen: int, days: int, number: str, accept: bool) -> str:
    issued = members["core"].post(
        "/tickets",
        {
            "payee_org_id": payee,
            "amount_fen": amount_fen,
            "maturity_date": (TODAY + dt.timedelta(days=days)).isoformat(),
            "invoices": [invoice(number, amount_fen)],
            "pin": PIN,
        },
        expect=201,
    )
    if accept:
        members[payee].post(f"/tickets/{issued['id']}/accept", {"pin": PIN}, expect=200)
    return str(issued["id"])


@pytest.fixture
def book(members: Members) -> dict[str, str]:
    """tier1 holds three tickets from core; tier2 holds one whose invoice is secret to tier1."""
    return {
        "a": _issue(members, "tier1", 100_000, DAYS[0], "INV-A-001", True),  # 1,000.00
        "b": _issue(members, "tier1", 250_050, DAYS[1], "inv-b-002", False),  # 2,500.50
        "c": _issue(members, "tier1", 1_000_000, DAYS[2], "INV-C-003", True),  # 10,000.00
        "x": _issue(members, "tier2", 300_000, DAYS[1], "INV-SECRET-9", True),
    }


def _ids(api: Api, query: str) -> list[str]:
    return [t["id"] for t in api.get(f"/tickets?{query}", expect=200)["items"]]


def _day(days: int) -> str:
    return (TODAY + dt.timedelta(days=days)).isoformat()


def test_search_finds_by_ticket_id_invoice_number_and_counterparty(
    members: Members, book: dict[str, str]
) -> None:
    tier1 = members["tier1"]
    assert _ids(tier1, f"q={book['b'][-8:].lower()}") == [book["b"]]
    assert _ids(tier1, "q=INV-B-002") == [book["b"]]  # invoice numbers match whatever the case
    assert _ids(tier1, "q=C-003") == [book["c"]]
    assert sorted(_ids(tier1, "q=core 公司")) == sorted([book["a"], book["b"], book["c"]])
    assert _ids(tier1, "q=no such thing") == []
    assert _ids(tier1, "q=%25") == [] and _ids(tier1, "q=_") == []  # LIKE wildcards are literal


def test_each_filter_and_its_boundaries(members: Members, book: dict[str, str]) -> None:
    tier1 = members["tier1"]
    mine = "holder_org_id=tier1"
    assert _ids(tier1, f"{mine}&status=PENDING_ACCEPTANCE") == [book["b"]]
    assert sorted(_ids(tier1, f"{mine}&status=ACTIVE")) == sorted([book["a"], book["c"]])
    # maturity: both ends inclusive
    assert sorted(_ids(tier1, f"{mine}&maturity_from={_day(DAYS[0])}&maturity_to={_day(DAYS[1])}")) == sorted(
        [book["a"], book["b"]]
    )
    assert _ids(tier1, f"{mine}&maturity_from={_day(DAYS[1] + 1)}") == [book["c"]]
    assert _ids(tier1, f"{mine}&maturity_to={_day(DAYS[0] - 1)}") == []
    # amounts typed in yuan, compared in fen, both ends inclusive
    assert _ids(tier1, f"{mine}&amount_min=2500.50&amount_max=2500.50") == [book["b"]]
    assert _ids(tier1, f"{mine}&amount_min=2500.51&amount_max=10000") == [book["c"]]
    assert _ids(tier1, f"{mine}&amount_max=2500.49") == [book["a"]]


def test_sorting_and_paging_walk_every_row_once(members: Members, book: dict[str, str]) -> None:
    tier1 = members["tier1"]
    by_amount = _ids(tier1, "holder_org_id=tier1&sort=amount_fen&order=desc")
    assert by_amount == [book["c"], book["b"], book["a"]]
    assert _ids(tier1, "holder_org_id=tier1&sort=maturity_date") == [book["a"], book["b"], book["c"]]
    pages = [
        tier1.get(f"/tickets?holder_org_id=tier1&sort=amount_fen&order=desc&per_page=2&page={n}", expect=200)
        for n in (1, 2, 3)
    ]
    assert [p["total"] for p in pages] == [3, 3, 3]
    assert [t["id"] for p in pages for t in p["items"]] == by_amount
    assert pages[2]["items"] == []
    # the same walk for a member that is not the holder (the visibility path)
    core = members["core"]
    walked = [
        t["id"]
        for n in (1, 2, 3)
        for t in core.get(f"/tickets?sort=amount_fen&per_page=1&page={n}&q=tier1", expect=200)["items"]
    ]
    assert walked == [book["a"], book["b"], book["c"]]


@pytest.mark.parametrize(
    "query",
    [
        "amount_min=1.234",
        "amount_min=-5",
        "amount_min=12abc",
        "maturity_to=0",
        "maturity_from=20270101",
        "maturity_from=2027-02-30",
        "sort=holder_org_id",
        "order=up",
        "status=PAID",
        "page=0",
        "per_page=501",
        "colour=red",
        "q=" + "x" * 101,
        "q=a%00b",
    ],
)
def test_bad_parameters_answer_400_in_the_envelope(members: Members, query: str) -> None:
    for path in ("/tickets", "/tickets/export"):
        if path.endswith("export") and query.startswith(("page", "per_page")):
            continue
        body = members["tier1"].get(f"{path}?{query}", expect=400)
        assert body["error"] == "invalid_input" and body["message"], (path, query)


@pytest.mark.parametrize(
    "query", ["amount_min=20&amount_max=10", "maturity_from=2027-02-01&maturity_to=2027-01-01"]
)
def test_an_empty_range_is_a_rule_violation(members: Members, query: str) -> None:
    """Each end is valid alone: the rule is between fields, which the schema cannot say (422)."""
    for path in ("/tickets", "/tickets/export"):
        body = members["tier1"].get(f"{path}?{query}", expect=422)
        assert body["error"] == "rule_violation" and "range is empty" in body["message"], (path, query)


def _export(api: Api, query: str) -> Any:
    response = api.client.get(
        f"/api/v1/tickets/export?{query}", headers={"Authorization": f"Bearer {api.token}"}
    )
    assert response.status_code == 200, response.data[:300]
    assert response.headers["Cache-Control"] == "no-store"
    return response


def test_csv_export_is_the_list_with_a_bom(members: Members, book: dict[str, str]) -> None:
    tier1 = members["tier1"]
    query = "holder_org_id=tier1&sort=amount_fen&order=desc&amount_min=1000"
    listed = tier1.get(f"/tickets?{query}", expect=200)["items"]
    response = _export(tier1, query + "&format=csv&lang=zh")
    assert response.mimetype == "text/csv"
    assert response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0][:5] == ["票号", "根票号", "开立方", "持有方", "金额（元）"]
    assert [row[0] for row in rows[1:]] == [t["id"] for t in listed]
    assert rows[1][2:7] == ["core 公司", "tier1 公司", "10000.00", TODAY.isoformat(), _day(DAYS[2])]
    english = _export(tier1, query + "&format=csv&lang=en").data.decode("utf-8-sig")
    assert english.startswith("Ticket no.,")


def test_xlsx_export_has_numbers_in_yuan_and_dates(members: Members, book: dict[str, str]) -> None:
    tier1 = members["tier1"]
    response = _export(tier1, "holder_org_id=tier1&sort=amount_fen&format=xlsx")
    assert response.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert [row[0] for row in rows[1:]] == [book["a"], book["b"], book["c"]]
    amounts = [row[4] for row in rows[1:]]
    assert [Decimal(str(amount)).quantize(Decimal("0.01")) for amount in amounts] == [
        Decimal("1000.00"),
        Decimal("2500.50"),
        Decimal("10000.00"),
    ]
    assert all(isinstance(amount, int | float) for amount in amounts)
    assert rows[1][6] == dt.datetime.combine(TODAY + dt.timedelta(days=DAYS[0]), dt.time())
    assert sheet.cell(row=3, column=5).number_format == "#,##0.00"


def test_another_members_rows_never_appear_in_a_search_or_an_export(
    members: Members, book: dict[str, str]
) -> None:
    secret = book["x"]
    for org_id in ("tier1", "bank"):
        api = members[org_id]
        for query in ("q=SECRET", f"q={secret}", "q=tier2", "status=ACTIVE", "holder_org_id=tier2", ""):
            assert secret not in _ids(api, query), (org_id, query)
            for fmt in ("csv", "xlsx"):
                data = _export(api, f"{query}&format={fmt}".lstrip("&")).data
                text = data.decode("utf-8-sig") if fmt == "csv" else _xlsx_text(data)
                assert secret not in text and "INV-SECRET" not in text, (org_id, query, fmt)
    # the holder and the issuer do find it
    assert _ids(members["tier2"], "q=SECRET") == [secret]
    assert secret in _export(members["core"], "q=SECRET").data.decode("utf-8-sig")


def _xlsx_text(data: bytes) -> str:
    sheet = load_workbook(io.BytesIO(data)).active
    return " ".join(str(value) for row in sheet.iter_rows(values_only=True) for value in row)


def test_the_openapi_document_describes_the_parameters(client: Any) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    listed = {p["name"]: p for p in document["paths"]["/api/v1/tickets"]["get"]["parameters"]}
    for name in ("q", "maturity_from", "maturity_to", "amount_min", "amount_max", "sort", "order"):
        assert name in listed and listed[name]["in"] == "query", name
    assert "pattern" in str(listed["amount_min"]["schema"])
    exported = document["paths"]["/api/v1/tickets/export"]["get"]
    assert set(exported["responses"]["200"]["content"]) == {
        "text/csv",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }


def test_the_portal_finds_pages_and_exports_with_the_filters_in_the_url(
    app: Any, members: Members, book: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from test_portal_day import NAMES, login, raw_codes, visible_text

    for lang, found, export in (
        ("zh", "共找到 3 张金票", "导出 CSV"),
        ("en", "3 tickets found", "Export CSV"),
    ):
        browser = login(app, "tier1.clerk", lang)
        assert 'href="/tickets"' in browser.get("/").get_data(as_text=True)  # in the navigation
        html = browser.get("/tickets?q=core&sort=amount_fen&order=desc").get_data(as_text=True)
        assert found in visible_text(html) and export in html, visible_text(html)[-800:]
        assert html.index(book["c"]) < html.index(book["b"]) < html.index(book["a"])
        if lang == "zh":
            assert raw_codes(html, NAMES) == [], visible_text(html)[-1500:]
        assert 'value="core"' in html and '<option value="desc" selected' in html  # the form keeps them
    browser = login(app, "tier1.clerk")
    first = browser.get("/tickets?sort=amount_fen&amount_min=1000&page=1").get_data(as_text=True)
    assert book["a"] in first
    many = browser.get("/tickets?status=ACTIVE&sort=maturity_date").get_data(as_text=True)
    assert book["a"] in many and book["c"] in many and book["b"] not in many
    # a page link carries every filter; the walk ends on the last page
    from web.portal import find_views

    monkeypatch.setattr(find_views, "PER_PAGE", 1)
    page = browser.get("/tickets?status=ACTIVE&sort=maturity_date").get_data(as_text=True)
    assert book["a"] in page and book["c"] not in page
    following = re.search(r'href="([^"]+)" rel="next"', page)
    assert following is not None, visible_text(page)[-600:]
    target = unescape(following.group(1))
    assert "status=ACTIVE" in target and "sort=maturity_date" in target and "page=2" in target, target
    last = browser.get(target).get_data(as_text=True)
    assert book["c"] in last and book["a"] not in last and 'rel="next"' not in last
    bad = browser.get("/tickets?amount_min=1.234")
    assert bad.status_code == 200 and "金额请以元为单位填写" in bad.get_data(as_text=True)
    assert browser.get("/tickets/export?maturity_from=2027-13-01").status_code == 400
    exported = browser.get("/tickets/export?status=ACTIVE&sort=maturity_date&format=csv")
    assert exported.status_code == 200 and exported.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(exported.data.decode("utf-8-sig"))))
    assert [row[0] for row in rows[1:]] == [book["a"], book["c"]]
    assert rows[1][7] == "持有中", rows[1]  # the state as the page names it
    # another member's ticket, searched or exported from the portal: never
    for query in ("q=SECRET", f"q={book['x']}", "scope=all", "scope=all&q=tier2"):
        listed = browser.get(f"/tickets?{query}").get_data(as_text=True).split('class="found"', 1)[1]
        assert book["x"] not in listed and "SECRET" not in listed, query  # (the form echoes the query)
        data = browser.get(f"/tickets/export?{query}&format=xlsx").data
        assert book["x"] not in _xlsx_text(data), query
