"""Helpers of the browser tests: the live site, a person in their own browser context,
screenshots under artifacts/ (ignored by git)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
from collections import Counter
from collections.abc import Iterator
from html import unescape
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


# ``GOLDTICKET_SCREENSHOTS=<directory>``: the tour's screenshots (docs/screenshots/, linked from
# docs/portal-tour.md) are written there, the visible window only, in a palette of 128 colours.
SCREENSHOTS_ENV = "GOLDTICKET_SCREENSHOTS"


def doc_shot(page: Any, name: str) -> Path | None:
    """A screenshot for the docs when SCREENSHOTS_ENV names a directory (else nothing): what
    the window shows (not the whole page), small enough to commit."""
    target = os.environ.get(SCREENSHOTS_ENV)
    if not target:
        return None
    from PIL import Image

    path = Path(target) / f"{re.sub(r'[^a-z0-9_-]+', '-', name.lower())}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path))
    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=128)
    small.save(path, optimize=True)
    return path


class User:
    """One person in their own browser context (their own cookies); ``failures`` collects every
    answer of 500 or more the browser got (pages, forms, scripts' requests)."""

    def __init__(self, browser: Any, site: LiveSite, username: str, lang: str, **context: Any) -> None:
        self.site = site
        self.context = browser.new_context(locale="zh-CN" if lang == "zh" else "en-US", **context)
        self.page = self.context.new_page()
        self.failures: list[str] = []
        self.page.on(
            "response",
            lambda answer: (
                self.failures.append(f"{answer.status} {answer.url}") if answer.status >= 500 else None
            ),
        )
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


# -- walking every page of a role (#20: the page walk and the phone width) --------------------
ROLES = ("hdzg.clerk", "szjm.clerk", "wxdj.clerk", "jnyh.credit", "hhbl.credit", "operator")
NOT_PAGES = re.compile(
    r"^/(lang|logout|static)/|/pdf$|/commitment$|/(agreement|notice|assignment)$|/payment-file$|/export/(csv|xlsx)$|/reconciliation/(csv|xlsx)$|/invoices/|^/tickets/export$|^/logout$"
)  # files
STATES = (
    "PENDING_ACCEPTANCE|LOCKED_TRANSFER|LOCKED_FINANCING|SPLIT|FINANCED|SETTLED|REJECTED|CANCELLED"
    "|FROZEN|OVERDUE|ACTIVE|SUSPENDED|REPLACED|ELIMINATED|OPENED|PENDING_APPROVAL|REVOKED"
)
RAW = re.compile(rf"\b([a-z]+(?:_[a-z]+)+|{STATES}|core|supplier|bank|clerk|admin|active|suspended)\b")
ENGLISH = re.compile(r"\b[A-Za-z][a-z]+(?:[ ,']+[A-Za-z][a-z]*){2,}")
CLOCK = re.compile(r"(?<![\d:])\d{1,2}:\d{2}(?::\d{2})?(?![\d:])(?! \(UTC\+8\))")
ISO = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


def kind_of(path: str) -> str:
    """A page's kind: its path with ids (TK..., FA..., ST..., OF...) replaced."""
    return re.sub(r"\b[A-Z]{2}[0-9a-f]{8,}\b", "<id>", path)


def readable(html: str) -> str:
    """What a reader sees, without identifiers (<code>), English on purpose (lang="en"),
    usernames, scripts, styles, tags and attribute values."""
    html = re.sub(r"<(script|style|code)\b[^>]*>.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r'<(\w+)\b[^>]*\blang="en"[^>]*>.*?</\1>', " ", html, flags=re.S)
    text = unescape(re.sub(r"<[^>]+>", " ", html))
    text = re.sub(r"\b[a-z0-9]+\.[a-z0-9.]+\b|\boperator\b", " ", text)  # usernames
    return re.sub(r"\s+", " ", text)


def faults(html: str, lang: str) -> list[str]:
    """What a page of ``lang`` must never show: a time without its zone, an ISO date (one date
    format per language) and, in Chinese, a code or an English sentence."""
    text = readable(html)
    found = [f"time without zone: {m.group(0)}" for m in CLOCK.finditer(text)]
    found += [f"ISO date: {m.group(0)}" for m in ISO.finditer(text)]
    if lang == "zh":
        found += [f"code: {m.group(0)}" for m in RAW.finditer(text)]
        found += [f"English: {m.group(0)}" for m in ENGLISH.finditer(text)]
    return found


def walk(user: User, limit: int = 45, per_kind: int = 2) -> Iterator[tuple[str, int]]:
    """Every page a role reaches by its links from home (a few of each kind), bounded in count;
    yields (path, status) with the page loaded in ``user.page``."""
    queue, seen, kinds = ["/"], set(), Counter()
    while queue and len(seen) < limit:
        path = queue.pop(0)
        kind = kind_of(path)
        if path in seen or kinds[kind] >= per_kind:
            continue
        seen.add(path)
        kinds[kind] += 1
        response = user.page.goto(user.site.url + path)
        yield path, response.status if response else 0
        hrefs = user.page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
        for href in hrefs:
            target = href.split("#")[0].split("?")[0]
            if target.startswith("/") and not target.startswith("//") and not NOT_PAGES.search(target):
                queue.append(target)


def confirmations(user: User, seen: set[str]) -> Iterator[tuple[str, int, str]]:
    """The confirmation page of each sign button on the page loaded (one per action), asked for
    and never signed: yields (action, status, html)."""
    forms = user.page.eval_on_selector_all(
        "form[action^='/sign/']:not([action$='/commit'])",
        """forms => forms.filter(f => [...f.elements].every(e => e.type === 'hidden' || e.type === 'submit'))
          .map(f => [f.getAttribute('action'), Object.fromEntries([...f.elements].filter(e => e.name).map(e => [e.name, e.value]))])""",
    )
    for action, fields in forms:
        if action in seen:
            continue
        seen.add(action)
        answer = user.page.request.post(user.site.url + action, form=fields)
        yield action, answer.status, answer.text()
