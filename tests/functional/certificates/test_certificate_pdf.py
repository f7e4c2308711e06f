"""The certificate PDF for real: WeasyPrint renders it, pyHanko signs it with the platform key in
a SoftHSM2 token, the ledger records it; then every way of tampering with it is tried."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import os
import re

import pypdf
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from support import PIN, TODAY, on

from goldticket.certificates import check_signature
from goldticket.certificates.signer import SoftwareDocumentSigner
from goldticket.services import Platform, certificates, settlement, setup, transfers
from goldticket.signing import OrgCA, new_member_key

pytestmark = pytest.mark.functional


def text_of(data: bytes) -> str:
    """The PDF's text with all whitespace removed (a line break may split a phrase)."""
    reader = pypdf.PdfReader(io.BytesIO(data))
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture
def issued(consortium, issued_ticket):
    return certificates.issue_certificate(consortium.platform, consortium.tier1, issued_ticket["id"])


def test_the_rendered_text_states_the_ticket(consortium, issued_ticket, issued):
    text = text_of(issued.pdf)
    record = consortium.platform.evaluate("GetCertificate", {"sha256": issued.sha256})
    for expected in (
        "金票持有凭证",
        "GoldTicketHoldingCertificate",
        f"CertificateNo.{issued.certificate_id}",
        f"TicketID{issued_ticket['id']}",
        "开立方Issuer华东重工EastChinaHeavy(core)",
        "持有方Holder苏州精密SuzhouPrecision(tier1)",
        "CNY1,000,000.00",
        "人民币壹佰万元整",
        f"到期日期Maturitydate{(TODAY + dt.timedelta(days=90)).isoformat()}",
        "持有中Active(ACTIVE)",
        "INV-0001",
        issued_ticket["invoices"][0]["sha256"],
        "goldticket(local)",
        record["state_sha256"],
        f"/verify/{issued.certificate_id}",
        "/api/v1/certificates/signing-certificate",
    ):
        assert squeeze(expected) in text, expected
    assert len(pypdf.PdfReader(io.BytesIO(issued.pdf)).pages) == 1


def test_the_lineage_runs_from_the_root_with_chinese_capitals_of_any_amount(consortium, issued_ticket):
    c, p = consortium, consortium.platform
    offer = transfers.offer_transfer(
        p, c.tier1, ticket_id=issued_ticket["id"], to_org_id="tier2", amount_fen=1_001_010, pin=PIN
    )
    piece = transfers.accept_offer(p, c.tier2, offer["offer_id"], pin=PIN)["transferred"]
    issued = certificates.issue_certificate(p, c.tier2, piece["id"])
    text = text_of(issued.pdf)
    assert "人民币壹万零壹拾元壹角" in text  # 10,010.10
    assert "CNY10,010.10" in text
    assert text.index("开立Issue") < text.index("转让Transfer")
    assert squeeze("苏州精密 Suzhou Precision (tier1)") in text
    assert squeeze("无锡电机 Wuxi Motors (tier2)") in text
    assert issued_ticket["id"] in text and piece["id"] in text


def test_valid_is_refused_for_one_changed_byte_anywhere(consortium, issued):
    platform = consortium.platform
    assert certificates.verify_certificate(platform, issued.pdf)["verdict"] == "valid"
    size = len(issued.pdf)
    # the header, the page, the signature dictionary and its /Contents, the trailer
    contents = issued.pdf.index(b"/Contents <")
    for position in (0, 7, size // 4, size // 2, contents + 40, contents + 200, size - 30, size - 1):
        changed = bytearray(issued.pdf)
        changed[position] ^= 0x01
        verdict = certificates.verify_certificate(platform, bytes(changed))
        assert verdict["verdict"] == "forged", (position, verdict)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fraction=st.floats(min_value=0, max_value=1, exclude_max=True), flip=st.integers(1, 255))
