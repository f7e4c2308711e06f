"""The certificate endpoints over HTTP: download, a bank's upload, the public look-up, the
signing certificate; every upload answers 2xx or 4xx, never 5xx."""

from __future__ import annotations

import io
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.functional


def _upload(members: Any, org_id: str, data: bytes, **kw: Any) -> Any:
    headers = {"Authorization": f"Bearer {members[org_id].token}"}
    return members.client.post(
        "/api/v1/certificates/verify",
        data={"file": (io.BytesIO(data), "certificate.pdf")},
        content_type="multipart/form-data",
        headers=headers,
        **kw,
    )


@pytest.fixture
def certificate(members: Any, accepted: dict[str, Any]) -> Any:
    headers = {"Authorization": f"Bearer {members['tier1'].token}"}
    response = members.client.get(f"/api/v1/tickets/{accepted['id']}/certificate", headers=headers)
    assert response.status_code == 200, response.data[:300]
    assert response.mimetype == "application/pdf"
    return response


def test_the_holder_downloads_and_a_bank_verifies(members, accepted, certificate):
    data = certificate.data
    certificate_id = certificate.headers["X-Certificate-Id"]
    assert certificate_id in certificate.headers["Content-Disposition"]
    answer = _upload(members, "bank", data)
    assert answer.status_code == 200
    body = answer.get_json()
    assert (body["verdict"], body["ticket_id"], body["certificate_id"]) == (
        "valid",
        accepted["id"],
        certificate_id,
    )
    assert body["current"]["holder_org_id"] == "tier1"

    changed = bytearray(data)
    changed[100] ^= 0x20
    assert _upload(members, "bank", bytes(changed)).get_json()["verdict"] == "forged"

    raw = members.client.post(
        "/api/v1/certificates/verify",
        data=data,
        content_type="application/pdf",
        headers={"Authorization": f"Bearer {members['bank'].token}"},
    )
    assert raw.get_json()["verdict"] == "valid"

    public = members.client.get(f"/api/v1/verify/{certificate_id}")
    assert public.status_code == 200
    assert public.get_json()["genuine"] is True and public.get_json()["verdict"] == "valid"
    unknown = members.client.get("/api/v1/verify/CT00000000000000000000").get_json()
    assert (unknown["genuine"], unknown["verdict"]) == (False, "forged")
    # an id not of a certificate's shape names nothing (the OpenAPI document's pattern)
    malformed = members.client.get("/api/v1/verify/<script>")
    assert malformed.status_code == 404 and malformed.get_json()["error"] == "not_found"
    assert "script" not in malformed.get_json()["message"]


def test_who_may_download_and_verify(members, accepted, certificate):
    tier2 = {"Authorization": f"Bearer {members['tier2'].token}"}
    refused = members.client.get(f"/api/v1/tickets/{accepted['id']}/certificate", headers=tier2)
    assert (refused.status_code, refused.get_json()["error"]) == (403, "forbidden")
    issuer = {"Authorization": f"Bearer {members['core'].token}"}
    assert (
        members.client.get(f"/api/v1/tickets/{accepted['id']}/certificate", headers=issuer).status_code == 200
    )
    assert _upload(members, "tier2", certificate.data).status_code == 403
    anonymous = members.client.post(
        "/api/v1/certificates/verify", data={"file": (io.BytesIO(certificate.data), "c.pdf")}
    )
    assert anonymous.status_code == 401


def test_bad_uploads_are_client_errors(members, certificate):
    bank = {"Authorization": f"Bearer {members['bank'].token}"}
    # built by hand: the test client would spool a large multipart body to a file it never closes
    body = b"--xyz\r\nContent-Disposition: form-data; name=file; filename=c.pdf\r\n\r\n%PDF-"
    body += b"0" * (3 * 1024 * 1024) + b"\r\n--xyz--\r\n"
    too_big = members.client.post(
        "/api/v1/certificates/verify",
        data=body,
        content_type="multipart/form-data; boundary=xyz",
        headers=bank,
    )
    assert (too_big.status_code, too_big.get_json()["error"]) == (413, "payload_too_large")
    raw = members.client.post(
        "/api/v1/certificates/verify",
        data=b"%PDF-" + bytes(3 * 1024 * 1024),
        content_type="application/pdf",
        headers=bank,
    )
    assert raw.status_code == 413
    no_field = members.client.post(
        "/api/v1/certificates/verify", data={"other": "x"}, content_type="multipart/form-data", headers=bank
    )
    assert (no_field.status_code, no_field.get_json()["error"]) == (400, "invalid_input")
    as_json = members.client.post("/api/v1/certificates/verify", json={"file": "x"}, headers=bank)
    assert as_json.status_code == 415
    broken = members.client.post(
        "/api/v1/certificates/verify",
        data=b"--xyz\r\nContent-Disposition: form-data; name=file\r\n\r\n%PDF-1.7",
        content_type="multipart/form-data; boundary=xyz",
        headers=bank,
    )
    assert 200 <= broken.status_code < 500


def test_the_signing_certificate_is_published(members, certificate):
    response = members.client.get("/api/v1/certificates/signing-certificate")
    assert response.status_code == 200
    assert response.data.count(b"-----BEGIN CERTIFICATE-----") == 2


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.one_of(st.binary(max_size=4096), st.binary(max_size=2048).map(lambda tail: b"%PDF-1.7\n" + tail))
)
def test_any_upload_answers_forged_never_a_server_error(members, certificate, data):
    answer = _upload(members, "bank", data)
    assert answer.status_code == 200, answer.data[:200]
    assert answer.get_json()["verdict"] == "forged"
