"""#21 registration (中登网) through the API: approval before registration is 422; only the
application's bank records it (with its card's PIN); the filing downloads as canonical JSON
(whose SHA-256 the registration records, with the parties' 统一社会信用代码 from their KYC) and
as a signed PDF; it is handed to the file-based registry adapter's outbox (0600) and the answer
the bank places in the inbox is read back; registrations and the search before funding read."""

from __future__ import annotations

import hashlib
import json
import stat
from typing import Any

import pytest
from apiclient import Members
from support import PIN, TODAY

pytestmark = pytest.mark.functional


def _apply(members: Members, ticket_id: str) -> str:
    applied = members["tier1"].post(
        f"/tickets/{ticket_id}/financing",
        {"bank_org_id": "bank", "amount_fen": 30_000_000, "max_annual_rate_bp": 600, "pin": PIN},
        expect=201,
    )
    return str(applied["application_id"])


def test_registration_before_approval_through_the_api(
    client: Any, members: Members, accepted: dict[str, Any], portal
) -> None:
    application_id = _apply(members, accepted["id"])
    bank, holder = members["bank"], members["tier1"]
    approve = {"annual_rate_bp": 500, "value_date": TODAY.isoformat(), "pin": PIN}
    refused = bank.post(f"/financing/{application_id}/approve", approve, expect=422)
    assert refused["error"] == "rule_violation" and "registration" in refused["message"]
    path = f"/financing/{application_id}/registration"
    assert bank.post(path, {"registration_number": "ZD-1"}, expect=400)["error"] == "invalid_input"
    assert holder.post(path, {"registration_number": "ZD-1", "pin": PIN}, expect=403)["error"] == "forbidden"
    height = portal.platform.ledger.height()
    bad_hash = {"registration_number": "ZD-1", "filing_sha256": "0" * 64, "pin": PIN}
    assert bank.post(path, bad_hash, expect=422)["error"] == "rule_violation"
    assert portal.platform.ledger.height() == height

    headers = {"Authorization": f"Bearer {bank.token}"}
    filing = client.get(f"/api/v1/financing/{application_id}/filing", headers=headers)
    assert filing.status_code == 200 and filing.mimetype == "application/json"
    content = json.loads(filing.data)
    assert content["assignor"]["uscc"] and content["assignee"]["uscc"]  # from the members' KYC
    assert content["receivable"]["invoices"][0]["number"] == "INV-1"
    pdf = client.get(f"/api/v1/financing/{application_id}/filing.pdf", headers=headers)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    stranger = client.get(
        f"/api/v1/financing/{application_id}/filing", headers={"Authorization": f"Bearer {holder.token}"}
    )
    assert stranger.status_code == 403

    recorded = bank.post(
        path,
        {
            "registration_number": "07391234000123456789",
            "registered_at": TODAY.isoformat(),
            "filing_sha256": hashlib.sha256(filing.data).hexdigest(),
            "pin": PIN,
        },
        expect=201,
    )
    assert (
        recorded["status"] == "current"
        and recorded["filing_sha256"] == hashlib.sha256(filing.data).hexdigest()
    )
    listed = holder.get(f"/financing/{application_id}/registrations", expect=200)
    assert listed["current"] == recorded["registration_id"]
    assert (
        members["tier2"].get(f"/financing/{application_id}/registrations", expect=404)["error"] == "not_found"
    )
    search = bank.get(f"/financing/{application_id}/search", expect=200)
    assert search["own"]["current"] == recorded["registration_id"] and search["financings"] == []
    assert holder.get("/registrations?invoice=INV-1", expect=403)["error"] == "forbidden"
    found = bank.get("/registrations?invoice=INV-1", expect=200)
    assert [item["registration_id"] for item in found["registrations"]] == [recorded["registration_id"]]
    approved = bank.post(f"/financing/{application_id}/approve", approve, expect=200)
    assert approved["financed"]["holder_org_id"] == "bank"


def test_the_filing_goes_to_the_registry_outbox_and_the_answer_comes_back(
    members: Members, accepted: dict[str, Any], portal
) -> None:
    application_id = _apply(members, accepted["id"])
    bank = members["bank"]
    filed = bank.post(f"/financing/{application_id}/filing", expect=201)
    assert filed["answer"] is None
    root = portal.settings.registry_path
    for suffix in ("json", "pdf"):
        written = root / "outbox" / f"{application_id}.{suffix}"
        assert stat.S_IMODE(written.stat().st_mode) == 0o600
    assert stat.S_IMODE((root / "outbox").stat().st_mode) == 0o700
    assert (
        hashlib.sha256((root / "outbox" / f"{application_id}.json").read_bytes()).hexdigest()
        == filed["sha256"]
    )
    answer = {
        "registration_number": "07391234000999",
        "registered_on": TODAY.isoformat(),
        "expires_on": "2027-12-01",
    }
    (root / "inbox" / f"{application_id}.json").write_text(json.dumps(answer))
    again = bank.post(f"/financing/{application_id}/filing", expect=201)
    assert again["answer"] == {**answer, "registry": "中登网"}
    assert members["tier1"].post(f"/financing/{application_id}/filing", expect=403)["error"] == "forbidden"