def test_one_changed_byte_at_a_random_place_is_forged(consortium, issued, fraction, flip):
    changed = bytearray(issued.pdf)
    changed[int(fraction * len(changed))] ^= flip
    assert certificates.verify_certificate(consortium.platform, bytes(changed))["verdict"] == "forged"


def test_a_pdf_resaved_by_another_tool_is_forged(consortium, issued):
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(issued.pdf)))
    output = io.BytesIO()
    writer.write(output)
    resaved = output.getvalue()
    assert resaved != issued.pdf and "金票持有凭证" in text_of(resaved)
    verdict = certificates.verify_certificate(consortium.platform, resaved)
    assert verdict["verdict"] == "forged"


def test_an_incremental_update_after_the_signature_is_forged(consortium, issued):
    writer = IncrementalPdfFileWriter(io.BytesIO(issued.pdf))
    writer.root["/Lang"] = generic.TextStringObject("en")
    writer.update_root()
    output = io.BytesIO()
    writer.write(output)
    updated = output.getvalue()
    assert updated.startswith(issued.pdf) and len(updated) > len(issued.pdf)
    verdict = certificates.verify_certificate(consortium.platform, updated)
    assert verdict["verdict"] == "forged"
    assert verdict["reasons"] == ["bytes were added after the signature"]
    appended = certificates.verify_certificate(consortium.platform, issued.pdf + b"\n% a comment\n")
    assert appended["reasons"] == ["bytes were added after the signature"]


def _record(platform: Platform, actor, ticket_id: str, data: bytes) -> None:
    """Put a file's hash on the ledger (as the platform would, for ``actor``), so only the
    signature check is left."""
    import hashlib

    digest = hashlib.sha256(data).hexdigest()
    request = {
        "ticket_id": ticket_id,
        "sha256": digest,
        "certificate_id": "CT" + digest[:20].upper(),
        "requested_by": actor.member_id,
        "requested_by_user": actor.username,
    }
    desk = platform.desk()  # only the platform's identity records a certificate (issue #17)
    platform.submit(desk.actor, "RecordCertificate", request, pin=desk.pin)


def _foreign_signer(ca: OrgCA) -> SoftwareDocumentSigner:
    from cryptography.hazmat.primitives import serialization

    key = new_member_key()
    certificate = ca.issue_document_signer(key.public_key(), common_name="GoldTicket certificate signing")
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return SoftwareDocumentSigner(key_pem, certificate, ca.certificate_pem)


def _unsigned(consortium, ticket: dict) -> bytes:
    from goldticket.certificates import render_certificate

    view = certificates.certificate_view(consortium.platform, ticket, "CT" + "AB" * 10, "00" * 32)
    return render_certificate(view)


def test_a_validly_signed_pdf_from_a_foreign_key_is_forged_even_with_its_hash_on_the_ledger(
    consortium, issued_ticket
):
    c, p = consortium, consortium.platform
    unsigned = _unsigned(consortium, issued_ticket)
    for ca in (OrgCA.create("OperatorMSP", "Someone Else"), p.keystore.cas()["OperatorMSP"]):
        # another CA under the same name, and the operator's own CA certifying another key
        signer = _foreign_signer(ca)
        signed = signer.sign(unsigned, reason="forgery")
        assert check_signature(
            signed, signer.certificate_pem, signer.ca_pem
        ).genuine  # valid on its own terms
        _record(p, c.tier1, issued_ticket["id"], signed)
        verdict = certificates.verify_certificate(p, signed)
        assert verdict["verdict"] == "forged"
        assert verdict["reasons"] == ["the PDF is signed by another key, not the platform's"]


def test_a_platform_signed_pdf_whose_hash_is_not_on_the_ledger_is_forged(consortium, issued_ticket):
    signed = certificates.document_signer(consortium.platform).sign(
        _unsigned(consortium, issued_ticket), reason="never anchored"
    )
    verdict = certificates.verify_certificate(consortium.platform, signed)
    assert verdict["reasons"] == ["the file's SHA-256 is not recorded on the ledger"]


