"""The portal's certificate pages through Flask's test client: the holder's download, a bank's
upload (valid, then stale with what changed, forged for one changed byte), the public page the
QR code opens; and their attacks — another member's ticket, a form without its CSRF token, a
junk or oversized upload (a verdict or a 413 page, never a 500)."""

from __future__ import annotations

import io
import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from apiclient import Members
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import PIN
from test_portal_pages import csrf, form_token, portal_login

from goldticket.services import certificates

pytestmark = pytest.mark.functional


def download(browser: FlaskClient, ticket_id: str, token: str | None = None) -> Any:
    token = token if token is not None else csrf(browser.get(f"/tickets/{ticket_id}").get_data(as_text=True))
    return browser.post(f"/tickets/{ticket_id}/certificate", data={"csrf_token": token})


def upload(browser: FlaskClient, data: bytes, token: str | None = None) -> Any:
    token = token if token is not None else csrf(browser.get("/certificates/verify").get_data(as_text=True))
    return browser.post(
        "/certificates/verify",
        data={"csrf_token": token, "file": (io.BytesIO(data), "certificate.pdf")},
        content_type="multipart/form-data",
    )


def verdict(answer: Any) -> str:
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200, html[:500]
    match = re.search(r'data-verdict="([a-z_]+)"', html)
    assert match, html[:800]
    return match.group(1)


