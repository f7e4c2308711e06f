"""The portal's pages through Flask's test client (the browser tests walk them in Chromium):
each check attacked here — a page without a login, a redirect off the site, the session
cookie's flags, a PIN echoed or logged, a double submit, another member's application, the
desk for a member, error pages."""

from __future__ import annotations

import logging
import re
import stat
from typing import Any

import pytest
from apiclient import MATURITY, PASSWORD, Members, invoice
from flask.testing import FlaskClient
from support import PIN

WRONG_PIN = "97531864"


def csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html[:500]
    return match.group(1)


def request_key(html: str) -> str:
    match = re.search(r'name="request_key" value="([^"]+)"', html)
    assert match, html[:500]
    return match.group(1)


def portal_login(app: Any, username: str, password: str = PASSWORD, **client: Any) -> FlaskClient:
    browser = app.test_client(**client)
    page = browser.get("/login").get_data(as_text=True)
    answer = browser.post(
        "/login", data={"username": username, "password": password, "csrf_token": csrf(page)}
    )
    assert answer.status_code == 302, answer.get_data(as_text=True)[:500]
    return browser


def form_token(browser: FlaskClient) -> str:
    return csrf(browser.get("/").get_data(as_text=True))


def test_every_page_needs_a_login(app: Any) -> None:
    anonymous = app.test_client()
    for path in ("/", "/issue", "/credit", "/desk", "/tickets/TK0", "/applications/FA0"):
        answer = anonymous.get(path)
        assert answer.status_code == 302 and answer.headers["Location"].startswith("/login"), path
    token = csrf(anonymous.get("/login").get_data(as_text=True))
    answer = anonymous.post("/sign/accept/commit", data={"csrf_token": token, "ticket_id": "TK0", "pin": PIN})
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/login")


def test_a_login_goes_back_only_to_this_site(app: Any, members: Members) -> None:
    for target, expected in (
        ("//evil.example/x", "/"),
        ("https://evil.example/", "/"),
        ("/credit", "/credit"),
    ):
        browser = app.test_client()
        token = csrf(browser.get("/login").get_data(as_text=True))
        answer = browser.post(
            f"/login?next={target}",
            data={"username": "tier1.clerk", "password": PASSWORD, "csrf_token": token},
        )
        assert answer.headers["Location"] == expected, target


def test_a_wrong_password_is_refused_on_the_form(app: Any, members: Members) -> None:
    browser = app.test_client()
    token = csrf(browser.get("/login").get_data(as_text=True))
    answer = browser.post(
        "/login", data={"username": "tier1.clerk", "password": "not it at all", "csrf_token": token}
    )
    assert answer.status_code == 401 and "用户名或密码错误" in answer.get_data(as_text=True)
    assert browser.get("/").status_code == 302


