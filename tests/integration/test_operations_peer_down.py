"""Done-when of the operations console (#18): on a real Fabric network the operator has the
console open in Chromium, a peer is killed, and the page shows that node down, with its
alert on top, within 15 s, without a reload; the peer is started again afterwards (and the page
shows it back up) so the tests after this one find the whole network."""

from __future__ import annotations

import dataclasses
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fabric_checks import kill, restart
from support import OPERATOR_PASSWORD
from werkzeug.serving import make_server

from goldticket.services import setup
from goldticket.settings import Settings
from web import create_app

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "browser"))
from portal_browser_kit import ARTIFACTS, CHROMIUM, LAUNCH_FLAGS  # noqa: E402

pytestmark = [pytest.mark.integration, pytest.mark.browser]
SHOWN_WITHIN = 15.0  # seconds, the bound


@pytest.fixture
def site(settings: Settings) -> Iterator[tuple[str, Any]]:
    portal = setup.init_portal(dataclasses.replace(settings, password_memory_kib=8192))
    app = create_app({"GOLDTICKET_PORTAL": portal, "FOLLOW_SECONDS": 0, "SECRET_KEY": "console test"})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", portal
    finally:
        server.shutdown()
        portal.close()


def test_the_console_shows_a_stopped_peer_within_15_seconds(
    site: tuple[str, Any], fabric_network: Any
) -> None:
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    url, portal = site
    portal.follower.catch_up()
    layout = fabric_network.layout
    victim = layout.peers[-1].name  # not the portal's gateway peer (the first of the profile)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_FLAGS)
        try:
            page = browser.new_context(locale="en-US").new_page()
            page.set_default_timeout(30_000)
            page.goto(f"{url}/lang/en")
            page.goto(f"{url}/login")
            page.fill("input[name=username]", "operator")
            page.fill("input[name=password]", OPERATOR_PASSWORD)
            page.click("main form button[type=submit]")
            page.wait_for_selector("[data-testid=user]")
            page.goto(f"{url}/operations")
            rows = page.locator("table[data-testid=nodes] tr[data-node]")
            assert rows.count() == len(layout.peers) + len(layout.orderers)
            page.wait_for_selector(f'tr[data-node="{victim}"][data-up="true"]')
            killed_at = time.monotonic()
            kill(layout, victim)
            try:
                page.wait_for_selector(
                    f'tr[data-node="{victim}"][data-up="false"]', timeout=int(SHOWN_WITHIN * 1000)
                )
                shown = time.monotonic() - killed_at
                alert = page.locator(f'[data-alert="node_down"][data-node="{victim}"]')
                assert alert.count() == 1 and victim in alert.inner_text()
                ARTIFACTS.mkdir(exist_ok=True)
                page.screenshot(path=str(ARTIFACTS / "operations-peer-down.png"), full_page=True)
            finally:
                restart(layout, victim)
            started_at = time.monotonic()
            page.wait_for_selector(f'tr[data-node="{victim}"][data-up="true"]', timeout=30_000)
            back = time.monotonic() - started_at
            assert page.locator(f'[data-alert="node_down"][data-node="{victim}"]').count() == 0
        finally:
            browser.close()
    print(
        f"\nconsole: {victim} shown down {shown:.1f} s after kill -9 (bound {SHOWN_WITHIN:.0f} s); up again {back:.1f} s after its restart"
    )
    assert shown <= SHOWN_WITHIN
