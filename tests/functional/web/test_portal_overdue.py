"""#21 overdue and recourse in the portal (Flask's test client): the financing form's recourse
choice shown on the confirmation; after maturity plus grace days the holder marks the piece
overdue, demands payment of an earlier holder (offered only with recourse), the signed demand
document downloads with the ledger's hash; the obligor sees it in its overdue list, a stranger
gets a 404; the holder writes the demand off. Every page in Chinese and English."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from apiclient import MATURITY, Members
from support import PIN, TODAY
from test_portal_day import alerts, confirm, login, select_options, sign

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "browser"))
from portal_browser_kit import faults  # noqa: E402  (the browser walk's rules: no ISO date, no English on a zh page)

pytestmark = pytest.mark.functional


def zh_faults(html: str) -> list[str]:
    """The browser walk's faults of a Chinese page; the fixture's member names ("bank 公司") are
    its data, not the page's words."""
    return faults(re.sub(r"\b(core|tier1|tier2|bank) 公司", "公司", html), "zh")


def test_recourse_overdue_demand_in_the_portal(
    app: Any, members: Members, accepted: dict[str, Any], portal
) -> None:
    holder = login(app, "tier1.clerk")
    form = holder.get(f"/tickets/{accepted['id']}/finance").get_data(as_text=True)
    assert 'name="recourse" value="with"' in form and 'value="without" checked' in form
    page, html = confirm(
        holder, "finance", ticket_id=accepted["id"], bank_org_id="bank", amount="300,000.00", max_rate="6",
        recourse="with",
    )  # fmt: skip
    assert page.status_code == 200 and "有追索" in html, alerts(html)
    sign(holder, html, follow_redirects=True)
    applied = portal.platform.evaluate("ListTickets", {"holder_org_id": "tier1"})["items"]
    locked = next(t for t in applied if t["status"] == "LOCKED_FINANCING")
    members["bank"].post(
        f"/financing/{locked['application_id']}/registration",
        {"registration_number": f"ZD-{locked['application_id']}", "pin": PIN},
        expect=201,
    )
    approved = members["bank"].post(
        f"/financing/{locked['application_id']}/approve",
        {"annual_rate_bp": 500, "value_date": TODAY.isoformat(), "pin": PIN},
        expect=200,
    )
    piece = approved["financed"]["id"]
    settings = portal.platform.settings
    portal.platform.settings = dataclasses.replace(settings, today=MATURITY + dt.timedelta(days=4))
    bank = login(app, "bank.credit")
    for lang in ("zh", "en"):
        assert login(app, "bank.credit", lang).get(f"/tickets/{piece}/overdue").status_code == 200
        assert login(app, "tier1.clerk", lang).get("/overdue").status_code == 200
    overdue_page = bank.get(f"/tickets/{piece}/overdue").get_data(as_text=True)
    assert not zh_faults(overdue_page)
    assert 'id="mark-form"' in overdue_page
    page, html = confirm(bank, "mark_overdue", ticket_id=piece, back=f"/tickets/{piece}/overdue")
    assert page.status_code == 200, alerts(html)
    marked = sign(bank, html, follow_redirects=True).get_data(as_text=True)
    assert 'id="demand-form"' in marked
    assert [value for value, _ in select_options(marked, "obligor_org_id")[1:]] == ["core", "tier1"]
    page, html = confirm(bank, "demand", ticket_id=piece, obligor_org_id="tier2", amount="", back="/")
    assert alerts(html) and "/sign/demand/commit" not in html  # tier2 is not liable: no PIN asked
    page, html = confirm(bank, "demand", ticket_id=piece, obligor_org_id="tier1", amount="", back="/")
    assert page.status_code == 200 and "追索" in html and "叁拾万元整" in html, alerts(html)
    demanded = sign(bank, html, follow_redirects=True).get_data(as_text=True)
    detail = portal.platform.evaluate("GetOverdue", {"ticket_id": piece})
    (demand,) = detail["demands"]
    link = re.search(r'href="(/tickets/[^"]+/demands/[^"]+/pdf)"', demanded)
    assert link, demanded[-2000:]
    obligor = login(app, "tier1.clerk")
    document = obligor.get(link.group(1))
    assert (
        document.status_code == 200 and hashlib.sha256(document.data).hexdigest() == demand["document_sha256"]
    )
    listed = obligor.get("/overdue").get_data(as_text=True)
    assert piece in listed and not zh_faults(listed)
    assert not zh_faults(obligor.get(f"/tickets/{piece}/overdue").get_data(as_text=True))
    assert login(app, "tier2.clerk").get(f"/tickets/{piece}/overdue").status_code == 404
    page, html = confirm(
        bank, "close_demand", ticket_id=piece, demand_id=demand["demand_id"], outcome="written_off",
        payment_reference="", back="/",
    )  # fmt: skip
    assert page.status_code == 200, alerts(html)
    sign(bank, html, follow_redirects=True)
    assert (
        portal.platform.evaluate("GetOverdue", {"ticket_id": piece})["demands"][0]["status"] == "WRITTEN_OFF"
    )


def test_the_statement_page_shows_the_recourse_choice(
    app: Any, members: Members, accepted: dict[str, Any], portal
) -> None:
    applied = members["tier1"].post(
        f"/tickets/{accepted['id']}/financing",
        {
            "bank_org_id": "bank",
            "amount_fen": 30_000_000,
            "max_annual_rate_bp": 600,
            "recourse": True,
            "pin": PIN,
        },
        expect=201,
    )
    members["bank"].post(
        f"/financing/{applied['application_id']}/registration",
        {"registration_number": f"ZD-{applied['application_id']}", "pin": PIN},
        expect=201,
    )
    approved = members["bank"].post(
        f"/financing/{applied['application_id']}/approve",
        {"annual_rate_bp": 500, "value_date": TODAY.isoformat(), "pin": PIN},
        expect=200,
    )
    portal.platform.settings = dataclasses.replace(portal.platform.settings, today=MATURITY)
    statement = members["core"].post(f"/tickets/{accepted['id']}/settle", {"pin": PIN}, expect=200)
    path = f"/tickets/{accepted['id']}/statements/{statement['statement_id']}"
    for lang, shown in (("zh", "有追索"), ("en", "With recourse")):
        html = login(app, "core.clerk", lang).get(path).get_data(as_text=True)
        cell = re.search(rf'data-recourse="{approved["financed"]["id"]}">([^<]*)<', html)
        assert cell and cell.group(1) == shown, html[-3000:]
        remainder = re.search(rf'data-recourse="{approved["remainder"]["id"]}">([^<]*)<', html)
        assert remainder and remainder.group(1) == "–"
