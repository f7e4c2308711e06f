"""The operations console in Chromium on the embedded ledger: the operator's navigation leads
there, in Chinese and English; the page refreshes itself (an alert appears and goes without a
reload); a supplier who types the address gets 403."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from portal_browser_kit import LiveSite, shot

from goldticket.signing.client import GatewayClient


def test_the_operator_watches_the_console_refresh_itself(
    people: Any, site: LiveSite, artifacts: Path
) -> None:
    operator = people("operator", "zh")
    page = operator.go("/")
    page.click("nav.main >> text=运维监控")
    page.wait_for_selector("h1:has-text('运维监控')")
    assert page.locator('[data-alert="none"]').inner_text() == "无告警"
    assert page.locator("svg.ops-spark").count() >= 5
    first = page.locator("[data-testid=taken]").get_attribute("data-taken")
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    platform = site.portal.platform
    # the portal now signs through a gateway that does not answer: the alert appears on its own
    platform.gateway = GatewayClient("http://127.0.0.1:9", "a secret of twenty chars")
    try:
        started = time.monotonic()
        page.wait_for_selector('[data-alert="gateway_down"]', timeout=15_000)
        appeared = time.monotonic() - started
        shot(page, artifacts, "operations-console-zh")
    finally:
        platform.gateway = None
    page.wait_for_selector('[data-alert="none"]', timeout=15_000)
    assert page.locator("[data-testid=taken]").get_attribute("data-taken") != first
    assert not errors, errors  # no CSP refusal, no failed fetch
    print(
        f"\nconsole (local ledger): an alert appeared {appeared:.1f} s after its condition, without a reload"
    )


def test_the_console_in_english_and_not_for_a_supplier(people: Any, site: LiveSite) -> None:
    operator = people("operator", "en")
    page = operator.go("/operations")
    assert page.locator("h1").inner_text() == "Operations"
    assert page.locator("text=Signing gateway").count() == 1
    supplier = people("szjm.clerk", "en")
    assert "/operations" not in supplier.go("/").content()
    answer = supplier.page.goto(site.url + "/operations")
    assert answer is not None and answer.status == 403
    answer = supplier.page.goto(site.url + "/operations/status.json")
    assert answer is not None and answer.status == 403
