"""Browser fixtures: Debian's Chromium driven by Playwright (never a downloaded browser), one
per module (Playwright's sync API runs an event loop in this thread while it is open, so it is
closed before the rest of the suite, whose asyncio tests need the thread's loop free), over the real application served by werkzeug on a free port, on a data
directory holding the demo consortium (``goldticket demo``'s services). Screenshots go to
``artifacts/`` (ignored by git)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from portal_browser_kit import ARTIFACTS, CHROMIUM, LAUNCH_FLAGS, LiveSite, User
from support import OPERATOR_PASSWORD, OPERATOR_PIN
from werkzeug.serving import make_server

from goldticket.services import accounts, setup
from goldticket.services.demo import run_demo
from goldticket.settings import Settings
from web import create_app


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium: apt-get install chromium (.ci/run installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_FLAGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, browser: Any) -> Iterator[LiveSite]:
    """The portal over the demo data, served for the module's tests (each uses fresh tickets)."""
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("portal") / "data",
        env="test",
        card_kdf_n=2**14,
        signer_rate=1000.0,
        operator_password=OPERATOR_PASSWORD,
        operator_pin=OPERATOR_PIN,
        password_memory_kib=8192,
    )
    portal = setup.init_portal(settings)
    run_demo(portal.platform, lambda text: None)
    accounts.ensure_demo_accounts(portal)
    portal.follower.catch_up()
    app = create_app({"GOLDTICKET_PORTAL": portal, "FOLLOW_SECONDS": 0, "SECRET_KEY": "browser tests"})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveSite(f"http://127.0.0.1:{server.server_port}", portal, settings)
    finally:
        server.shutdown()
        portal.close()


@pytest.fixture(scope="module")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def people(browser: Any, site: LiveSite) -> Iterator[Any]:
    opened: list[User] = []

    def login(username: str, lang: str = "zh", **context: Any) -> User:
        user = User(browser, site, username, lang, **context)
        opened.append(user)
        return user

    yield login
    for user in opened:
        user.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)
