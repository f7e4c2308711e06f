"""#21 the issuer's payment commitment over HTTP: the API's download (the ticket's path only,
403 for another member) and verify (valid for the ledger's file, forged for a changed one); the
portal's link on the ticket page, the download and the verify page."""

from __future__ import annotations

import hashlib
import io
import re
from typing import Any

import pytest
from apiclient import Members
from support import PIN, TODAY
from test_portal_pages import csrf, portal_login

pytestmark = pytest.mark.functional


def _get(members: Members, org_id: str, path: str) -> Any:
    return members.client.get(f"/api/v1{path}", headers={"Authorization": f"Bearer {members[org_id].token}"})


def _verify(members: Members, org_id: str, ticket_id: str, data: bytes) -> Any:
    return members.client.post(
        f"/api/v1/tickets/{ticket_id}/commitment/verify",
        data={"file": (io.BytesIO(data), "commitment.pdf")},
        content_type="multipart/form-data",
        headers={"Authorization": f"Bearer {members[org_id].token}"},
    )


def test_the_path_downloads_and_verifies_the_commitment_others_are_refused(members, accepted):
    assert len(accepted["commitment_sha256"]) == 64
    got = _get(members, "tier1", f"/tickets/{accepted['id']}/commitment")
    assert got.status_code == 200 and got.mimetype == "application/pdf", got.data[:300]
    assert (
        hashlib.sha256(got.data).hexdigest()
        == got.headers["X-Document-SHA256"]
        == accepted["commitment_sha256"]
    )
    answer = _verify(members, "core", accepted["id"], got.data)
    assert answer.status_code == 200 and answer.json["verdict"] == "valid", answer.json

    changed = bytearray(got.data)
    changed[len(changed) // 2] ^= 0x01
    answer = _verify(members, "tier1", accepted["id"], bytes(changed))
    assert answer.json["verdict"] == "forged" and answer.json["reason"], answer.json

    for org_id in ("tier2", "bank"):
        refused = _get(members, org_id, f"/tickets/{accepted['id']}/commitment")
        assert refused.status_code == 403 and refused.json["error"] == "forbidden", refused.json
        assert _verify(members, org_id, accepted["id"], got.data).status_code == 403


def test_the_portal_links_downloads_and_verifies_the_commitment(app, members, accepted):
    holder = portal_login(app, "tier1.clerk")
    page = holder.get(f"/tickets/{accepted['id']}").get_data(as_text=True)
    assert f'href="/tickets/{accepted["id"]}/commitment"' in page and "付款承诺函（PDF）" in page
    got = holder.get(f"/tickets/{accepted['id']}/commitment")
    assert got.status_code == 200 and got.mimetype == "application/pdf"
    form = holder.get(f"/tickets/{accepted['id']}/commitment/verify")
    assert form.status_code == 200
    for data, expected in ((got.data, "valid"), (got.data + b"\n% appended\n", "forged")):
        answer = holder.post(
            f"/tickets/{accepted['id']}/commitment/verify",
            data={"csrf_token": csrf(form.get_data(as_text=True)), "file": (io.BytesIO(data), "c.pdf")},
            content_type="multipart/form-data",
        )
        html = answer.get_data(as_text=True)
        assert answer.status_code == 200, html[:500]
        assert re.search(r'data-verdict="([a-z]+)"', html).group(1) == expected  # type: ignore[union-attr]
    outsider = portal_login(app, "tier2.clerk")
    assert outsider.get(f"/tickets/{accepted['id']}/commitment").status_code == 403


def test_a_transfers_agreement_and_notice_over_the_api(members, accepted):
    offer = members["tier1"].post(
        f"/tickets/{accepted['id']}/transfers",
        {"to_org_id": "tier2", "amount_fen": 1_000_00, "pin": PIN},
        expect=201,
    )
    offer_id = offer["offer_id"]
    for org_id, document in (("tier2", "agreement"), ("core", "notice"), ("tier1", "agreement")):
        got = _get(members, org_id, f"/offers/{offer_id}/{document}")
        assert got.status_code == 200 and got.mimetype == "application/pdf", got.data[:300]
        answer = members.client.post(
            f"/api/v1/offers/{offer_id}/{document}/verify",
            data={"file": (io.BytesIO(got.data), f"{document}.pdf")},
            content_type="multipart/form-data",
            headers={"Authorization": f"Bearer {members[org_id].token}"},
        )
        assert answer.status_code == 200 and answer.json["verdict"] == "valid", answer.json
    assert _get(members, "bank", f"/offers/{offer_id}/notice").status_code == 403
    members["tier2"].post(f"/offers/{offer_id}/accept", {"pin": PIN}, expect=200)
    countersigned = _get(members, "tier1", f"/offers/{offer_id}/agreement")
    assert countersigned.status_code == 200 and countersigned.data.count(b"/ByteRange") == 2


def test_a_financings_assignment_over_the_api_and_the_portal(app, members, accepted):
    applied = members["tier1"].post(
        f"/tickets/{accepted['id']}/financing",
        {
            "bank_org_id": "bank",
            "amount_fen": 1_000_00,
            "max_annual_rate_bp": 600,
            "recourse": True,
            "pin": PIN,
        },
        expect=201,
    )
    application_id = applied["application_id"]
    got = _get(members, "bank", f"/applications/{application_id}/assignment")
    assert got.status_code == 200 and got.mimetype == "application/pdf", got.data[:300]
    answer = members.client.post(
        f"/api/v1/applications/{application_id}/assignment/verify",
        data={"file": (io.BytesIO(got.data), "assignment.pdf")},
        content_type="multipart/form-data",
        headers={"Authorization": f"Bearer {members['core'].token}"},
    )
    assert answer.status_code == 200 and answer.json["verdict"] == "valid", answer.json
    assert _get(members, "tier2", f"/applications/{application_id}/assignment").status_code == 403
    holder = portal_login(app, "tier1.clerk")
    page = holder.get(f"/tickets/{accepted['id']}").get_data(as_text=True)
    assert f'href="/applications/{application_id}/assignment"' in page and "融资转让协议（PDF）" in page
    assert holder.get(f"/applications/{application_id}/assignment").data == got.data

    # #21: approved, the assignment is the one countersigned by the bank's card
    members["bank"].post(
        f"/financing/{application_id}/registration",
        {"registration_number": "ZD-FS-WEB", "pin": PIN},
        expect=201,
    )
    members["bank"].post(
        f"/financing/{application_id}/approve", {"annual_rate_bp": 437, "value_date": TODAY.isoformat(), "pin": PIN},
        expect=200,
    )  # fmt: skip
    countersigned = _get(members, "tier1", f"/applications/{application_id}/assignment")
    assert countersigned.status_code == 200 and countersigned.data.count(b"/ByteRange") == 2
    assert countersigned.data.startswith(got.data)
    assert countersigned.headers["X-Document-SHA256"] == hashlib.sha256(countersigned.data).hexdigest()
    for org_id, upload, verdict in (
        ("bank", countersigned.data, "valid"),
        ("core", countersigned.data, "valid"),
        ("tier1", got.data, "forged"),  # the holder's copy alone is no longer the ledger's
    ):
        answer = members.client.post(
            f"/api/v1/applications/{application_id}/assignment/verify",
            data={"file": (io.BytesIO(upload), "assignment.pdf")},
            content_type="multipart/form-data",
            headers={"Authorization": f"Bearer {members[org_id].token}"},
        )
        assert answer.status_code == 200 and answer.json["verdict"] == verdict, answer.json
        if verdict == "valid":
            assert answer.json["signers"] == ["tier1", "bank"]
    assert holder.get(f"/applications/{application_id}/assignment").data == countersigned.data


def test_the_banks_confirmation_page_countersigns_nothing_before_the_pin(app, members, accepted, portal):
    """The bank's approval is rehearsed before its PIN (#20 point 3): the countersignature of the
    holder's assignment (#21) is not made there (no PIN try, nothing kept); signed, it is."""
    from test_portal_day import alerts, confirm, sign

    applied = members["tier1"].post(
        f"/tickets/{accepted['id']}/financing",
        {"bank_org_id": "bank", "amount_fen": 1_000_00, "max_annual_rate_bp": 600, "pin": PIN},
        expect=201,
    )
    application_id = applied["application_id"]
    members["bank"].post(
        f"/financing/{application_id}/registration",
        {"registration_number": "ZD-FS-PIN", "pin": PIN},
        expect=201,
    )
    registry = portal.platform.cards.registry
    folder = portal.settings.data_dir / "documents"
    kept = sorted(folder.iterdir())
    bank = portal_login(app, "bank.credit")
    tries = registry.tries_left(registry.active_card("bank.credit").serial)
    page, html = confirm(bank, "approve", application_id=application_id, rate="3.60", value_date="")
    assert page.status_code == 200 and 'data-testid="to-sign"' in html, alerts(html)
    assert registry.tries_left(registry.active_card("bank.credit").serial) == tries
    assert sorted(folder.iterdir()) == kept
    done = sign(bank, html)
    assert done.status_code == 302, alerts(done.get_data(as_text=True))
    approved = portal.platform.evaluate("GetApplication", {"application_id": application_id})
    assert (
        approved["status"] == "APPROVED"
        and (folder / f"{approved['countersigned_assignment_sha256']}.pdf").exists()
    )


def test_the_confirmation_pages_sign_no_document_and_spend_no_pin_try(app, members, accepted, portal):
    """The confirmation page rehearses the write before the PIN (#20 point 3): the documents the
    write carries (#21) are rendered there but neither signed by the card nor kept, and no PIN
    try is spent (a rehearsal signing with a blank PIN answered every issue and transfer with
    "PIN 码错误" and counted a wrong PIN on the card)."""
    from io import BytesIO

    from apiclient import MATURITY
    from test_portal_day import alerts, confirm

    registry = portal.platform.cards.registry
    folder = portal.settings.data_dir / "documents"
    kept = sorted(folder.iterdir()) if folder.exists() else []
    core, holder = portal_login(app, "core.clerk"), portal_login(app, "tier1.clerk")
    tries = {
        name: registry.tries_left(registry.active_card(name).serial) for name in ("core.clerk", "tier1.clerk")
    }

    issue = core.post(
        "/issue",
        data={
            "csrf_token": csrf(core.get("/issue").get_data(as_text=True)),
            "payee_org_id": "tier1",
            "amount": "10.00",
            "maturity_date": MATURITY.isoformat(),
            "invoice_number": "INV-REHEARSED-1",
            "invoice_file": (BytesIO(b"%PDF-1.7 a rehearsed issue"), "invoice.pdf"),
        },
    )
    html = issue.get_data(as_text=True)
    assert issue.status_code == 200 and 'data-testid="to-sign"' in html, alerts(html) or html[-800:]
    for action, fields in (
        ("transfer", {"to_org_id": "tier2", "amount": "10.00"}),
        ("finance", {"bank_org_id": "bank", "amount": "10.00", "max_rate": "5"}),
    ):
        page, html = confirm(holder, action, ticket_id=accepted["id"], **fields)
        assert page.status_code == 200 and 'data-testid="to-sign"' in html, (action, alerts(html))
    after = {name: registry.tries_left(registry.active_card(name).serial) for name in tries}
    assert after == tries
    assert (sorted(folder.iterdir()) if folder.exists() else []) == kept