def test_the_session_cookie_is_http_only_same_site_and_secure_over_https(app: Any, members: Members) -> None:
    for base, secure in (("http://localhost", False), ("https://localhost", True)):
        browser = app.test_client()
        token = csrf(browser.get("/login", base_url=base).get_data(as_text=True))
        answer = browser.post(
            "/login",
            base_url=base,
            data={"username": "tier1.clerk", "password": PASSWORD, "csrf_token": token},
            headers={"Referer": f"{base}/login"},  # over HTTPS, CSRF also checks the referrer
        )
        assert answer.status_code == 302, (base, answer.status_code, answer.get_data(as_text=True)[-600:])
        cookie = answer.headers["Set-Cookie"]
        assert cookie.startswith("goldticket_session=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert ("Secure" in cookie) is secure, cookie


def test_logout_revokes_the_login(app: Any, members: Members) -> None:
    browser = portal_login(app, "tier1.clerk")
    cookie = browser.get_cookie("goldticket_session")
    assert cookie is not None
    assert browser.post("/logout", data={"csrf_token": form_token(browser)}).status_code == 302
    replay = app.test_client()
    replay.set_cookie("goldticket_session", cookie.value)
    assert replay.get("/").status_code == 302


def test_a_wrong_pin_is_never_echoed_nor_logged(
    app: Any, members: Members, caplog: pytest.LogCaptureFixture
) -> None:
    issued = members["core"].post(
        "/tickets",
        {
            "payee_org_id": "tier1",
            "amount_fen": 100_000_000,
            "maturity_date": MATURITY.isoformat(),
            "invoices": [invoice("INV-P", 100_000_000)],
            "pin": PIN,
        },
        expect=201,
    )
    browser = portal_login(app, "tier1.clerk")
    token = form_token(browser)
    page = browser.post("/sign/accept", data={"csrf_token": token, "ticket_id": issued["id"]})
    assert page.status_code == 200 and "壹佰万元整" in page.get_data(as_text=True)
    key = request_key(page.get_data(as_text=True))
    caplog.set_level(logging.DEBUG)
    data = {"csrf_token": token, "ticket_id": issued["id"], "request_key": key}
    wrong = browser.post("/sign/accept/commit", data={**data, "pin": WRONG_PIN})
    body = wrong.get_data(as_text=True)
    assert wrong.status_code == 422 and "还可尝试 4 次" in body, re.findall(
        r"data-testid=.error.>([^<]*)<", body
    )
    assert WRONG_PIN not in body and WRONG_PIN not in caplog.text
    right = browser.post("/sign/accept/commit", data={**data, "pin": PIN})
    assert right.status_code == 302 and right.headers["Location"] == f"/tickets/{issued['id']}"
    assert PIN not in caplog.text
    assert members["tier1"].get(f"/tickets/{issued['id']}")["status"] == "ACTIVE"


def test_a_double_submit_issues_once_and_the_invoice_is_kept_0600(
    app: Any, members: Members, portal: Any
) -> None:
    browser = portal_login(app, "core.clerk")
    token = csrf(browser.get("/issue").get_data(as_text=True))
    content = b"%PDF-1.7 invoice of the double submit"
    form = {
        "csrf_token": token,
        "payee_org_id": "tier1",
        "amount": "2,500.00",
        "maturity_date": MATURITY.isoformat(),
        "invoice_number": "INV-TWICE",
    }
    from io import BytesIO

    page = browser.post("/issue", data={**form, "invoice_file": (BytesIO(content), "invoice.pdf")})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "贰仟伍佰元整" in html
    carried = dict(re.findall(r'<input type="hidden" name="([a-z0-9_]+)" value="([^"]*)"', html))
    assert "pin" not in carried
    before = members["core"].get("/tickets")["total"]
    first = browser.post("/sign/issue/commit", data={**carried, "pin": PIN})
    second = browser.post("/sign/issue/commit", data={**carried, "pin": PIN})
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"], browser.get("/").get_data(as_text=True)[
        -1500:
    ]
    assert first.headers["Location"].startswith("/tickets/TK"), re.findall(
        r"role=.alert.>([^<]*)<", browser.get("/").get_data(as_text=True)
    )
    assert members["core"].get("/tickets")["total"] == before + 1
    import hashlib

    digest = hashlib.sha256(content).hexdigest()
    stored = portal.settings.data_dir / "invoices" / digest
    assert stored.read_bytes() == content and stat.S_IMODE(stored.stat().st_mode) == 0o600
    download = f"{first.headers['Location']}/invoices/{digest}"
    with portal_login(app, "tier1.clerk").get(download) as answer:  # the payee reads it
        assert answer.status_code == 200 and answer.data == content
    assert portal_login(app, "tier2.clerk").get(download).status_code == 404  # a stranger does not
    # a ticket's page serves only the documents behind that ticket, not any stored file
    from goldticket.services import invoices

    foreign = invoices.store_invoice(portal.settings, b"%PDF-1.7 an invoice behind another ticket")
    with portal_login(app, "tier1.clerk").get(f"{first.headers['Location']}/invoices/{foreign}") as answer:
        assert answer.status_code == 404


