"""Issue #20 in the portal, through Flask's test client (the browser tests walk the same pages
in Chromium): each numbered defect of a clerk's day attacked here — the bank's credit page, a
select with no choice, rule errors before the PIN, raw codes and zone-less times on a Chinese
page, the history's card serial, the financing form and its confirmations, the receiver's side
of a transfer, pending offers and withdrawals, the settled root, uploads, the desk."""

from __future__ import annotations

import dataclasses
import re
from html import unescape
from typing import Any

import pytest
from apiclient import MATURITY, PASSWORD, Members, invoice
from flask.testing import FlaskClient
from support import OPERATOR_PASSWORD, PIN, TODAY
from test_portal_pages import csrf, portal_login

pytestmark = pytest.mark.functional

USERS = ("core.clerk", "tier1.clerk", "tier2.clerk", "bank.credit", "operator")


def login(app: Any, username: str, lang: str = "zh") -> FlaskClient:
    browser = (
        portal_login(app, username, OPERATOR_PASSWORD)
        if username == "operator"
        else portal_login(app, username)
    )
    if lang != "zh":
        browser.get(f"/lang/{lang}")
    return browser


def alerts(html: str) -> list[str]:
    return re.findall(r'role="alert"[^>]*>([^<]*)<', html)


def carried(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([a-z0-9_]+)" value="([^"]*)"', html))


def confirm(browser: FlaskClient, action: str, **fields: str) -> tuple[Any, str]:
    token = csrf(browser.get("/").get_data(as_text=True))
    page = browser.post(f"/sign/{action}", data={"csrf_token": token, **fields}, follow_redirects=True)
    return page, page.get_data(as_text=True)


def sign(browser: FlaskClient, html: str, pin: str = PIN, **follow: Any) -> Any:
    action = re.search(r'action="/sign/([a-z_]+)/commit"', html)
    assert action, alerts(html) or html[-1500:]
    return browser.post(f"/sign/{action.group(1)}/commit", data={**carried(html), "pin": pin}, **follow)


def select_options(html: str, name: str) -> list[tuple[str, str]]:
    """(value, label) of each option of the select ``name``."""
    match = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert match, f"no select {name}"
    return re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', match.group(1))


# 1 ------------------------------------------------------------------------------------------
def test_the_credit_page_answers_every_role_and_a_bank_offers_a_line_on_it(
    app: Any, members: Members
) -> None:
    for username in USERS:
        for lang in ("zh", "en"):
            page = login(app, username, lang).get("/credit")
            assert page.status_code == 200, (username, lang, page.status_code)
    bank = login(app, "bank.credit")
    html = bank.get("/credit").get_data(as_text=True)
    assert select_options(html, "core_org_id")[0] == ("", "请选择")
    page, html = confirm(bank, "grant", core_org_id="core", amount="5,000,000.00", back="/credit")
    assert page.status_code == 200 and "伍佰万元整" in html, alerts(html)
    done = sign(bank, html, follow_redirects=True)
    assert done.status_code == 200 and "5,000,000.00" in done.get_data(as_text=True)


# 2 ------------------------------------------------------------------------------------------
def test_counterparty_selects_start_empty_and_a_missing_choice_is_refused(
    app: Any, members: Members, accepted: dict[str, Any], portal: Any
) -> None:
    core = login(app, "core.clerk")
    issue = core.get("/issue").get_data(as_text=True)
    assert select_options(issue, "payee_org_id")[0] == ("", "请选择")
    holder = login(app, "tier1.clerk")
    transfer = holder.get(f"/tickets/{accepted['id']}/transfer").get_data(as_text=True)
    offered = select_options(transfer, "to_org_id")
    assert offered[0] == ("", "请选择")
    assert [value for value, _ in offered[1:]] == ["tier2"]  # no core, no bank, not itself
    finance = holder.get(f"/tickets/{accepted['id']}/finance").get_data(as_text=True)
    banks = select_options(finance, "bank_org_id")
    assert banks[0] == ("", "请选择") and [value for value, _ in banks[1:]] == ["bank"]
    height = portal.platform.ledger.height()
    back = f"/tickets/{accepted['id']}/transfer"
    page, html = confirm(
        holder, "transfer", ticket_id=accepted["id"], to_org_id="", amount="10.00", back=back
    )
    assert "请选择受让方。" in " ".join(alerts(html)) and 'type="password"' not in html
    page, html = confirm(
        holder, "finance", ticket_id=accepted["id"], bank_org_id="", amount="10.00", max_rate="3", back=back
    )
    assert "请选择银行。" in " ".join(alerts(html)) and 'type="password"' not in html
    page, html = confirm(
        holder, "transfer", ticket_id=accepted["id"], to_org_id="bank", amount="10.00", back=back
    )
    assert "供应商" in " ".join(alerts(html)) and 'type="password"' not in html
    token = csrf(core.get("/issue").get_data(as_text=True))
    from io import BytesIO

    page = core.post(
        "/issue",
        data={
            "csrf_token": token,
            "payee_org_id": "",
            "amount": "10.00",
            "maturity_date": MATURITY.isoformat(),
            "invoice_number": "INV-NO-PAYEE",
            "invoice_file": (BytesIO(b"%PDF-1.7 no payee"), "invoice.pdf"),
        },
    )
    assert page.status_code == 422 and "请选择供应商。" in " ".join(alerts(page.get_data(as_text=True)))
    assert portal.platform.ledger.height() == height


@pytest.fixture
def walked(members: Members, accepted: dict[str, Any]) -> dict[str, str]:
    """The accepted root split: 300,000.00 to tier2, which has it discounted whole by the bank."""
    offered = members["tier1"].post(
        f"/tickets/{accepted['id']}/transfers", {"to_org_id": "tier2", "amount_fen": 30_000_000, "pin": PIN}
    )
    moved = members["tier2"].post(f"/offers/{offered['offer_id']}/accept", {"pin": PIN}, expect=200)
    piece = moved["transferred"]["id"]
    applied = members["tier2"].post(
        f"/tickets/{piece}/financing",
        {"bank_org_id": "bank", "amount_fen": 30_000_000, "max_annual_rate_bp": 350, "pin": PIN},
        expect=201,
    )
    members["bank"].post(
        f"/financing/{applied['application_id']}/registration",
        {"registration_number": f"ZD-{applied['application_id']}", "pin": PIN},
        expect=201,
    )
    approved = members["bank"].post(
        f"/financing/{applied['application_id']}/approve",
        {"annual_rate_bp": 262, "value_date": TODAY.isoformat(), "pin": PIN},
        expect=200,
    )
    return {"root": accepted["id"], "kept": moved["remainder"]["id"], "financed": approved["financed"]["id"]}


def visible_text(html: str) -> str:
    """What a reader sees of a page: no tags, scripts, styles or attribute values."""
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


RAW_CODES = re.compile(
    r"\b(issue|accept|reject|cancel|offer_transfer|accept_transfer|rejected_transfer|cancelled_transfer"
    r"|apply_financing|approve_financing|reject_financing|settle|freeze|unfreeze|supplier|core|bank|clerk"
    r"|admin|active|suspended|awaiting_pin|awaiting_recovery|pending_approval|ACTIVE|SUSPENDED|REPLACED"
    r"|ELIMINATED|OPENED|PENDING_ACCEPTANCE|LOCKED_TRANSFER|LOCKED_FINANCING|SPLIT|FINANCED|SETTLED)\b"
)


def raw_codes(html: str, names: tuple[str, ...] = ()) -> list[str]:
    """The codes a Chinese page shows untranslated (identifiers in <code>, member names and
    usernames taken out: the test consortium's names are "<id> 公司", its usernames
    "<id>.clerk")."""
    text = visible_text(re.sub(r"<code[^>]*>[^<]*</code>", " ", html))  # identifiers, shown as such
    for name in names:
        text = text.replace(name, " ")
    text = re.sub(r"\b[a-z0-9]+\.(clerk|credit)\b|\boperator\b", " ", text)
    return RAW_CODES.findall(text)


NAMES = ("core 公司", "tier1 公司", "tier2 公司", "bank 公司")


# 7 ------------------------------------------------------------------------------------------
def test_the_history_names_cards_by_the_serial_the_desk_knows(
    app: Any, members: Members, walked: dict[str, str]
) -> None:
    html = login(app, "tier1.clerk").get(f"/tickets/{walked['root']}").get_data(as_text=True)
    history = html[html.index('id="history"') :]
    cells = re.findall(r'<td class="card-serial"[^>]*>(.*?)</td>', history, re.S)
    assert cells and all(re.fullmatch(r"\s*<code>BS[0-9A-Z]+</code>\s*", cell) for cell in cells), cells
    assert not re.search(r"\b[0-9a-f]{32,40}\b", visible_text(history).replace(walked["root"], ""))
    assert members.cards["tier1"] in history


# 6 ------------------------------------------------------------------------------------------
def test_times_are_china_time_with_their_zone_and_dates_have_one_format(
    app: Any, members: Members, walked: dict[str, str]
) -> None:
    for lang, day in (("zh", r"\d{4}年\d{1,2}月\d{1,2}日"), ("en", r"[A-Z][a-z]{2} \d{1,2}, \d{4}")):
        browser = login(app, "tier1.clerk", lang)
        shown = visible_text(browser.get(f"/tickets/{walked['root']}").get_data(as_text=True))
        times = re.findall(r"\d{1,2}:\d{2}:\d{2}.{0,12}", shown)
        assert times and all("UTC+8" in found for found in times), times
        assert re.findall(rf"{day} \d{{2}}:\d{{2}}:\d{{2}} \(UTC\+8\)", shown), shown[-800:]
        assert not re.search(r"\b\d{4}-\d{2}-\d{2}\b", shown), re.findall(
            r".{20}\d{4}-\d{2}-\d{2}.{20}", shown
        )
        page, html = confirm(browser, "transfer", ticket_id=walked["kept"], to_org_id="tier2", amount="1.00")
        assert page.status_code == 200, alerts(html)
        shown = visible_text(html)
        assert re.search(day, shown) and not re.search(r"\b\d{4}-\d{2}-\d{2}\b", shown), shown


# 5 ------------------------------------------------------------------------------------------
def test_no_raw_code_on_a_chinese_page(
    app: Any, members: Members, walked: dict[str, str], portal: Any
) -> None:
    for username, ticket_id in (("tier1.clerk", walked["root"]), ("bank.credit", walked["financed"])):
        html = login(app, username).get(f"/tickets/{ticket_id}").get_data(as_text=True)
        assert raw_codes(html, NAMES) == [], (username, visible_text(html)[-1500:])
    me = login(app, "tier1.clerk").get("/me").get_data(as_text=True)
    assert raw_codes(me, NAMES) == [], visible_text(me)
    desk = login(app, "operator")
    for page in (desk.get("/desk"), confirm(desk, "create_org", name="新成员", role="supplier")[0]):
        html = page.get_data(as_text=True)
        assert raw_codes(html, NAMES) == [], visible_text(html)[-1500:]
    portal.platform.settings = dataclasses.replace(portal.platform.settings, today=MATURITY)
    page, html = confirm(login(app, "core.clerk"), "settle", ticket_id=walked["root"])
    assert page.status_code == 200, alerts(html)
    shown = visible_text(html)
    assert "→ tier1 公司" in shown and "→ bank 公司" in shown and raw_codes(html, NAMES) == [], shown


# 8 ------------------------------------------------------------------------------------------
def test_the_financing_form_and_both_confirmations_state_the_money(
    app: Any, members: Members, accepted: dict[str, Any], portal: Any
) -> None:
    holder = login(app, "tier1.clerk")
    form = holder.get(f"/tickets/{accepted['id']}/finance").get_data(as_text=True)
    assert "已融资" not in form  # nothing is financed before the bank approves
    back = f"/tickets/{accepted['id']}/finance"
    fields = {"ticket_id": accepted["id"], "bank_org_id": "bank", "amount": "1,000,000.00", "back": back}
    page, html = confirm(holder, "finance", **fields, max_rate="abc")
    assert "请以百分数输入年利率" in " ".join(alerts(html)) and 'type="password"' not in html
    page, html = confirm(holder, "finance", **fields, max_rate="3.60")
    shown = visible_text(html)
    # 1,000,000.00 at 3.60 % for 90 days on 360: interest 9,000.00, proceeds 991,000.00
    assert "¥9,000.00 玖仟元整" in shown and "¥991,000.00 玖拾玖万壹仟元整" in shown, shown
    done = sign(holder, html)
    assert done.status_code == 302, alerts(done.get_data(as_text=True))
    application_id = members["tier1"].get(f"/tickets/{accepted['id']}")["application_id"]

    members["bank"].post(  # #21: the approval (and its rehearsal) needs a registration
        f"/financing/{application_id}/registration", {"registration_number": "ZD-DAY", "pin": PIN}, expect=201
    )
    bank = login(app, "bank.credit")
    height = portal.platform.ledger.height()
    for rate in ("99", "100.01", "abc", "3.61"):
        page, html = confirm(bank, "approve", application_id=application_id, rate=rate, value_date="")
        assert alerts(html) and 'type="password"' not in html, (rate, visible_text(html)[-600:])
    page, html = confirm(bank, "approve", application_id=application_id, rate="3.60", value_date="")
    shown = visible_text(html)
    assert "¥9,000.00 玖仟元整" in shown and "¥991,000.00 玖拾玖万壹仟元整" in shown, shown
    assert portal.platform.ledger.height() == height


# 9 ------------------------------------------------------------------------------------------
def test_the_receiver_of_a_transfer_sees_what_it_receives(
    app: Any, members: Members, accepted: dict[str, Any]
) -> None:
    offered = members["tier1"].post(
        f"/tickets/{accepted['id']}/transfers", {"to_org_id": "tier2", "amount_fen": 30_000_000, "pin": PIN}
    )
    page, html = confirm(login(app, "tier2.clerk"), "accept_offer", offer_id=offered["offer_id"])
    shown = visible_text(html)
    assert re.search(r'data-testid="receives">[^<]*300,000\.00', html), shown
    assert "700,000.00" not in shown and 'data-testid="kept"' not in html, shown
    page, html = confirm(login(app, "tier1.clerk"), "cancel_offer", offer_id=offered["offer_id"])
    assert "700,000.00" in visible_text(html)  # the sender sees what it keeps


# 3 ------------------------------------------------------------------------------------------
ENGLISH = re.compile(r"\b(?!TK|FA|OF|CL|INV)[A-Za-z]{3,}\b")


def issue_form(core: FlaskClient, **fields: str) -> tuple[int, str]:
    from io import BytesIO

    token = csrf(core.get("/issue").get_data(as_text=True))
    content = fields.pop("file", "an invoice of the rehearsal").encode()
    form = {"csrf_token": token, "payee_org_id": "tier1", "amount": "1,000.00", **fields}
    page = core.post("/issue", data={**form, "invoice_file": (BytesIO(content), "invoice.pdf")})
    return page.status_code, page.get_data(as_text=True)


def refused_before_the_pin(html: str, expected: str) -> None:
    said = " ".join(alerts(html))
    assert expected in said, said or visible_text(html)[-800:]
    assert not ENGLISH.findall(said), said  # translated by its code and shape, never English
    assert 'type="password"' not in html


def test_the_chaincodes_rules_refuse_before_the_pin(
    app: Any, members: Members, accepted: dict[str, Any], portal: Any
) -> None:
    import datetime as dt

    height = portal.platform.ledger.height()
    core = login(app, "core.clerk")
    cases = [
        (
            {"maturity_date": (TODAY - dt.timedelta(days=1)).isoformat(), "invoice_number": "INV-PAST"},
            "到期日",
        ),
        (
            {"maturity_date": (TODAY + dt.timedelta(days=400)).isoformat(), "invoice_number": "INV-FAR"},
            "到期日",
        ),
        (
            {"maturity_date": MATURITY.isoformat(), "invoice_number": "INV-BIG", "amount": "100,000,000.01"},
            "授信额度",
        ),
        ({"maturity_date": MATURITY.isoformat(), "invoice_number": "INV-1", "file": "another file"}, "INV-1"),
        (  # #21: over six months, no reason stated
            {"maturity_date": (TODAY + dt.timedelta(days=200)).isoformat(), "invoice_number": "INV-LONG"},
            "须说明理由",
        ),
    ]
    for fields, expected in cases:
        status, html = issue_form(core, **fields)
        assert status == 422, (fields, alerts(html))
        refused_before_the_pin(html, expected)
        assert 'name="invoice_number"' in html  # the form, with what was typed
    applied = members["tier1"].post(
        f"/tickets/{accepted['id']}/financing",
        {"bank_org_id": "bank", "amount_fen": 10_000_000, "max_annual_rate_bp": 500, "pin": PIN},
        expect=201,
    )
    bank = login(app, "bank.credit")
    before = (TODAY - dt.timedelta(days=1)).isoformat()
    page, html = confirm(
        bank, "approve", application_id=applied["application_id"], rate="3.00", value_date=before
    )
    refused_before_the_pin(html, "起息日")
    assert portal.platform.ledger.height() == height + 1  # only the application was written
    status, html = issue_form(core, maturity_date=MATURITY.isoformat(), invoice_number="INV-FINE")
    assert status == 200 and 'type="password"' in html  # a good one goes on to the PIN
    long = (TODAY + dt.timedelta(days=200)).isoformat()
    status, html = issue_form(
        core, maturity_date=long, invoice_number="INV-LONG2", term_reason="设备验收 7 个月"
    )
    assert status == 200 and 'type="password"' in html and "设备验收 7 个月" in html  # shown before the PIN


# 11 -----------------------------------------------------------------------------------------
def test_after_settlement_the_root_reads_settled_and_the_pieces_stay_in_view(
    app: Any, members: Members, walked: dict[str, str], portal: Any
) -> None:
    portal.platform.settings = dataclasses.replace(portal.platform.settings, today=MATURITY)
    core = login(app, "core.clerk")
    page, html = confirm(core, "settle", ticket_id=walked["root"])
    done = sign(core, html)
    assert done.status_code == 302, alerts(done.get_data(as_text=True))
    target = done.headers["Location"]
    assert "/commit" not in target and re.match(rf"/tickets/{walked['root']}/statements/\S+", target), target
    success = core.get(target).get_data(as_text=True)
    assert "已签名并上链" in " ".join(alerts(success)) and "清分单" in success
    ticket = core.get(f"/tickets/{walked['root']}").get_data(as_text=True)
    heading = visible_text(ticket[ticket.index("<h1") : ticket.index("</h1>")])
    assert "已兑付" in heading and "已拆分" not in heading, heading
    issued = core.get("/").get_data(as_text=True)
    row = re.search(rf"<tr>\s*<td><a href=\"/tickets/{walked['root']}\".*?</tr>", issued, re.S)
    assert row is None or "已拆分" not in row.group(0)
    for username, piece in (("tier1.clerk", walked["kept"]), ("bank.credit", walked["financed"])):
        home = login(app, username).get("/").get_data(as_text=True)
        assert 'id="settled"' in home, username
        settled = home[home.index('id="settled"') :]
        assert piece in settled and "已兑付" in visible_text(settled), (username, visible_text(settled)[:500])


# 12 -----------------------------------------------------------------------------------------
def multipart(fields: dict[str, str], size: int) -> dict[str, Any]:
    """The issue form with an invoice file of ``size`` bytes, built by hand (the test client
    spools a large multipart body to a file it never closes)."""
    body = b"".join(
        f"--xyz\r\nContent-Disposition: form-data; name={name}\r\n\r\n{value}\r\n".encode()
        for name, value in fields.items()
    )
    body += b"--xyz\r\nContent-Disposition: form-data; name=invoice_file; filename=big.pdf\r\n\r\n"
    body += b"x" * size + b"\r\n--xyz--\r\n"
    return {"data": body, "content_type": "multipart/form-data; boundary=xyz"}


def test_a_too_large_invoice_stays_on_its_form_and_a_non_pdf_is_not_called_forged(
    app: Any, members: Members, portal: Any
) -> None:
    from io import BytesIO

    core = login(app, "core.clerk")
    token = csrf(core.get("/issue").get_data(as_text=True))
    fields = {
        "payee_org_id": "tier1",
        "amount": "12,345.67",
        "maturity_date": MATURITY.isoformat(),
        "invoice_number": "INV-HUGE-20MB",
    }
    page = core.post("/issue", **multipart({"csrf_token": token, **fields}, 20 * 1024 * 1024))
    html = page.get_data(as_text=True)
    assert page.status_code == 422, (page.status_code, visible_text(html)[:300])
    assert "10 MB" in " ".join(alerts(html)) and "发票文件" in " ".join(alerts(html)), alerts(html)
    assert 'value="12,345.67"' in html and 'value="INV-HUGE-20MB"' in html  # what was typed, kept
    assert 'data-testid="user"' in html  # the page's header, with who is signed in
    # beyond what the form reads: the error page, with its header
    answer = core.post("/issue", **multipart({"csrf_token": token, **fields}, 31 * 1024 * 1024))
    shown = answer.get_data(as_text=True)
    assert answer.status_code == 413 and 'data-testid="user"' in shown and "10 MB" in visible_text(shown)
    bank = login(app, "bank.credit")
    token = csrf(bank.get("/certificates/verify").get_data(as_text=True))
    page = bank.post(
        "/certificates/verify",
        data={"csrf_token": token, "file": (BytesIO(b"PK\x03\x04 a zip, not a PDF"), "certificate.pdf")},
    )
    shown = visible_text(page.get_data(as_text=True))
    assert "不是 PDF 证书" in shown and "伪造" not in shown, shown


# 10 -----------------------------------------------------------------------------------------
def test_pending_items_say_since_when_and_who_may_withdraw_and_the_issuer_withdraws_a_ticket(
    app: Any, members: Members, accepted: dict[str, Any], portal: Any
) -> None:
    issued = members["core"].post(
        "/tickets",
        {
            "payee_org_id": "tier2",
            "amount_fen": 5_000_000,
            "maturity_date": MATURITY.isoformat(),
            "invoices": [invoice("INV-WITHDRAW", 5_000_000)],
            "pin": PIN,
        },
        expect=201,
    )
    offered = members["tier1"].post(
        f"/tickets/{accepted['id']}/transfers", {"to_org_id": "tier2", "amount_fen": 1_000_000, "pin": PIN}
    )
    inbox = login(app, "tier2.clerk").get("/").get_data(as_text=True)
    for ticket_id in (issued["id"], accepted["id"]):
        row = re.search(rf"<tr>(?:(?!</tr>).)*{ticket_id}(?:(?!</tr>).)*</tr>", inbox, re.S)
        assert row, ticket_id
        shown = visible_text(row.group(0))
        assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日 \d\d:\d\d:\d\d \(UTC\+8\)", shown) and "撤回" in shown, (
            shown
        )
    sent = login(app, "tier1.clerk").get("/").get_data(as_text=True)
    assert "待对方答复" in visible_text(sent[sent.index('id="sent"') :]), visible_text(sent)
    used = members["core"].get("/credit-lines")["items"][0]["used_fen"]
    core = login(app, "core.clerk")
    page = core.get(f"/tickets/{issued['id']}").get_data(as_text=True)
    assert "/sign/cancel_ticket" in page
    page, html = confirm(core, "cancel_ticket", ticket_id=issued["id"])
    done = sign(core, html)
    assert done.status_code == 302, alerts(done.get_data(as_text=True))
    assert members["core"].get(f"/tickets/{issued['id']}")["status"] == "CANCELLED"
    assert members["core"].get("/credit-lines")["items"][0]["used_fen"] == used - 5_000_000
    assert offered["offer_id"]


# 13 -----------------------------------------------------------------------------------------
def test_the_desk_disables_a_login_and_resets_a_password_with_a_new_code_never_on_itself(
    app: Any, members: Members, portal: Any
) -> None:
    from support import OPERATOR_PIN

    desk = login(app, "operator")
    page = desk.get("/desk").get_data(as_text=True)
    own = portal.platform.cards.registry.active_card("operator").serial
    at = page.index(f'data-card="{own}"')
    mine = page[page.rindex("<tr", 0, at) :].split("</tr>")[0]
    assert "/sign/" not in mine  # no lost, replace, eliminate, disable or reset on its own card and login
    row = page[page.index(">tier1.clerk<") :].split("</tr>")[0]
    assert "sign/issue_card" not in row  # tier1.clerk has a card: replace it, never a second one
    assert "sign/disable_user" in row and "sign/reset_password" in row

    def do(action: str, **fields: str) -> Any:
        confirm_page, html = confirm(desk, action, **fields)
        assert confirm_page.status_code == 200, alerts(html)
        return desk.post(f"/sign/{action}/commit", data={**carried(html), "desk_pin": OPERATOR_PIN})

    user = login(app, "tier1.clerk")
    done = do("disable_user", user_id="tier1.clerk")
    assert done.status_code == 302, alerts(done.get_data(as_text=True))
    assert user.get("/").status_code == 302  # its session is closed
    browser = app.test_client()
    token = csrf(browser.get("/login").get_data(as_text=True))
    refused = browser.post(
        "/login", data={"username": "tier1.clerk", "password": PASSWORD, "csrf_token": token}
    )
    assert refused.status_code != 302
    assert 'data-testid="login-disabled"' in desk.get("/desk").get_data(as_text=True)
    shown = do("reset_password", user_id="tier1.clerk").get_data(as_text=True)
    code = re.search(r'data-testid="activation-code"><code>([A-Z0-9-]+)</code>', shown)
    assert code, visible_text(shown)[-600:]
    token = csrf(browser.get("/activate").get_data(as_text=True))
    answer = browser.post(
        "/activate",
        data={
            "csrf_token": token,
            "username": "tier1.clerk",
            "activation_code": code.group(1),
            "password": "tier1's own new password",
            "password_again": "tier1's own new password",
        },
    )
    assert answer.status_code == 302  # the user chose the password, not the desk
    page, html = confirm(desk, "disable_user", user_id="operator")
    assert 'type="password"' in html  # (the page asks) but the service refuses the desk itself:
    refused_self = desk.post("/sign/disable_user/commit", data={**carried(html), "desk_pin": OPERATOR_PIN})
    assert "另一位运营方管理员" in " ".join(alerts(refused_self.get_data(as_text=True)))


def test_the_desk_edits_a_members_details_on_the_ledger(app: Any, members: Members, portal: Any) -> None:
    from support import OPERATOR_PIN

    desk = login(app, "operator")
    page, html = confirm(
        desk, "update_org", org_id="tier2", name="无锡二级供应商", name_en="", day_basis="", fee_bp=""
    )
    assert page.status_code == 200 and "无锡二级供应商" in visible_text(html), alerts(html)
    done = desk.post("/sign/update_org/commit", data={**carried(html), "desk_pin": OPERATOR_PIN})
    assert done.status_code == 302, alerts(done.get_data(as_text=True))
    assert portal.platform.evaluate("GetMember", {"id": "tier2"})["name"] == "无锡二级供应商"
    assert "无锡二级供应商" in desk.get("/desk").get_data(as_text=True)
    page, html = confirm(desk, "update_org", org_id="bank", day_basis="364", back="/desk")
    assert alerts(html) and 'type="password"' not in html
    page, html = confirm(login(app, "tier1.clerk"), "update_org", org_id="tier2", name="x", back="/")
    assert 'type="password"' not in html  # the desk's page is the operator's only


def test_a_malformed_referer_after_a_refusal_goes_home_not_to_a_500(
    app: Any, members: Members, accepted: dict[str, Any]
) -> None:
    """A refused confirmation goes back to the page it came from (the Referer when no ``back``):
    a Referer urlsplit cannot read (a bracket out of place) was a 500."""
    holder = login(app, "tier1.clerk")
    token = csrf(holder.get("/").get_data(as_text=True))
    for referer in ("http://[bad/tickets", "http://]:1/x", "/tickets/x"):
        answer = holder.post(
            "/sign/transfer",
            data={"csrf_token": token, "ticket_id": accepted["id"], "to_org_id": "", "amount": "10.00"},
            headers={"Referer": referer},
        )
        assert answer.status_code == 302, (referer, answer.status_code)
        assert answer.headers["Location"].startswith("/"), answer.headers["Location"]
