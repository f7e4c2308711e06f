"""Issue #17 point 11, as an attacker tries it: any logged-in role stored invoice files for
good (before the role check and before any ticket committed), and the documented 10 MB limit
was out of reach (1 MiB answered 413). Now the core role is checked before anything is kept,
an upload is staged until its ticket commits and removed otherwise, and 10 MB goes through."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import pytest
from apiclient import MATURITY, PASSWORD, Members
from support import OPERATOR_PASSWORD, PIN
from test_portal_pages import csrf, portal_login

from goldticket.services import invoices

pytestmark = pytest.mark.functional


def _files(portal: Any) -> list[str]:
    root = portal.settings.data_dir / "invoices"
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


def _upload(browser: Any, content: bytes, number: str = "INV-UP") -> Any:
    """The issue form's POST, its multipart body built by hand (the test client would spool a
    large one to a file it never closes)."""
    fields = {
        "csrf_token": csrf(browser.get("/").get_data(as_text=True)),
        "payee_org_id": "tier1",
        "amount": "2,500.00",
        "maturity_date": MATURITY.isoformat(),
        "invoice_number": number,
    }
    body = b"".join(
        f'--xyz\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    )
    body += b'--xyz\r\nContent-Disposition: form-data; name="invoice_file"; filename="invoice.pdf"\r\n'
    body += b"Content-Type: application/pdf\r\n\r\n" + content + b"\r\n--xyz--\r\n"
    return browser.post("/issue", data=body, content_type="multipart/form-data; boundary=xyz")


def test_a_supplier_or_bank_stores_no_invoice_file(app: Any, members: Members, portal: Any) -> None:
    for username, password in (
        ("tier1.clerk", PASSWORD),
        ("bank.credit", PASSWORD),
        ("operator", OPERATOR_PASSWORD),
    ):
        browser = portal_login(app, username, password)
        answer = _upload(browser, f"%PDF-1.7 planted by {username}".encode())
        assert answer.status_code == 403, (username, answer.status_code)
    assert _files(portal) == []


def test_an_upload_is_not_kept_unless_its_ticket_commits(app: Any, members: Members, portal: Any) -> None:
    browser = portal_login(app, "core.clerk")
    content = b"%PDF-1.7 an invoice whose ticket is never signed"
    digest = hashlib.sha256(content).hexdigest()
    assert _upload(browser, content).status_code == 200  # the confirmation page
    assert not invoices.has_invoice(portal.settings, digest)  # staged, not kept
    staged = portal.settings.data_dir / "invoices" / ".staged" / "core.clerk" / digest
    assert staged.is_file()
    import time

    invoices.sweep(portal.settings, now=time.time() + invoices.STAGE_TTL_SECONDS + 1)
    assert _files(portal) == []


def test_a_committed_ticket_keeps_its_invoice(app: Any, members: Members, portal: Any) -> None:
    browser = portal_login(app, "core.clerk")
    content = b"%PDF-1.7 an invoice that is signed for"
    page = _upload(browser, content, "INV-KEPT")
    carried = dict(
        re.findall(r'<input type="hidden" name="([a-z0-9_]+)" value="([^"]*)"', page.get_data(as_text=True))
    )
    wrong = browser.post("/sign/issue/commit", data={**carried, "pin": "97531864"})
    assert wrong.status_code == 422
    assert not invoices.has_invoice(portal.settings, hashlib.sha256(content).hexdigest())
    done = browser.post("/sign/issue/commit", data={**carried, "pin": PIN})
    assert done.status_code == 302 and done.headers["Location"].startswith("/tickets/TK")
    assert invoices.has_invoice(portal.settings, hashlib.sha256(content).hexdigest())
    assert _files(portal) == [hashlib.sha256(content).hexdigest()]


@pytest.mark.parametrize("size", [1024 * 1024, invoices.MAX_INVOICE_BYTES])
def test_the_documented_limit_is_reachable(app: Any, members: Members, portal: Any, size: int) -> None:
    browser = portal_login(app, "core.clerk")
    answer = _upload(browser, b"%PDF-1.7 " + b"x" * (size - 9))
    assert answer.status_code == 200, answer.status_code


def test_over_the_limit_is_refused_and_the_form_states_it(app: Any, members: Members, portal: Any) -> None:
    browser = portal_login(app, "core.clerk")
    assert _upload(browser, b"x" * (invoices.MAX_INVOICE_BYTES + 1)).status_code in (413, 422)
    assert _files(portal) == []
    form = browser.get("/issue").get_data(as_text=True)
    assert 'data-testid="invoice-limit"' in form and "10 MB" in form
