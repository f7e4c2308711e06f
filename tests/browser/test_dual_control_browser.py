"""#20 a maker-checker (经办/复核) issue in the browser: the core's admin sets issuing above
500,000.00 under review; the clerk issues 1,234,567.89 through the issue form, which is prepared
(not signed into effect); the admin finds it under 复核, sees every field it will sign (payee,
amount in figures and capitals, maturity, invoice, maker, the intent's SHA-256) and signs it with
their own card; the ticket's history names both. In Chinese with no untranslated text, and in
English."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from playwright.sync_api import expect
from portal_browser_kit import DEMO_PASSWORD, LiveSite, faults, shot
from test_portal_browser import ticket_id_of

from goldticket import domain as d
from goldticket.services import accounts, dual_control, members
from goldticket.services.demo import DEMO_PIN

AMOUNT_FEN = 123_456_789


def _issue_form(page: Any, site: LiveSite, number: str) -> None:
    maturity = site.portal.platform.today() + dt.timedelta(days=60)
    page.select_option("select[name=payee_org_id]", "szjm")
    page.fill("input[name=amount]", d.format_fen(AMOUNT_FEN))
    page.fill("input[name=maturity_date]", maturity.isoformat())
    page.fill("input[name=invoice_number]", number)
    page.set_input_files(
        "input[name=invoice_file]",
        files=[{"name": "invoice.pdf", "mimeType": "application/pdf", "buffer": number.encode()}],
    )
    page.click("main form button[type=submit]")


def test_a_maker_checker_issue(site: LiveSite, people: Any, artifacts: Path) -> None:
    platform = site.portal.platform
    members.add_user(
        platform, platform.desk(), member_id="hdzg", username="hdzg.admin", role="admin", pin=DEMO_PIN
    )
    accounts.ensure_account(
        site.portal, username="hdzg.admin", org_id="hdzg", role="admin", password=DEMO_PASSWORD
    )

    # the admin puts issuing above 500,000.00 under review
    admin = people("hdzg.admin", "zh")
    page = admin.go("/reviews")
    assert not faults(page.content(), "zh")
    page.click("a[href='/reviews/settings']")
    page.check("input[name=op_issue]")
    page.fill("input[name=threshold]", "500,000.00")
    page.click("main form button[type=submit]")
    assert "伍拾万元整" in page.inner_text("[data-testid=to-sign]")
    page = admin.sign(DEMO_PIN)
    expect(page.locator("[data-testid=dual-control]")).to_contain_text("¥500,000.00")
    assert dual_control.get_setting(platform, "hdzg")["operations"] == ["issue"]

    # the clerk issues above it: prepared, nothing issued
    clerk = people("hdzg.clerk", "zh")
    page = clerk.go("/issue")
    _issue_form(page, site, "INV-MC-BROWSER")
    expect(page.locator("[data-testid=for-review]")).to_contain_text("须由本单位另一位用户复核签署")
    page = clerk.sign(DEMO_PIN)
    assert "/reviews" in page.url
    (operation,) = dual_control.list_operations(platform, platform.actor("hdzg.clerk"), status="PENDING")
    expect(page.locator(f"[data-testid=prepared-{operation['id']}]")).to_contain_text("待复核")
    assert not faults(page.content(), "zh")
    shot(page, artifacts, "zh-maker-checker-prepared")
    assert page.locator(f"[data-testid=review-{operation['id']}]").count() == 0  # not the maker's to review

    # the admin reviews exactly what will be signed, and signs it with their own card
    page = admin.go("/reviews")
    page.click(f"[data-testid=review-{operation['id']}] button.primary")
    shown = page.inner_text("[data-testid=to-sign]")
    assert "苏州精密零部件有限公司" in shown and d.chinese_capital(AMOUNT_FEN) in shown
    assert "INV-MC-BROWSER" in shown and "hdzg.clerk" in shown
    assert d.intent_sha256("IssueTicket", operation["request"]) in shown
    assert not faults(page.content(), "zh")
    shot(page, artifacts, "zh-maker-checker-review")
    page = admin.sign(DEMO_PIN)
    ticket_id = ticket_id_of(page)
    expect(page.locator("#history [data-testid=maker]")).to_contain_text("hdzg.clerk")
    expect(page.locator("#history")).to_contain_text("hdzg.admin")
    assert not faults(page.content(), "zh")
    shot(page, artifacts, "zh-maker-checker-history")
    assert (
        dual_control.get_operation(platform, platform.actor("hdzg.admin"), operation["id"])["status"]
        == "APPROVED"
    )

    # in English, the clerk sees it approved by the admin
    english = people("hdzg.clerk", "en")
    page = english.go("/reviews")
    row = page.locator(f"[data-testid=prepared-{operation['id']}]")
    expect(row).to_contain_text("Approved")
    expect(row).to_contain_text("hdzg.admin")
    page = english.go(f"/tickets/{ticket_id}")
    expect(page.locator("#history [data-testid=maker]")).to_contain_text("prepared by hdzg.clerk")