def test_another_members_application_reads_as_absent(
    app: Any, members: Members, accepted: dict[str, Any]
) -> None:
    applied = members["tier1"].post(
        f"/tickets/{accepted['id']}/financing",
        {"bank_org_id": "bank", "amount_fen": 10_000_000, "max_annual_rate_bp": 1_000, "pin": PIN},
        expect=201,
    )
    path = f"/applications/{applied['application_id']}"
    assert portal_login(app, "bank.credit").get(path).status_code == 200
    stranger = portal_login(app, "tier2.clerk")
    answer = stranger.get(path)
    assert answer.status_code == 404 and "未找到" in answer.get_data(as_text=True)


def test_the_desk_is_the_operators_only(app: Any, members: Members, portal: Any) -> None:
    member = portal_login(app, "tier1.clerk")
    assert member.get("/desk").status_code == 404
    serial = members.cards["core"]
    token = form_token(member)
    answer = member.post("/sign/report_lost/commit", data={"csrf_token": token, "card_id": serial})
    assert answer.status_code in (302, 422)
    assert portal.platform.cards.registry.get(serial).status == "ACTIVE"


def test_errors_are_pages_of_our_own_and_the_api_keeps_json(app: Any) -> None:
    @app.route("/boom")
    def boom() -> Any:
        raise RuntimeError("a secret detail of the failure")

    browser = app.test_client()
    page = browser.get("/nothing-here")
    assert (
        page.status_code == 404 and page.mimetype == "text/html" and "未找到" in page.get_data(as_text=True)
    )
    assert browser.get("/api/v1/nothing-here").get_json()["error"] == "not_found"
    failed = browser.get("/boom")
    text = failed.get_data(as_text=True)
    assert failed.status_code == 500 and failed.mimetype == "text/html"
    assert "出错了" in text and "secret detail" not in text and "Traceback" not in text


def test_a_refused_form_comes_back_with_the_sentence_and_what_was_typed(
    app: Any, members: Members, accepted: dict[str, Any]
) -> None:
    browser = portal_login(app, "tier1.clerk")
    back = f"/tickets/{accepted['id']}/transfer"
    token = csrf(browser.get(back).get_data(as_text=True))
    form = {
        "csrf_token": token,
        "ticket_id": accepted["id"],
        "to_org_id": "tier2",
        "amount": "1,000,000.01",
        "back": back,
    }
    answer = browser.post("/sign/transfer", data=form)
    assert answer.status_code == 302 and answer.headers["Location"] == back
    page = browser.get(back).get_data(as_text=True)
    assert (
        re.findall(r'role="alert">([^<]*)<', page)
        == ["业务规则不允许此操作。 金票票面金额为 1,000,000.00，转让金额不能超过此数。"]
        and 'value="1,000,000.01"' in page
    )
    assert members["tier1"].get(f"/tickets/{accepted['id']}")["status"] == "ACTIVE"


