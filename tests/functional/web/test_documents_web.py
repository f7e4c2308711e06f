"""#21 every signed document of a ticket in the portal: the verify pages of a transfer's
assignment agreement and notice and of a financing's assignment to the bank (valid for the
ledger's file, forged with the reason for a changed one, in Chinese and English, 403 for a
member outside the ticket's path), and the "documents" section of the ticket page, the
application page and the inbox's offers, listing only what the member may download."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from apiclient import MATURITY, Members, invoice
from support import PIN
from test_portal_pages import csrf, portal_login

pytestmark = pytest.mark.functional


DOCUMENT = re.compile(r"/(commitment|agreement|notice|assignment)(/verify)?$")


def _links(html: str, section: str = "documents") -> list[str]:
    """The document links (downloads and verify pages) inside the page's ``<section id=section>``."""
    found = re.search(rf'<section[^>]*id="{section}".*?</section>', html, flags=re.S)
    assert found, f"no section {section}"
    return [link for link in re.findall(r'href="([^"]+)"', found.group(0)) if DOCUMENT.search(link)]


def _verdict(browser: Any, path: str, data: bytes) -> tuple[str, str]:
    form = browser.get(path)
    assert form.status_code == 200, form.get_data(as_text=True)[:400]
    answer = browser.post(
        path,
        data={"csrf_token": csrf(form.get_data(as_text=True)), "file": (io.BytesIO(data), "d.pdf")},
        content_type="multipart/form-data",
    )
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200, html[:500]
    verdict = re.search(r'data-verdict="([a-z]+)"', html)
    assert verdict, html[-1500:]
    reason = re.search(r'data-testid="reasons"[^>]*>([^<]*)<', html)
    return verdict.group(1), reason.group(1) if reason else ""


@pytest.fixture
def trail(members: Members, accepted: dict[str, Any]) -> dict[str, Any]:
    """tier1 offers 1,000.00 of the accepted ticket to tier2 (open: the inbox's offer)."""
    offer = members["tier1"].post(
        f"/tickets/{accepted['id']}/transfers",
        {"to_org_id": "tier2", "amount_fen": 1_000_00, "pin": PIN},
        expect=201,
    )
    return {"root": accepted["id"], "offer_id": offer["offer_id"]}


def _accept_and_finance(members: Members, trail: dict[str, Any]) -> dict[str, Any]:
    accepted = members["tier2"].post(f"/offers/{trail['offer_id']}/accept", {"pin": PIN}, expect=200)
    remainder = accepted["remainder"]["id"]
    applied = members["tier1"].post(
        f"/tickets/{remainder}/financing",
        {
            "bank_org_id": "bank",
            "amount_fen": 1_000_00,
            "max_annual_rate_bp": 600,
            "recourse": True,
            "pin": PIN,
        },
        expect=201,
    )
    return {**trail, "remainder": remainder, "piece": accepted["transferred"]["id"], **applied}