def test_the_holder_downloads_and_a_bank_sees_valid_then_stale_then_forged(
    app: Any, members: Members, accepted: dict[str, Any]
) -> None:
    holder = portal_login(app, "tier1.clerk")
    page = holder.get(f"/tickets/{accepted['id']}").get_data(as_text=True)
    assert f'action="/tickets/{accepted["id"]}/certificate"' in page and "下载证书（PDF）" in page
    got = download(holder, accepted["id"])
    assert got.status_code == 200 and got.mimetype == "application/pdf", got.get_data(as_text=True)[:300]
    disposition = got.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and got.headers["X-Certificate-Id"] in disposition
    pdf = got.data
    assert pdf.startswith(b"%PDF-")

    bank = portal_login(app, "bank.credit")
    answer = upload(bank, pdf)
    assert verdict(answer) == "valid"
    html = answer.get_data(as_text=True)
    assert "有效" in html and accepted["id"] in html and got.headers["X-Certificate-Id"] in html

    offered = members["tier1"].post(
        f"/tickets/{accepted['id']}/transfers",
        {"to_org_id": "tier2", "amount_fen": 30_000_000, "pin": PIN},
        expect=201,
    )
    members["tier2"].post(f"/offers/{offered['offer_id']}/accept", {"pin": PIN}, expect=200)
    stale = upload(bank, pdf)
    assert verdict(stale) == "stale"
    reasons = re.findall(r"<li>([^<]*)</li>", stale.get_data(as_text=True).split('data-testid="reasons"')[1])
    assert any("发起转让" in reason for reason in reasons), reasons  # what changed, in Chinese
    assert all(re.match(r"\d{4}年\d{1,2}月\d{1,2}日 \d\d:\d\d:\d\d \(UTC\+8\)", r) for r in reasons[:1]), (
        reasons
    )
    assert any("已拆分为 2 张" in reason for reason in reasons), reasons  # the split, not who holds it
    assert not any("300,000.00" in reason or "tier2" in reason for reason in reasons), reasons
    assert re.search(
        r"首次变更时间</dt><dd>\d{4}年\d{1,2}月\d{1,2}日 \d\d:\d\d:\d\d \(UTC\+8\)",
        stale.get_data(as_text=True),
    )
    bank.get("/lang/en")
    english = upload(bank, pdf).get_data(as_text=True)
    assert "Stale: genuine" in english and "offered for transfer" in english

    changed = bytearray(pdf)
    changed[len(changed) // 2] ^= 0x01
    forged = upload(bank, bytes(changed))
    assert verdict(forged) == "forged" and "Forged" in forged.get_data(as_text=True)


def test_only_the_holder_or_issuer_gets_a_certificate(
    app: Any, members: Members, accepted: dict[str, Any]
) -> None:
    stranger = portal_login(app, "tier2.clerk")
    refused = stranger.post(
        f"/tickets/{accepted['id']}/certificate", data={"csrf_token": form_token(stranger)}
    )
    assert refused.status_code == 404 and refused.mimetype == "text/html"
    assert (
        download(portal_login(app, "core.clerk"), accepted["id"]).mimetype == "application/pdf"
    )  # the issuer
    # a reader who is neither (the operator sees every ticket) is refused by the service
    from support import OPERATOR_PASSWORD

    desk = portal_login(app, "operator", OPERATOR_PASSWORD)
    page = desk.get(f"/tickets/{accepted['id']}").get_data(as_text=True)
    assert f'action="/tickets/{accepted["id"]}/certificate"' not in page
    assert download(desk, accepted["id"], token=csrf(page)).status_code == 403


def test_a_ticket_that_cannot_be_certified_says_why_on_its_page(app: Any, members: Members) -> None:
    from apiclient import MATURITY, invoice

    issued = members["core"].post(
        "/tickets",
        {
            "payee_org_id": "tier1",
            "amount_fen": 5_000_000,
            "maturity_date": MATURITY.isoformat(),
            "invoices": [invoice("INV-C", 5_000_000)],
            "pin": PIN,
        },
        expect=201,
    )
    holder = portal_login(app, "tier1.clerk")
    page = holder.get(f"/tickets/{issued['id']}").get_data(as_text=True)
    assert "下载证书" not in page  # pending acceptance: nothing to certify yet
    answer = download(holder, issued["id"], token=csrf(page))
    assert answer.status_code == 302 and answer.headers["Location"] == f"/tickets/{issued['id']}"
    assert "业务规则不允许此操作" in holder.get(answer.headers["Location"]).get_data(as_text=True)


def test_the_forms_need_their_csrf_token(app: Any, members: Members, accepted: dict[str, Any]) -> None:
    holder = portal_login(app, "tier1.clerk")
    assert holder.post(f"/tickets/{accepted['id']}/certificate").status_code == 400
    assert download(holder, accepted["id"], token="forged token").status_code == 400
    pdf = download(holder, accepted["id"]).data
    bank = portal_login(app, "bank.credit")
    missing = bank.post(
        "/certificates/verify",
        data={"file": (io.BytesIO(pdf), "c.pdf")},
        content_type="multipart/form-data",
    )
    assert missing.status_code == 400 and "data-verdict" not in missing.get_data(as_text=True)


def test_junk_and_oversized_uploads_answer_forged_or_413_never_500(app: Any, members: Members) -> None:
    bank = portal_login(app, "bank.credit")  # a bank user checks a paper (as in the API)
    token = csrf(bank.get("/certificates/verify").get_data(as_text=True))
    for junk in (b"", b"not a pdf", b"%PDF-1.7\n%%EOF", b"%PDF-" + bytes(range(256)) * 64):
        # no PDF at all is said to be no PDF certificate (#20 point 12), a PDF not ours forged
        expected = "forged" if junk.startswith(b"%PDF-") else "not_pdf"
        assert verdict(upload(bank, junk, token)) == expected, junk[:20]
    empty = bank.post("/certificates/verify", data={"csrf_token": token}, content_type="multipart/form-data")
    assert empty.status_code == 422 and "请选择证书的 PDF 文件" in empty.get_data(as_text=True)
    # built by hand: the test client would spool a large multipart body to a file it never closes
    body = b"--xyz\r\nContent-Disposition: form-data; name=csrf_token\r\n\r\n" + token.encode()
    body += b"\r\n--xyz\r\nContent-Disposition: form-data; name=file; filename=c.pdf\r\n\r\n%PDF-"
    body += b"0" * (3 * 1024 * 1024) + b"\r\n--xyz--\r\n"
    too_big = bank.post("/certificates/verify", data=body, content_type="multipart/form-data; boundary=xyz")
    assert too_big.status_code == 413 and too_big.mimetype == "text/html"
    # a file within the limit the page states (2048 KB), above the application's 256 KiB: checked
    within = body.replace(b"0" * (3 * 1024 * 1024), b"0" * (1024 * 1024))
    checked = bank.post("/certificates/verify", data=within, content_type="multipart/form-data; boundary=xyz")
    assert checked.status_code == 200 and verdict(checked) == "forged", checked.status_code
    stranger = app.test_client().post(  # no session: the application's 256 KiB, nothing read
        "/certificates/verify", data=within, content_type="multipart/form-data; boundary=xyz"
    )
    assert stranger.status_code == 413
    assert "文件超出此表单的大小限制" in too_big.get_data(as_text=True)
    assert 'data-testid="user"' in too_big.get_data(as_text=True)  # the header stays (#20 point 12)
    broken = bank.post(
        "/certificates/verify",
        data=b"--xyz\r\nContent-Disposition: form-data; name=file\r\n\r\n%PDF-1.7",
        content_type="multipart/form-data; boundary=xyz",
    )
    assert 400 <= broken.status_code < 500


def test_the_public_page_needs_no_login_and_invites_the_upload(
    app: Any, portal: Any, members: Members, accepted: dict[str, Any]
) -> None:
    got = download(portal_login(app, "tier1.clerk"), accepted["id"])
    certificate_id = got.headers["X-Certificate-Id"]
    anonymous = app.test_client()
    qr = urlsplit(certificates.verify_url(portal.platform, certificate_id))  # what the QR code opens
    page = anonymous.get(qr.path)
    html = page.get_data(as_text=True)
    assert verdict(page) == "valid" and "平台出具过此编号的证书" in html
    # genuine, valid or stale and the status: no amount, member or transaction (issue #17)
    assert "1,000,000.00" not in html and "tier1" not in html and accepted["tx_id"] not in html
    assert 'href="/certificates/verify"' in html and "上传 PDF 完整核验" in html
    anonymous.get(f"/lang/en?next=/verify/{certificate_id}")
    assert "The platform issued a certificate with this id." in anonymous.get(
        f"/verify/{certificate_id}"
    ).get_data(as_text=True)
    unknown = anonymous.get("/verify/CT00000000000000000000")
    assert verdict(unknown) == "forged" and "issued no certificate" in unknown.get_data(as_text=True)
    hostile = anonymous.get("/verify/%3Cscript%3Ealert(1)")
    assert verdict(hostile) == "forged" and "<script>" not in hostile.get_data(as_text=True)
    assert anonymous.get("/certificates/verify").headers["Location"].startswith("/login")


def test_a_settled_tickets_statement_is_shown_again_with_its_pdf(
    app: Any, portal: Any, members: Members, accepted: dict[str, Any]
) -> None:
    import dataclasses

    from apiclient import MATURITY

    root = accepted["id"]
    offered = members["tier1"].post(
        f"/tickets/{root}/transfers", {"to_org_id": "tier2", "amount_fen": 25_000_000, "pin": PIN}, expect=201
    )
    piece = members["tier2"].post(f"/offers/{offered['offer_id']}/accept", {"pin": PIN}, expect=200)[
        "transferred"
    ]
    issuer = portal_login(app, "core.clerk")
    assert 'id="statements"' not in issuer.get(f"/tickets/{root}").get_data(as_text=True)  # not settled yet
    portal.platform.settings = dataclasses.replace(portal.platform.settings, today=MATURITY)
    statement = members["core"].post(f"/tickets/{root}/settle", {"pin": PIN}, expect=200)
    path = f"/tickets/{root}/statements/{statement['statement_id']}"
    for username, ticket_id in (("core.clerk", root), ("tier2.clerk", piece["id"])):
        browser = portal_login(app, username)
        ticket_page = browser.get(f"/tickets/{ticket_id}").get_data(as_text=True)
        assert f'href="{path}"' in ticket_page, username
        page = browser.get(path)
        html = page.get_data(as_text=True)
        assert page.status_code == 200 and "清分单" in html and "250,000.00" in html
        # the issuer reads every line; tier2 its own, not tier1's 750,000.00 (need to know)
        assert ("750,000.00" in html) == (username == "core.clerk"), username
        pdf = browser.get(path + "/pdf")
        assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF-")
        assert pdf.headers["Content-Disposition"].startswith("attachment;")
    assert portal_login(app, "bank.credit").get(path).status_code == 404  # no part in this ticket
    assert portal_login(app, "bank.credit").get(path + "/pdf").status_code == 404
    assert issuer.get(f"/tickets/{root}/statements/ST0000").status_code == 404


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.one_of(st.binary(max_size=2048), st.binary(max_size=1024).map(lambda tail: b"%PDF-1.7\n" + tail))
)
def test_any_upload_on_the_page_answers_forged(app: Any, members: Members, data: bytes) -> None:
    browser = portal_login(app, "bank.credit")
    assert verdict(upload(browser, data)) in (
        ("forged",) if data.startswith(b"%PDF-") else ("forged", "not_pdf")
    )


def test_a_download_past_the_hourly_limit_says_so_not_failed_logins(
    app: Any, members: Members, accepted: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from goldticket.services.certificates import issue

    monkeypatch.setattr(issue, "DOWNLOADS_PER_HOUR", 0)
    holder = portal_login(app, "tier1.clerk")
    page = holder.get(f"/tickets/{accepted['id']}").get_data(as_text=True)
    answer = download(holder, accepted["id"], token=csrf(page))
    assert answer.status_code == 302 and answer.headers["Location"] == f"/tickets/{accepted['id']}"
    shown = holder.get(answer.headers["Location"]).get_data(as_text=True)
    assert "登录失败" not in shown
    assert re.search(r"本小时下载的证书已达上限，请 \d+ 秒后再试", shown), shown[:2000]