def test_an_unsigned_pdf_and_not_a_pdf_are_forged(consortium, issued_ticket):
    p = consortium.platform
    assert certificates.verify_certificate(p, _unsigned(consortium, issued_ticket))["verdict"] == "forged"
    assert certificates.verify_certificate(p, b"")["reasons"] == ["the file is not a PDF"]
    assert certificates.verify_certificate(p, "金票".encode())["verdict"] == "forged"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    upload=st.one_of(
        st.binary(max_size=8192),
        st.binary(max_size=4096).map(lambda tail: b"%PDF-1.7\n" + tail),
        st.floats(0, 1, exclude_max=True).map(lambda fraction: ("cut", fraction)),
        st.tuples(st.floats(0, 1, exclude_max=True), st.binary(min_size=1, max_size=64)),
    )
)
def test_fuzz_random_and_truncated_uploads_answer_forged_never_an_exception(consortium, issued, upload):
    if isinstance(upload, tuple) and upload[0] == "cut":
        data = issued.pdf[: int(upload[1] * len(issued.pdf))]
    elif isinstance(upload, tuple):
        at = int(upload[0] * len(issued.pdf))
        data = issued.pdf[:at] + upload[1] + issued.pdf[at + len(upload[1]) :]
    else:
        data = upload
    if data == issued.pdf:
        return
    verdict = certificates.verify_certificate(consortium.platform, data)
    assert verdict["verdict"] == "forged" and verdict["current"] is None


def test_the_signing_key_stays_in_its_token_and_its_record_is_owner_only(consortium, issued):
    platform = consortium.platform
    if platform.cards.default_backend != "pkcs11":
        pytest.skip("runs with the PKCS#11 card backend (SoftHSM2)")
    path = platform.settings.data_dir / "certificates" / "signer.json"
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert os.stat(path.parent).st_mode & 0o777 == 0o700
    record = json.loads(path.read_text())
    assert record["kind"] == "pkcs11" and "key_pem" not in record and "PRIVATE" not in path.read_text()
    from pkcs11 import Attribute, ObjectClass

    factory = platform.cards.factories["pkcs11"]
    with factory._module.lock:
        token = factory._module.find_token(factory.config_path, record["token_label"])
        with token.open(user_pin=record["pin"]) as session:
            key = session.get_key(object_class=ObjectClass.PRIVATE_KEY, label="goldticket-document-signing")
            assert key[Attribute.SENSITIVE] and not key[Attribute.EXTRACTABLE]
    signer = certificates.document_signer(platform)
    assert signer.kind == "pkcs11"
    assert check_signature(issued.pdf, signer.certificate_pem, signer.ca_pem).genuine


def test_the_software_backend_signs_with_an_owner_only_key_file(settings, tmp_path):
    software = dataclasses.replace(settings, card_backend="software", data_dir=tmp_path / "software")
    platform = setup.init_platform(software)
    try:
        signer = certificates.document_signer(platform)
        assert signer.kind == "software"
        path = software.data_dir / "certificates" / "signer.json"
        assert os.stat(path).st_mode & 0o777 == 0o600
        assert json.loads(path.read_text())["kind"] == "software"
        blank = pypdf.PdfWriter()
        blank.add_blank_page(595, 842)
        output = io.BytesIO()
        blank.write(output)
        signed = signer.sign(output.getvalue(), reason="software backend")
        assert check_signature(signed, signer.certificate_pem, signer.ca_pem).genuine
    finally:
        platform.close()