def test_the_offer_documents_verify_pages_valid_forged_and_refused(app, members, trail):
    offer_id = trail["offer_id"]
    holder = portal_login(app, "tier1.clerk")
    for document in ("agreement", "notice"):
        data = holder.get(f"/offers/{offer_id}/{document}").data
        path = f"/offers/{offer_id}/{document}/verify"
        assert _verdict(holder, path, data) == ("valid", "")
        verdict, reason = _verdict(holder, path, data + b"\n% appended\n")
        assert (verdict, reason) == ("forged", "签名之后被追加了内容。")
        page = holder.get(path).get_data(as_text=True)
        assert f'href="/offers/{offer_id}/{document}"' in page
        assert (
            "<h1>验证债权转让协议</h1>" if document == "agreement" else "<h1>验证债权转让通知</h1>"
        ) in page
        # the payee verifies before it accepts; a bank outside the ticket's path may not
        payee = portal_login(app, "tier2.clerk")
        assert _verdict(payee, path, data)[0] == "valid"
        outsider = portal_login(app, "bank.credit")
        assert outsider.get(path).status_code == 403
        assert outsider.post(path, data={"csrf_token": "x"}).status_code in (400, 403)
    english = portal_login(app, "tier1.clerk")
    english.get("/lang/en")
    page = english.get(f"/offers/{offer_id}/notice/verify").get_data(as_text=True)
    assert "<h1>Verify the notice to the debtor</h1>" in page and "验证" not in page
    verdict = english.post(
        f"/offers/{offer_id}/notice/verify",
        data={"csrf_token": csrf(page), "file": (io.BytesIO(b"%PDF-1.7 not the notice"), "n.pdf")},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    assert 'data-verdict="forged"' in verdict and "Forged" in verdict
    assert "The PDF or its signature cannot be read." in verdict


def test_the_financing_assignment_verify_page(app, members, trail):
    done = _accept_and_finance(members, trail)
    application_id = done["application_id"]
    bank = portal_login(app, "bank.credit")
    data = bank.get(f"/applications/{application_id}/assignment").data
    path = f"/applications/{application_id}/assignment/verify"
    assert _verdict(bank, path, data) == ("valid", "")
    changed = bytearray(data)
    changed[len(changed) // 2] ^= 0x01
    verdict, reason = _verdict(portal_login(app, "tier1.clerk"), path, bytes(changed))
    assert verdict == "forged" and reason
    assert "<h1>验证融资转让协议</h1>" in bank.get(path).get_data(as_text=True)
    # a ticket of another tree: tier1 is outside its path
    other = members["core"].post(
        "/tickets",
        {
            "payee_org_id": "tier2",
            "amount_fen": 5_000_00,
            "maturity_date": MATURITY.isoformat(),
            "invoices": [invoice("INV-OTHER-1", 5_000_00)],
            "pin": PIN,
        },
        expect=201,
    )
    members["tier2"].post(f"/tickets/{other['id']}/accept", {"pin": PIN}, expect=200)
    applied = members["tier2"].post(
        f"/tickets/{other['id']}/financing",
        {
            "bank_org_id": "bank",
            "amount_fen": 5_000_00,
            "max_annual_rate_bp": 600,
            "recourse": False,
            "pin": PIN,
        },
        expect=201,
    )
    outsider = portal_login(app, "tier1.clerk")
    assert outsider.get(f"/applications/{applied['application_id']}/assignment/verify").status_code == 403
    assert outsider.get(f"/tickets/{other['id']}/commitment/verify").status_code in (403, 404)


def _checked(browser: Any, links: list[str]) -> None:
    """Every listed document downloads as a PDF and every verify page opens."""
    assert links
    for link in links:
        got = browser.get(link)
        assert got.status_code == 200, (link, got.status_code)
        if link.endswith("/verify"):
            assert 'type="file"' in got.get_data(as_text=True)
        else:
            assert got.mimetype == "application/pdf", link


def test_each_role_sees_the_documents_it_may_read(app, members, trail):
    root, offer_id = trail["root"], trail["offer_id"]
    # the payee's inbox: the offer's agreement and notice, to read before accepting
    payee = portal_login(app, "tier2.clerk")
    inbox = _links(payee.get("/").get_data(as_text=True), "inbox")
    offered = [link for link in inbox if link.startswith(f"/offers/{offer_id}/")]
    assert sorted(offered) == sorted(
        f"/offers/{offer_id}/{document}{tail}"
        for document in ("agreement", "notice")
        for tail in ("", "/verify")
    )
    _checked(payee, offered)

    done = _accept_and_finance(members, trail)
    application_id = done["application_id"]
    every = {
        f"/tickets/{root}/commitment",
        f"/tickets/{root}/commitment/verify",
        f"/offers/{offer_id}/agreement",
        f"/offers/{offer_id}/agreement/verify",
        f"/offers/{offer_id}/notice",
        f"/offers/{offer_id}/notice/verify",
        f"/applications/{application_id}/assignment",
        f"/applications/{application_id}/assignment/verify",
    }
    holder = portal_login(app, "tier1.clerk")
    page = holder.get(f"/tickets/{done['remainder']}").get_data(as_text=True)
    assert set(_links(page)) == every
    assert "<h2>已签署的文件</h2>" in page and "付款承诺函（PDF）" in page and "融资转让协议（PDF）" in page
    _checked(holder, sorted(every))
    issuer = portal_login(app, "core.clerk")
    assert every <= set(_links(issuer.get(f"/tickets/{root}").get_data(as_text=True)))
    # the bank's application page: the assignment it is asked to take, and the ticket's title
    bank = portal_login(app, "bank.credit")
    listed = set(_links(bank.get(f"/applications/{application_id}").get_data(as_text=True)))
    assert {
        f"/applications/{application_id}/assignment",
        f"/applications/{application_id}/assignment/verify",
    } <= listed
    _checked(bank, sorted(listed))
    # the transferee sees its piece's documents; every link it is shown opens
    shown = _links(payee.get(f"/tickets/{done['piece']}").get_data(as_text=True))
    assert f"/offers/{offer_id}/agreement" in shown and f"/tickets/{root}/commitment" in shown
    _checked(payee, shown)
    english = portal_login(app, "tier1.clerk")
    english.get("/lang/en")
    page = english.get(f"/tickets/{done['remainder']}").get_data(as_text=True)
    section = re.search(r'<section[^>]*id="documents".*?</section>', page, flags=re.S)
    assert section and "Signed documents" in section.group(0) and "Assignment agreement" in section.group(0)