def test_the_desk_adds_a_user_and_walks_a_card_through_its_life(
    app: Any, members: Members, portal: Any
) -> None:
    from support import OPERATOR_PASSWORD, OPERATOR_PIN

    desk = portal_login(app, "operator", OPERATOR_PASSWORD)
    token = csrf(desk.get("/desk").get_data(as_text=True))

    def do(action: str, secrets: dict[str, str] | None = None, **fields: str) -> Any:
        page = desk.post(f"/sign/{action}", data={"csrf_token": token, **fields})
        html = page.get_data(as_text=True)
        assert page.status_code == 200, re.findall(r"role=.alert.>([^<]*)<", html)
        secrets = {**(secrets or {}), "desk_pin": OPERATOR_PIN}  # the operator admin's own card
        for secret in secrets:  # typed on the confirmation page, never carried
            assert 'type="password"' in html and f'type="hidden" name="{secret}"' not in html
        carried = dict(re.findall(r'<input type="hidden" name="([a-z0-9_]+)" value="([^"]*)"', html))
        done = desk.post(f"/sign/{action}/commit", data={**carried, **secrets})
        if action == "create_user":  # the code is shown once, on a page of its own
            assert done.status_code == 200
            return done
        assert done.status_code == 302 and done.headers["Location"] == "/desk", re.findall(
            r"role=.alert.>([^<]*)<", done.get_data(as_text=True)
        )
        return done

    shown = do("create_user", org_id="tier2", username="tier2.new", role="clerk")
    code = re.search(r'data-testid="activation-code"><code>([A-Z0-9-]+)</code>', shown.get_data(as_text=True))
    assert code, shown.get_data(as_text=True)[-1500:]
    assert "tier2.new" in desk.get("/desk").get_data(as_text=True)
    user = app.test_client()
    form = csrf(user.get("/activate").get_data(as_text=True))
    answer = user.post(
        "/activate",
        data={
            "csrf_token": form,
            "username": "tier2.new",
            "activation_code": code.group(1),
            "password": "a new clerk's password",
            "password_again": "a new clerk's password",
        },
    )
    assert answer.status_code == 302 and answer.headers["Location"] == "/me"
    do("issue_card", user_id="tier2.new")
    registry = portal.platform.cards.registry
    serial = registry.cards_of("tier2.new")[-1].serial
    mine = csrf(user.get("/me").get_data(as_text=True))
    user.post(f"/me/cards/{serial}/pin", data={"csrf_token": mine, "new_pin": PIN, "new_pin_again": PIN})
    assert registry.active_card("tier2.new").serial == serial
    do("report_lost", card_id=serial)
    assert registry.get(serial).status == "SUSPENDED"
    page = desk.get("/desk").get_data(as_text=True)
    assert "Suspended on the ledger" in page or "账本上已挂失" in page
    do("replace_card", {"operator_password": OPERATOR_PASSWORD}, card_id=serial)
    replacement = registry.cards_of("tier2.new")[-1].serial
    assert replacement != serial and registry.get(replacement).status == "OPENED"
    user.post(f"/me/cards/{replacement}/recover", data={"csrf_token": mine, "pin": PIN})
    assert registry.active_card("tier2.new").serial == replacement
    # the desk offers no second card to a user who has one, and no action on its own card
    page = desk.get("/desk").get_data(as_text=True)
    own = registry.active_card("operator").serial
    assert f'value="{own}"' not in page
    do("eliminate_card", card_id=replacement)
    assert registry.get(replacement).status != "ACTIVE"
    # the last card gone, the login goes with it: the open session and a new login are refused
    assert user.get("/").status_code == 302
    browser = app.test_client()
    login_page = browser.get("/login").get_data(as_text=True)
    refused = browser.post(
        "/login",
        data={"username": "tier2.new", "password": "a new clerk's password", "csrf_token": csrf(login_page)},
    )
    assert refused.status_code != 302
    page = desk.get("/desk").get_data(as_text=True)
    assert "Login disabled" in page or "登录已停用" in page


def test_pages_refuse_frames_and_foreign_scripts(app: Any, members: Members) -> None:
    page = portal_login(app, "tier1.clerk").get("/")
    policy = page.headers["Content-Security-Policy"]
    assert (
        "frame-ancestors 'none'" in policy and "default-src 'self'" in policy and "script-src" not in policy
    )
    assert page.headers["X-Frame-Options"] == "DENY" and page.headers["Cache-Control"] == "no-store"


def test_the_operator_freezes_and_unfreezes_a_ticket(
    app: Any, members: Members, accepted: dict[str, Any]
) -> None:
    from support import OPERATOR_PASSWORD, OPERATOR_PIN

    desk = portal_login(app, "operator", OPERATOR_PASSWORD)
    ticket_page = desk.get(f"/tickets/{accepted['id']}").get_data(as_text=True)
    token = csrf(ticket_page)
    assert "sign/freeze" in ticket_page
    for action, fields, status in (
        ("freeze", {"reason": "a court order"}, "FROZEN"),
        ("unfreeze", {}, "ACTIVE"),
    ):
        page = desk.post(f"/sign/{action}", data={"csrf_token": token, "ticket_id": accepted["id"], **fields})
        key = request_key(page.get_data(as_text=True))
        data = {
            "csrf_token": token,
            "ticket_id": accepted["id"],
            "request_key": key,
            "pin": OPERATOR_PIN,
            **fields,
        }
        done = desk.post(f"/sign/{action}/commit", data=data)
        assert done.status_code == 302 and done.headers["Location"] == f"/tickets/{accepted['id']}"
        assert members["tier1"].get(f"/tickets/{accepted['id']}")["status"] == status
