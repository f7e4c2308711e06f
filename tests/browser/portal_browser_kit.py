"""Helpers of the browser tests: the live site, a person in their own browser context,
screenshots under artifacts/ (ignored by git)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from pathlib import Path
from typing import Any

from support import OPERATOR_PASSWORD

from goldticket.services import accounts
from goldticket.services.portal import Portal
from goldticket.settings import Settings

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
LAUNCH_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]
DEMO_PASSWORD = accounts.DEMO_PASSWORD


@dataclasses.dataclass
class LiveSite:
    url: str
    portal: Portal
    settings: Settings

    def at(self, today: dt.date | None) -> None:
        """Move the platform's clock (the demo clock; GOLDTICKET_TODAY in dev)."""
        self.portal.platform.settings = dataclasses.replace(self.settings, today=today)


def shot(page: Any, artifacts: Path, name: str) -> None:
    page.screenshot(path=str(artifacts / f"{re.sub(r'[^a-z0-9_-]+', '-', name.lower())}.png"), full_page=True)


class User:
    """One person in their own browser context (their own cookies)."""

    def __init__(self, browser: Any, site: LiveSite, username: str, lang: str, **context: Any) -> None:
        self.site = site
        self.context = browser.new_context(locale="zh-CN" if lang == "zh" else "en-US", **context)
        self.page = self.context.new_page()
        self.page.set_default_timeout(15_000)
        self.page.goto(f"{site.url}/lang/{lang}")
        self.page.goto(f"{site.url}/login")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", OPERATOR_PASSWORD if username == "operator" else DEMO_PASSWORD)
        self.page.click("main form button[type=submit]")
        self.page.wait_for_selector("[data-testid=user]")

    def go(self, path: str) -> Any:
        self.page.goto(self.site.url + path)
        return self.page

    def sign(self, pin: str) -> Any:
        """On the confirmation page: type the PIN and sign."""
        self.page.fill("input[name=pin]", pin)
        self.page.click("form[action*='/commit'] button[type=submit]")
        self.page.wait_for_load_state()
        return self.page

    def close(self) -> None:
        self.context.close()
