"""#21 why a signed document verifies forged, for machines and in the page's language: each
forgery that can be made of a member's signed document (another genuine file, a changed signed
byte, a changed signature, bytes appended, no PDF, an unreadable PDF, too large, a copy
missing the countersignature, another organisation's card, another member's card) answers its
own stable ``reason_code`` over the API beside the English ``reason``, and the portal's verify
page says it in Chinese (and English) from that code, not from the English words."""

from __future__ import annotations

import html as markup
import io
import re
from typing import Any

import pytest
from apiclient import MATURITY, Members, invoice
from support import PIN
from test_portal_pages import csrf, portal_login

from goldticket.certificates import MAX_PDF_BYTES

pytestmark = pytest.mark.functional

# each code and its text on the portal's page, in Chinese and in English
TEXTS = {
    "sha256_differs": (
        "该文件不是账本记录的文件（SHA-256 不一致）。",
        "The file is not the one recorded on the ledger (its SHA-256 differs).",
    ),
    "too_large": (
        f"文件大于 {MAX_PDF_BYTES // 1024} KB。",
        f"The file is larger than {MAX_PDF_BYTES // 1024} KB.",
    ),
    "not_pdf": ("该文件不是 PDF。", "The file is not a PDF."),
    "signature_count": (
        "PDF 中的签名数量与应有的不符。",
        "The PDF does not carry the expected number of signatures.",
    ),
    "bytes_changed": ("已签名的内容被改动。", "The signed bytes were changed."),
    "signature_invalid": ("有签名验证不通过。", "A signature does not verify."),
    "not_chained": (
        "签名证书不是由签署成员所属机构签发的。",
        "A signing certificate is not certified by the signing member's organisation.",
    ),
    "wrong_signer": (
        "该文件不是由应签署成员的证书卡签署的。",
        "The document is not signed by a card of the member who signs it.",
    ),
    "bytes_appended": ("签名之后被追加了内容。", "Bytes were added after the signature."),
    "unreadable": ("无法读取该 PDF 或其签名。", "The PDF or its signature cannot be read."),
}


def _api(members: Members, org_id: str, path: str, data: bytes | None = None) -> Any:
    headers = {"Authorization": f"Bearer {members[org_id].token}"}
    if data is None:
        got = members.client.get(f"/api/v1{path}", headers=headers)
        assert got.status_code == 200, got.data[:300]
        return got.data
    if len(data) > 256 * 1024:  # as a body: the test client spools a large form to a file it never closes
        answer = members.client.post(
            f"/api/v1{path}", data=data, content_type="application/pdf", headers=headers
        )
    else:
        answer = members.client.post(
            f"/api/v1{path}",
            data={"file": (io.BytesIO(data), "document.pdf")},
            content_type="multipart/form-data",
            headers=headers,
        )
    assert answer.status_code == 200, answer.data[:300]
    return answer.json


def _page(browser: Any, path: str, data: bytes) -> tuple[str, str, str]:
    """The verify page's verdict, reason code and reason text for an upload."""
    form = browser.get(path)
    assert form.status_code == 200, form.get_data(as_text=True)[:400]
    token = csrf(form.get_data(as_text=True))
    # built by hand: the test client would spool a large multipart body to a file it never closes
    body = b"--xyz\r\nContent-Disposition: form-data; name=csrf_token\r\n\r\n" + token.encode()
    body += b"\r\n--xyz\r\nContent-Disposition: form-data; name=file; filename=d.pdf\r\n"
    body += b"Content-Type: application/pdf\r\n\r\n" + data + b"\r\n--xyz--\r\n"
    answer = browser.post(path, data=body, content_type="multipart/form-data; boundary=xyz")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200, html[:500]
    verdict = re.search(r'data-verdict="([a-z]+)"', html)
    assert verdict, html[-1500:]
    found = re.search(r'data-testid="reasons" data-reason-code="([a-z0-9_]*)">([^<]*)<', html)
    return verdict.group(1), found.group(1) if found else "", markup.unescape(found.group(2)) if found else ""


def _signature_changed(data: bytes) -> bytes:
    """``data`` with one bit of its (first) signature value flipped: the signed bytes intact."""
    from asn1crypto import cms

    start = data.index(b"/Contents <") + len(b"/Contents <")
    end = data.index(b">", start)
    der = bytes.fromhex(data[start:end].decode())
    value = cms.ContentInfo.load(der)["content"]["signer_infos"][0]["signature"].native
    at = der.index(value) + len(value) // 2
    changed = bytearray(der)
    changed[at] ^= 0x01
    forged = data[:start] + bytes(changed).hex().encode() + data[end:]
    assert len(forged) == len(data)
    return forged