def test_the_clearing_statement_is_a_signed_pdf(consortium, issued_ticket):
    c, p = consortium, consortium.platform
    offer = transfers.offer_transfer(
        p, c.tier1, ticket_id=issued_ticket["id"], to_org_id="tier2", amount_fen=25_000_000, pin=PIN
    )
    transfers.accept_offer(p, c.tier2, offer["offer_id"], pin=PIN)
    maturity = on(p, TODAY + dt.timedelta(days=90))
    statement = settlement.settle_ticket(maturity, c.core, issued_ticket["id"], pin=PIN)
    data = certificates.statement_pdf(p, c.tier2, issued_ticket["id"], statement["statement_id"])
    signer = certificates.document_signer(p)
    assert check_signature(data, signer.certificate_pem, signer.ca_pem).genuine
    text = text_of(data)
    for expected in (
        "清分结算单ClearingStatement",
        statement["statement_id"],
        "CNY1,000,000.00",
        "人民币壹佰万元整",
        "250,000.00",
        squeeze("无锡电机 Wuxi Motors (tier2)"),
    ):
        assert expected in text, expected
    assert "750,000.00" not in text  # tier1's line is tier1's and the issuer's (need to know)
    issuer_text = text_of(
        certificates.statement_pdf(p, c.core, issued_ticket["id"], statement["statement_id"])
    )
    assert "750,000.00" in issuer_text and "250,000.00" in issuer_text
    from goldticket.domain import ForbiddenError

    with pytest.raises(ForbiddenError):
        certificates.statement_pdf(p, c.bank, issued_ticket["id"], statement["statement_id"])
    listed = certificates.list_statements(p, c.tier2, issued_ticket["id"])
    assert [item["statement_id"] for item in listed] == [statement["statement_id"]]
    assert certificates.get_statement(p, c.tier2, issued_ticket["id"], statement["statement_id"]) == listed[0]
    assert certificates.list_statements(p, c.bank, issued_ticket["id"]) == []  # not a party to it
    with pytest.raises(ForbiddenError):
        certificates.get_statement(p, c.bank, issued_ticket["id"], statement["statement_id"])


def test_frozen_and_settled_after_certification_are_stale_with_the_reason(consortium, issued_ticket, issued):
    from goldticket.services import tickets

    c, p = consortium, consortium.platform
    desk = p.desk()
    operator, operator_pin = desk.actor, desk.pin
    tickets.freeze_ticket(p, operator, issued_ticket["id"], "court order", pin=operator_pin)
    frozen = certificates.verify_certificate(p, issued.pdf)
    assert frozen["verdict"] == "stale"
    assert any("frozen by the operator; status FROZEN" in reason for reason in frozen["reasons"])
    tickets.unfreeze_ticket(p, operator, issued_ticket["id"], pin=operator_pin)
    # back to the stated state: the paper is true again
    assert certificates.verify_certificate(p, issued.pdf)["verdict"] == "valid"
    settlement.settle_ticket(on(p, TODAY + dt.timedelta(days=90)), c.core, issued_ticket["id"], pin=PIN)
    settled = certificates.verify_certificate(p, issued.pdf)
    assert settled["verdict"] == "stale"
    assert "the ticket is now SETTLED, the certificate states ACTIVE" in settled["reasons"]


def test_the_signature_must_chain_to_the_operator_ca_and_be_the_only_one(consortium, issued):
    signer = certificates.document_signer(consortium.platform)
    other_ca = OrgCA.create("OperatorMSP", "GoldTicket Operator")
    check = check_signature(issued.pdf, signer.certificate_pem, other_ca.certificate_pem)
    assert (check.genuine, check.reason) == (
        False,
        "the signing certificate does not chain to the operator's CA",
    )
    # a second signature (another key) added as an incremental update
    from pyhanko.sign import signers

    output = io.BytesIO()
    signers.sign_pdf(
        IncrementalPdfFileWriter(io.BytesIO(issued.pdf)),
        signers.PdfSignatureMetadata(field_name="Countersignature"),
        signer=_foreign_signer(other_ca)._signer,
        output=output,
    )
    twice = output.getvalue()
    verdict = certificates.verify_certificate(consortium.platform, twice)
    assert verdict["reasons"] == ["the PDF carries 2 signatures, not the platform's one"]


