"""#21 registration (中登网) in the portal: the bank's application page shows the filing to
download (PDF and JSON), the search before funding and that approval waits for a registration;
the bank records the registration number with its card and the page shows it current; the
holder sees it too, another member gets a 404. In Chinese and English."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import pytest
from apiclient import Members
from support import PIN, TODAY
from test_portal_day import alerts, confirm, login, sign

pytestmark = pytest.mark.functional


def test_the_bank_registers_then_approves_in_the_portal(
    app: Any, members: Members, accepted: dict[str, Any], portal
) -> None:
    applied = members["tier1"].post(
        f"/tickets/{accepted['id']}/financing",
        {"bank_org_id": "bank", "amount_fen": 30_000_000, "max_annual_rate_bp": 600, "pin": PIN},
        expect=201,
    )
    application_id = applied["application_id"]
    bank = login(app, "bank.credit")
    page = bank.get(f"/applications/{application_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for marker in ('id="no-registration"', 'id="approve-needs-registration"', 'id="search-before-funding"',
                   'id="register-form"', "中登网"):  # fmt: skip
        assert marker in html, marker
    shown_hash = re.search(r"SHA-256 <code>([0-9a-f]{64})</code>", html).group(1)
    filing = bank.get(f"/applications/{application_id}/filing.json")
    assert filing.status_code == 200 and hashlib.sha256(filing.data).hexdigest() == shown_hash
    pdf = bank.get(f"/applications/{application_id}/filing.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")

    # the approval is refused before the PIN, in the page's language, until it is registered
    page, html = confirm(
        bank, "approve", application_id=application_id, rate="5.00", value_date=TODAY.isoformat()
    )
    assert 'type="password"' not in html
    assert any("没有有效的中登网登记" in alert for alert in alerts(html)), alerts(html)

    fields = {"application_id": application_id, "registration_number": "ZD-PORTAL-1",
              "registered_on": TODAY.isoformat(), "expires_on": "", "amends": ""}  # fmt: skip
    page, html = confirm(bank, "register", **fields)
    assert page.status_code == 200 and "ZD-PORTAL-1" in html and shown_hash in html, alerts(html)
    done = sign(bank, html, follow_redirects=True)
    html = done.get_data(as_text=True)
    assert "ZD-PORTAL-1" in html and 'id="approve-needs-registration"' not in html, alerts(html)
    registered = portal.platform.evaluate("GetRegistrations", {"application_id": application_id})
    assert registered["current"] and registered["items"][0]["filing_sha256"] == shown_hash

    page, html = confirm(
        bank, "approve", application_id=application_id, rate="5.00", value_date=TODAY.isoformat()
    )
    assert page.status_code == 200, alerts(html)
    sign(bank, html, follow_redirects=True)
    assert (
        portal.platform.evaluate("GetApplication", {"application_id": application_id})["status"] == "APPROVED"
    )

    english = login(app, "bank.credit", "en").get(f"/applications/{application_id}").get_data(as_text=True)
    assert "Registration (中登网)" in english and "current" in english
    holder = login(app, "tier1.clerk").get(f"/applications/{application_id}").get_data(as_text=True)
    assert "ZD-PORTAL-1" in holder and "filing.pdf" not in holder
    assert login(app, "tier2.clerk").get(f"/applications/{application_id}").status_code == 404
    assert login(app, "tier1.clerk").get(f"/applications/{application_id}/filing.pdf").status_code in (
        403,
        404,
    )