def _byte_changed(data: bytes) -> bytes:
    """``data`` with one byte of a content stream (inside the signed ranges) changed."""
    at = data.index(b"stream", data.index(b"/Length")) + 20
    changed = bytearray(data)
    changed[at] ^= 0x01
    return bytes(changed)


@pytest.fixture
def forgeries(members: Members, accepted: dict[str, Any]) -> list[tuple[str, str, bytes, str]]:
    """(API path, portal path, upload, expected reason code) for every forgery made here."""
    root = accepted["id"]
    commitment = _api(members, "tier1", f"/tickets/{root}/commitment")
    # another genuine commitment of the same issuer: a valid signature, not this ticket's file
    other = members["core"].post(
        "/tickets",
        {
            "payee_org_id": "tier1",
            "amount_fen": 5_00,
            "maturity_date": MATURITY.isoformat(),
            "invoices": [invoice("INV-REASON-2", 5_00)],
            "pin": PIN,
        },
        expect=201,
    )
    another = _api(members, "core", f"/tickets/{other['id']}/commitment")
    # tier1 offers a piece to tier2, which accepts and offers on to tier1: notices of two members
    offer = members["tier1"].post(
        f"/tickets/{root}/transfers", {"to_org_id": "tier2", "amount_fen": 1_000_00, "pin": PIN}, expect=201
    )["offer_id"]
    alone = _api(members, "tier1", f"/offers/{offer}/agreement")  # the transferor's copy
    piece = members["tier2"].post(f"/offers/{offer}/accept", {"pin": PIN}, expect=200)["transferred"]["id"]
    onward = members["tier2"].post(
        f"/tickets/{piece}/transfers", {"to_org_id": "tier1", "amount_fen": 1_00, "pin": PIN}, expect=201
    )["offer_id"]
    notice_by_tier2 = _api(members, "tier2", f"/offers/{onward}/notice")
    notice = _api(members, "tier1", f"/offers/{offer}/notice")

    commitment_paths = (f"/tickets/{root}/commitment/verify",) * 2
    notice_paths = (f"/offers/{offer}/notice/verify",) * 2
    agreement_paths = (f"/offers/{offer}/agreement/verify",) * 2
    return [
        (*commitment_paths, another, "sha256_differs"),
        (*commitment_paths, _byte_changed(commitment), "bytes_changed"),
        (*commitment_paths, _signature_changed(commitment), "signature_invalid"),
        (*commitment_paths, commitment + b"\n% appended\n", "bytes_appended"),
        (*commitment_paths, b"PK\x03\x04 a zip, not a PDF", "not_pdf"),
        (*commitment_paths, b"%PDF-1.7 not a document at all", "unreadable"),
        (*commitment_paths, b"%PDF-1.7\n" + b"0" * MAX_PDF_BYTES, "too_large"),
        (*commitment_paths, notice, "not_chained"),  # a supplier's card is not the core's organisation
        (*notice_paths, notice_by_tier2, "wrong_signer"),  # tier2's card, same organisation as tier1
        (*agreement_paths, alone, "signature_count"),  # accepted: the transferee's countersignature missing
    ]


def test_each_forgery_answers_its_reason_code_over_the_api(members, forgeries):
    codes = []
    for path, _, data, code in forgeries:
        answer = _api(members, "tier1", path, data)
        assert (answer["verdict"], answer["reason_code"]) == ("forged", code), answer
        assert answer["reason"], answer  # the English sentence stays
        codes.append(code)
    assert sorted(codes) == sorted(TEXTS)
    # a valid copy answers no code and no reason
    root_path = forgeries[0][0]
    genuine = _api(members, "core", root_path.removesuffix("/verify"))
    answer = _api(members, "core", root_path, genuine)
    assert (answer["verdict"], answer["reason_code"], answer["reason"]) == ("valid", "", ""), answer


def test_each_forgery_is_explained_on_the_portal_in_chinese_and_english(app, forgeries):
    chinese = portal_login(app, "tier1.clerk")
    english = portal_login(app, "tier1.clerk")
    english.get("/lang/en")
    for _, path, data, code in forgeries:
        assert _page(chinese, path, data) == ("forged", code, TEXTS[code][0]), code
        assert _page(english, path, data) == ("forged", code, TEXTS[code][1]), code
    # the room for a whole PDF is a signed-in user's only: anyone else's large body is a 413
    path, big = next((path, data) for _, path, data, code in forgeries if code == "too_large")
    body = b"--xyz\r\nContent-Disposition: form-data; name=file; filename=d.pdf\r\n\r\n" + big
    anonymous = app.test_client().post(
        path, data=body + b"\r\n--xyz--\r\n", content_type="multipart/form-data; boundary=xyz"
    )
    assert anonymous.status_code == 413