def test_the_chaincode_anchors_only_what_is_still_true(consortium, issued_ticket):
    from goldticket.domain import (
        ForbiddenError,
        InvalidInputError,
        RuleViolationError,
        StateConflictError,
        state_sha256,
    )

    c, p = consortium, consortium.platform
    desk = p.desk()
    operator, pin = desk.actor, desk.pin
    state = state_sha256(p.evaluate("GetTicket", {"ticket_id": issued_ticket["id"]}))
    base = {
        "ticket_id": issued_ticket["id"],
        "certificate_id": "CT" + "1" * 20,
        "state_sha256": state,
        "requested_by": "tier1",
        "requested_by_user": "tier1.clerk",
    }
    with pytest.raises(StateConflictError, match="changed after its certificate was made"):
        p.submit(
            operator, "RecordCertificate", {**base, "sha256": "a1" * 32, "state_sha256": "0" * 64}, pin=pin
        )
    with pytest.raises(ForbiddenError, match="only the holder or issuer"):
        p.submit(
            operator, "RecordCertificate", {**base, "sha256": "a2" * 32, "requested_by": "tier2"}, pin=pin
        )
    with pytest.raises(InvalidInputError, match="certificate_id must be"):
        p.submit(operator, "RecordCertificate", {**base, "sha256": "a3" * 32, "certificate_id": "x"}, pin=pin)
    record = p.submit(operator, "RecordCertificate", {**base, "sha256": "a4" * 32}, pin=pin).result
    assert (record["state_sha256"], record["holder_org_id"]) == (state, "tier1")
    assert p.evaluate("GetCertificate", {"certificate_id": base["certificate_id"]})["sha256"] == "a4" * 32
    with pytest.raises(StateConflictError, match="already recorded"):
        p.submit(operator, "RecordCertificate", {**base, "sha256": "a5" * 32}, pin=pin)
    offer = transfers.offer_transfer(
        p, c.tier1, ticket_id=issued_ticket["id"], to_org_id="tier2", amount_fen=5, pin=PIN
    )
    transfers.accept_offer(p, c.tier2, offer["offer_id"], pin=PIN)
    with pytest.raises(RuleViolationError, match="only a held piece"):
        p.submit(
            operator,
            "RecordCertificate",
            {**base, "certificate_id": "CT" + "6" * 20, "sha256": "a6" * 32},
            pin=pin,
        )


def test_the_signature_check_names_a_changed_document_and_a_changed_signature(consortium, issued):
    """Each of the first two checks attacked on its own (the ledger look-up would catch both
    later, so this calls the signature check directly)."""
    from asn1crypto import cms

    signer = certificates.document_signer(consortium.platform)
    start = issued.pdf.index(b"/Contents <") + len(b"/Contents <")
    end = issued.pdf.index(b">", start)
    der = bytes.fromhex(issued.pdf[start:end].decode())
    signed_data = cms.ContentInfo.load(der)["content"]
    value = signed_data["signer_infos"][0]["signature"].native
    at = der.index(value) + len(value) // 2
    bad_signature = bytearray(der)
    bad_signature[at] ^= 0x01
    tampered = issued.pdf[:start] + bytes(bad_signature).hex().encode() + issued.pdf[end:]
    assert len(tampered) == len(issued.pdf)
    check = check_signature(tampered, signer.certificate_pem, signer.ca_pem)
    assert (check.genuine, check.reason) == (False, "the signature does not verify")

    page = issued.pdf.index(b"stream", issued.pdf.index(b"/Length")) + 20
    changed = bytearray(issued.pdf)
    changed[page] ^= 0x01
    check = check_signature(bytes(changed), signer.certificate_pem, signer.ca_pem)
    assert (check.genuine, check.reason) == (False, "the signed bytes were changed (digest mismatch)")
