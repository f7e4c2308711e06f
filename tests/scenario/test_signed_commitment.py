"""#21 the issuer's payment commitment (付款承诺函): rendered, PAdES-signed by the issuer clerk's
own card through the signing gateway (in-process and over HTTP), its SHA-256 recorded with the
ticket in the issue's transaction; downloaded and verified by the members in the ticket's path
only; a copy whose hash differs from the ledger's, or signed by another card, verifies forged."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import shutil
import subprocess

import pytest
from support import PIN, TODAY, invoice

from goldticket import domain as d
from goldticket.certificates.card import TERMS_KEY
from goldticket.services import financing, signed_documents, tickets, transfers

pytestmark = pytest.mark.scenario
KIND = signed_documents.PAYMENT_COMMITMENT


@pytest.fixture
def committed(consortium):
    ticket = tickets.issue_ticket(
        consortium.platform,
        consortium.core,
        payee_org_id="tier1",
        amount_fen=123_456_78,
        maturity_date=TODAY + dt.timedelta(days=90),
        invoices=[invoice("INV-PC-1", 123_456_78)],
        pin=PIN,
    )
    # the issue's own transaction wrote the hash with the ticket
    assert len(ticket["commitment_sha256"]) == 64 and ticket["status"] == "PENDING_ACCEPTANCE"
    return tickets.accept_ticket(consortium.platform, consortium.tier1, ticket["id"], pin=PIN)


def test_the_commitment_is_signed_by_the_issuers_card_and_its_hash_is_the_tickets(consortium, committed):
    platform = consortium.platform
    data, filename = signed_documents.download(platform, consortium.tier1, committed["id"], KIND)
    assert filename == f"commitment-{committed['id']}.pdf"
    assert committed["commitment_sha256"] == hashlib.sha256(data).hexdigest()

    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(io.BytesIO(data))
    (signature,) = reader.embedded_signatures
    subject = signature.signer_cert.subject.human_friendly
    assert consortium.core.username in subject  # the clerk's own card, not the platform's key
    terms = str(reader.root[TERMS_KEY])
    assert '"payer":"core"' in terms and '"payee":"tier1"' in terms and '"amount_fen":12345678' in terms

    verdict = signed_documents.verify(platform, consortium.core, committed["id"], KIND, data)
    assert verdict["verdict"] == "valid", verdict


def test_a_changed_or_appended_copy_verifies_forged(consortium, committed):
    platform = consortium.platform
    data, _ = signed_documents.download(platform, consortium.core, committed["id"], KIND)
    changed = bytearray(data)
    changed[len(changed) // 3] ^= 0x01
    for upload in (bytes(changed), data + b"\n% appended\n", b"not a pdf"):
        verdict = signed_documents.verify(platform, consortium.tier1, committed["id"], KIND, upload)
        assert verdict["verdict"] == "forged" and verdict["reason"], verdict
        assert verdict["reason_code"] in signed_documents.REASON_CODES, verdict
    appended = signed_documents.verify(
        platform, consortium.tier1, committed["id"], KIND, data + b"\n% appended\n"
    )
    assert appended["reason_code"] == "bytes_appended", appended
    not_pdf = signed_documents.verify(platform, consortium.tier1, committed["id"], KIND, b"not a pdf")
    assert not_pdf["reason_code"] == "not_pdf", not_pdf
    # the genuine file, but the platform holds no CA for its signer: its own code
    from goldticket import certificates as pdf

    untrusted = pdf.check_member_signatures(data, [("core", b"")])
    assert (untrusted.genuine, untrusted.code) == (False, "ca_not_trusted"), untrusted
    assert "does not trust core's organisation CA" in untrusted.reason


def test_a_genuine_card_signed_document_not_the_ledgers_verifies_forged(consortium, committed):
    """Another commitment the same clerk signed (a valid signature) is not this ticket's."""
    platform = consortium.platform
    other = tickets.issue_ticket(
        platform, consortium.core, payee_org_id="tier1", amount_fen=1_00,
        maturity_date=TODAY + dt.timedelta(days=90), invoices=[invoice("INV-PC-2", 1_00)], pin=PIN,
    )  # fmt: skip
    data, _ = signed_documents.download(platform, consortium.core, other["id"], KIND)
    assert signed_documents.verify(platform, consortium.core, other["id"], KIND, data)["verdict"] == "valid"
    verdict = signed_documents.verify(platform, consortium.core, committed["id"], KIND, data)
    assert verdict["verdict"] == "forged" and "ledger" in verdict["reason"]
    assert verdict["reason_code"] == "sha256_differs", verdict


def test_only_members_in_the_path_download_or_verify(consortium, committed):
    platform = consortium.platform
    with pytest.raises(d.ForbiddenError):
        signed_documents.download(platform, consortium.tier2, committed["id"], KIND)
    with pytest.raises(d.ForbiddenError):
        signed_documents.verify(platform, consortium.bank, committed["id"], KIND, b"%PDF-")
    # a transferee of a piece is in its path: it reads the root's commitment
    offer = transfers.offer_transfer(
        platform, consortium.tier1, ticket_id=committed["id"], to_org_id="tier2", amount_fen=1_000_00, pin=PIN
    )
    piece = transfers.accept_offer(platform, consortium.tier2, offer["offer_id"], pin=PIN)["transferred"][
        "id"
    ]
    data, _ = signed_documents.download(platform, consortium.tier2, piece, KIND)
    assert hashlib.sha256(data).hexdigest() == committed["commitment_sha256"]


@pytest.mark.documents_optional  # a ledger without #21's documents rule (test_documents_required)
def test_a_ticket_issued_without_a_commitment_has_none(consortium):
    ticket = tickets.issue_ticket(
        consortium.platform, consortium.core, payee_org_id="tier1", amount_fen=5_00,
        maturity_date=TODAY + dt.timedelta(days=90), invoices=[invoice("INV-PC-3", 5_00)], pin=PIN,
        commitment=False,
    )  # fmt: skip
    assert "commitment_sha256" not in ticket
    with pytest.raises(d.NotFoundError):
        signed_documents.download(consortium.platform, consortium.core, ticket["id"], KIND)


def test_a_transfer_comes_with_the_agreement_countersigned_and_the_notice_delivered(consortium, committed):
    """#21: the transferor's card signs the assignment agreement and the notice to the debtor at
    the offer; the transferee's card countersigns the agreement at acceptance, which records the
    notice as delivered to the issuer. Each verifies; others are refused."""
    platform = consortium.platform
    offer = transfers.offer_transfer(
        platform, consortium.tier1, ticket_id=committed["id"], to_org_id="tier2", amount_fen=2_000_00, pin=PIN
    )
    recorded = platform.evaluate("GetOffer", {"offer_id": offer["offer_id"]})
    assert len(recorded["agreement_sha256"]) == len(recorded["notice_sha256"]) == 64
    assert "notice_delivered_on" not in recorded
    # the payee, asked, reads the agreement before it accepts; the debtor reads the notice
    first, _ = signed_documents.download_offer_document(
        platform, consortium.tier2, offer["offer_id"], signed_documents.ASSIGNMENT_AGREEMENT
    )
    assert hashlib.sha256(first).hexdigest() == recorded["agreement_sha256"]
    notice, _ = signed_documents.download_offer_document(
        platform, consortium.core, offer["offer_id"], signed_documents.ASSIGNMENT_NOTICE
    )
    assert (
        signed_documents.verify_offer_document(
            platform, consortium.core, offer["offer_id"], signed_documents.ASSIGNMENT_NOTICE, notice
        )["verdict"]
        == "valid"
    )
    with pytest.raises(d.ForbiddenError):
        signed_documents.download_offer_document(
            platform, consortium.tier3, offer["offer_id"], signed_documents.ASSIGNMENT_NOTICE
        )

    transfers.accept_offer(platform, consortium.tier2, offer["offer_id"], pin=PIN)
    closed = platform.evaluate("GetOffer", {"offer_id": offer["offer_id"]})
    assert closed["notice_delivered_on"] == platform.today().isoformat()
    agreement, _ = signed_documents.download_offer_document(
        platform, consortium.tier1, offer["offer_id"], signed_documents.ASSIGNMENT_AGREEMENT
    )
    assert (
        hashlib.sha256(agreement).hexdigest()
        == closed["countersigned_sha256"]
        != recorded["agreement_sha256"]
    )
    assert agreement.startswith(first)  # the countersignature is an incremental update
    kind = signed_documents.ASSIGNMENT_AGREEMENT
    verdict = signed_documents.verify_offer_document(
        platform, consortium.core, offer["offer_id"], kind, agreement
    )
    assert verdict["verdict"] == "valid" and verdict["signers"] == ["tier1", "tier2"], verdict
    # the transferor's copy alone is not the agreement the ledger now names
    forged = signed_documents.verify_offer_document(
        platform, consortium.tier2, offer["offer_id"], kind, first
    )
    assert forged["verdict"] == "forged"


def test_a_financing_application_comes_with_the_assignment_to_the_bank(consortium, committed):
    """#21: the holder's card signs the assignment to the bank with its recourse terms; its hash
    is on the application in the same transaction; the bank and the path read and verify it."""
    platform = consortium.platform
    applied = financing.apply_financing(
        platform, consortium.tier1, ticket_id=committed["id"], bank_org_id="bank", amount_fen=5_000_00,
        max_annual_rate_bp=600, recourse=True, pin=PIN,
    )  # fmt: skip
    application = platform.evaluate("GetApplication", {"application_id": applied["application_id"]})
    data, _ = signed_documents.download_financing_assignment(platform, consortium.bank, application["id"])
    assert hashlib.sha256(data).hexdigest() == application["assignment_sha256"]
    from pyhanko.pdf_utils.reader import PdfFileReader

    terms = str(PdfFileReader(io.BytesIO(data)).root[TERMS_KEY])
    assert '"recourse":true' in terms and '"assignee":"bank"' in terms and '"max_annual_rate_bp":600' in terms
    verdict = signed_documents.verify_financing_assignment(platform, consortium.core, application["id"], data)
    assert verdict["verdict"] == "valid", verdict
    changed = data.replace(b"GoldTicket", b"GoldTickeT", 1)
    assert (
        signed_documents.verify_financing_assignment(platform, consortium.bank, application["id"], changed)[
            "verdict"
        ]
        == "forged"
    )
    with pytest.raises(d.ForbiddenError):
        signed_documents.download_financing_assignment(platform, consortium.factor, application["id"])


def test_a_document_signed_by_another_members_card_verifies_forged(consortium, committed):
    """A transferor who records the hashes of documents another supplier's card signed (same
    organisation CA, another member) gets them verified forged: the signer must be its own."""
    platform = consortium.platform
    offer = transfers.offer_transfer(
        platform, consortium.tier1, ticket_id=committed["id"], to_org_id="tier2", amount_fen=3_000_00, pin=PIN
    )
    piece = transfers.accept_offer(platform, consortium.tier2, offer["offer_id"], pin=PIN)["transferred"]
    theirs = transfers.offer_transfer(
        platform, consortium.tier2, ticket_id=piece["id"], to_org_id="tier3", amount_fen=1_00, pin=PIN
    )
    signed_by_tier2 = platform.evaluate("GetOffer", {"offer_id": theirs["offer_id"]})
    rest = next(
        t
        for t in platform.evaluate("ListTickets", {"holder_org_id": "tier1"})["items"]
        if t["status"] == "ACTIVE"
    )
    request = {
        "ticket_id": rest["id"],
        "to_org_id": "tier3",
        "amount_fen": 1_00,
        "agreement_sha256": signed_by_tier2["agreement_sha256"],
        "notice_sha256": signed_by_tier2["notice_sha256"],
    }
    made = platform.submit(consortium.tier1, "OfferTransfer", request, pin=PIN).result
    kind = signed_documents.ASSIGNMENT_NOTICE
    data, _ = signed_documents.download_offer_document(platform, consortium.core, made["offer_id"], kind)
    verdict = signed_documents.verify_offer_document(platform, consortium.core, made["offer_id"], kind, data)
    assert verdict["verdict"] == "forged" and "not signed by a card of tier1" in verdict["reason"], verdict
    assert verdict["reason_code"] == "wrong_signer", verdict


def test_a_copy_under_another_ca_or_with_bytes_after_its_signature_verifies_forged(consortium, committed):
    """Even when its hash is the ledger's (a clerk may record any hash it signs for): a commitment
    signed by a certificate that names the issuer but comes from another organisation's CA, or
    a genuine one with bytes appended after its signature, verifies forged."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    from goldticket import certificates as pdf
    from goldticket.signing.ca import new_member_key

    platform = consortium.platform
    key = new_member_key()
    ca = platform.member_ca("OperatorMSP")
    claimed = ca.issue(
        key.public_key(), common_name="mallory", attributes={"member": "core", "role": "clerk", "user": "m"}
    )
    terms = {"kind": KIND, "document_id": "PCFORGED", "signer_org_id": "core", "parties": {}, "amount_fen": 1}
    other_ca = pdf.sign_with_card(
        pdf.warm(), terms, certificate_pem=claimed, ca_pem=ca.certificate_pem, field_name="GoldTicketIssuer",
        reason="forged", sign=lambda attributes, _: key.sign(attributes, ec.ECDSA(hashes.SHA256())),
    )  # fmt: skip
    genuine, _ = signed_documents.download(platform, consortium.core, committed["id"], KIND)
    for number, (data, words, code) in enumerate(
        ((other_ca, "does not chain", "not_chained"), (genuine + b"\n% more\n", "added", "bytes_appended"))
    ):
        digest = signed_documents._keep(platform, data)
        request = {
            "payee_org_id": "tier1",
            "amount_fen": 1_00,
            "maturity_date": (TODAY + dt.timedelta(days=90)).isoformat(),
            "invoices": [invoice(f"INV-PC-F{number}", 1_00)],
            "commitment_sha256": digest,
        }
        ticket = platform.submit(consortium.core, "IssueTicket", request, pin=PIN).result
        verdict = signed_documents.verify(platform, consortium.core, ticket["id"], KIND, data)
        assert verdict["verdict"] == "forged" and words in verdict["reason"], verdict
        assert verdict["reason_code"] == code, verdict


APPROVED_RATE_BP = 437  # private (#19): not the bound the assignment states (600)


def _applied(consortium, committed, amount_fen: int = 5_000_00) -> str:
    """An application with the holder's signed assignment, registered (中登网) as an approval needs."""
    from support import register

    platform = consortium.platform
    applied = financing.apply_financing(
        platform, consortium.tier1, ticket_id=committed["id"], bank_org_id="bank", amount_fen=amount_fen,
        max_annual_rate_bp=600, recourse=True, pin=PIN,
    )  # fmt: skip
    register(platform, consortium.bank, applied["application_id"])
    return str(applied["application_id"])


def _signers(data: bytes) -> list[str]:
    from pyhanko.pdf_utils.reader import PdfFileReader

    return [s.signer_cert.subject.human_friendly for s in PdfFileReader(io.BytesIO(data)).embedded_signatures]


def _kept(platform) -> set[str]:
    return {path.name for path in signed_documents.documents_dir(platform).iterdir()}


def test_the_banks_card_countersigns_the_assignment_when_it_approves(consortium, committed, tmp_path):
    """#21: the approving bank user's card countersigns the holder's assignment (a second PAdES
    signature, an incremental update); its SHA-256 is on the application in the approval's own
    transaction; the download is then the countersigned file, valid with both signatures, and the
    holder's copy alone no longer is. The approved rate (private) is nowhere in it: the document
    states the holder's bound only."""
    platform = consortium.platform
    application_id = _applied(consortium, committed)
    holders, _ = signed_documents.download_financing_assignment(platform, consortium.bank, application_id)
    financing.approve_financing(
        platform, consortium.bank, application_id=application_id, annual_rate_bp=APPROVED_RATE_BP,
        value_date=TODAY, pin=PIN,
    )  # fmt: skip
    application = platform.evaluate("GetApplication", {"application_id": application_id})
    assert application["status"] == "APPROVED"
    countersigned, filename = signed_documents.download_financing_assignment(
        platform, consortium.tier1, application_id
    )
    assert filename == f"financing-assignment-{application_id}.pdf"
    assert (
        hashlib.sha256(countersigned).hexdigest()
        == application["countersigned_assignment_sha256"]
        != application["assignment_sha256"]
        == hashlib.sha256(holders).hexdigest()
    )
    assert countersigned.startswith(holders)  # an incremental update of the holder's file
    holder_signer, bank_signer = _signers(countersigned)
    assert consortium.tier1.username in holder_signer and consortium.bank.username in bank_signer
    for member in (consortium.core, consortium.tier1, consortium.bank):
        verdict = signed_documents.verify_financing_assignment(
            platform, member, application_id, countersigned
        )
        assert verdict["verdict"] == "valid" and verdict["signers"] == ["tier1", "bank"], verdict
    forged = signed_documents.verify_financing_assignment(platform, consortium.bank, application_id, holders)
    # the holder's copy alone: one signature where the ledger's file has two
    assert (forged["verdict"], forged["reason_code"]) == ("forged", "signature_count"), forged
    changed = countersigned.replace(b"GoldTicket", b"GoldTickeT", 1)
    forged = signed_documents.verify_financing_assignment(platform, consortium.bank, application_id, changed)
    assert forged["verdict"] == "forged"

    # the private rate stays private: the terms and the text state the bound, not the rate
    assert financing.financing_terms(platform, consortium.tier1, application_id)["annual_rate_bp"] == 437
    from pyhanko.pdf_utils.reader import PdfFileReader

    terms = json.loads(str(PdfFileReader(io.BytesIO(countersigned)).root[TERMS_KEY]))
    assert terms["max_annual_rate_bp"] == 600 and "annual_rate_bp" not in terms
    assert APPROVED_RATE_BP not in terms.values()
    if shutil.which("pdftotext"):
        (tmp_path / "a.pdf").write_bytes(countersigned)
        text = subprocess.run(
            ["pdftotext", str(tmp_path / "a.pdf"), "-"],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout
        assert "6.00%" in text and "4.37" not in text, text


@pytest.mark.documents_optional  # an application without an assignment is made there only
def test_an_approval_without_the_banks_countersignature_is_refused_by_the_chaincode(consortium, committed):
    """The services' own signing stepped around: the chaincode refuses the approval of an
    application with an assignment unless it records the countersigned one; and refuses a
    countersignature of an application that has no assignment."""
    platform = consortium.platform
    application_id = _applied(consortium, committed)
    request = {
        "application_id": application_id,
        "annual_rate_bp": 400,
        "value_date": TODAY.isoformat(),
        "max_annual_rate_bp": 600,
        d.TERMS_SALT: "ab" * 16,
    }
    with pytest.raises(d.StateConflictError, match="countersigned"):
        platform.submit(consortium.bank, "ApproveFinancing", request, pin=PIN)
    assert platform.evaluate("GetApplication", {"application_id": application_id})["status"] == "OPEN"
    financing.reject_financing(
        platform, consortium.bank, application_id=application_id, reason="test", pin=PIN
    )

    from support import register

    bare = financing.apply_financing(
        platform, consortium.tier1, ticket_id=committed["id"], bank_org_id="bank", amount_fen=1_00,
        max_annual_rate_bp=600, pin=PIN, documents=False,
    )  # fmt: skip
    register(platform, consortium.bank, bare["application_id"])
    bare_request = {**request, "application_id": bare["application_id"]}
    with pytest.raises(d.InvalidInputError, match="no assignment"):
        platform.submit(
            consortium.bank,
            "ApproveFinancing",
            {**bare_request, "countersigned_assignment_sha256": "c" * 64},
            pin=PIN,
        )
    # without an assignment it is approved without a countersignature, as before #21
    financing.approve_financing(
        platform, consortium.bank, application_id=bare["application_id"], annual_rate_bp=400,
        value_date=TODAY, pin=PIN,
    )  # fmt: skip
    approved = platform.evaluate("GetApplication", {"application_id": bare["application_id"]})
    assert approved["status"] == "APPROVED" and "countersigned_assignment_sha256" not in approved


def test_under_maker_checker_the_reviewer_who_commits_the_approval_countersigns(consortium, committed):
    """#20 with #21: the maker's preparation signs no document (nothing is approved yet); the
    reviewer whose ApproveOperation commits the approval countersigns with their own card, the
    hash stated beside the prepared intent (whose hash it does not change). The maker cannot
    prepare a countersignature; the reviewer cannot approve without one."""
    from goldticket.services import dual_control, members

    platform = consortium.platform
    bank_admin = members.add_user(
        platform, platform.desk(), member_id="bank", username="bank.admin", role="admin", pin=PIN
    )
    dual_control.set_setting(
        platform, bank_admin, operations=["approve_financing"], threshold_fen=1_00, pin=PIN
    )
    application_id = _applied(consortium, committed)
    kept = _kept(platform)
    prepared = financing.approve_financing(
        platform, consortium.bank, application_id=application_id, annual_rate_bp=APPROVED_RATE_BP,
        value_date=TODAY, pin=PIN,
    )  # fmt: skip
    assert prepared["status"] == dual_control.PENDING_REVIEW
    operation = prepared["operation"]
    assert "countersigned_assignment_sha256" not in operation["request"]
    assert _kept(platform) == kept  # the maker's card signed no document

    shown = dual_control.get_operation(platform, bank_admin, operation["id"])
    private = dict(shown["private_request"])
    with pytest.raises(d.InvalidInputError, match="countersign"):
        platform.submit(
            consortium.bank,
            "PrepareOperation",
            {
                "function": "ApproveFinancing",
                "request": {**operation["request"], "countersigned_assignment_sha256": "c" * 64},
                **private,
            },
            pin=PIN,
        )
    approval = {
        "operation_id": operation["id"],
        "function": "ApproveFinancing",
        "request": operation["request"],
        **private,
    }
    with pytest.raises(d.StateConflictError, match="countersigned"):
        platform.submit(bank_admin, "ApproveOperation", approval, pin=PIN)
    # inside the prepared request it is not the intent prepared
    with pytest.raises(d.ForbiddenError, match="intent signed differs"):
        platform.submit(
            bank_admin,
            "ApproveOperation",
            {**approval, "request": {**operation["request"], "countersigned_assignment_sha256": "c" * 64}},
            pin=PIN,
        )

    dual_control.approve(platform, bank_admin, operation["id"], pin=PIN)
    application = platform.evaluate("GetApplication", {"application_id": application_id})
    assert application["status"] == "APPROVED"
    data, _ = signed_documents.download_financing_assignment(platform, consortium.tier1, application_id)
    assert hashlib.sha256(data).hexdigest() == application["countersigned_assignment_sha256"]
    holder_signer, bank_signer = _signers(data)
    assert "bank.admin" in bank_signer and consortium.bank.username not in bank_signer
    verdict = signed_documents.verify_financing_assignment(platform, consortium.core, application_id, data)
    assert verdict["verdict"] == "valid" and verdict["signers"] == ["tier1", "bank"], verdict


def test_a_rehearsed_approval_signs_and_keeps_no_countersignature(consortium, committed):
    """The confirmation page rehearses the approval before the PIN: the countersignature is
    rendered into the rehearsed request, not signed by the card (no PIN try) nor kept."""
    from types import SimpleNamespace

    from goldticket.services import rehearsal

    platform = consortium.platform
    application_id = _applied(consortium, committed)
    registry = platform.cards.registry
    serial = registry.active_card(consortium.bank.username).serial
    tries, kept = registry.tries_left(serial), _kept(platform)
    rehearsal.rehearse(
        SimpleNamespace(platform=platform),  # type: ignore[arg-type]
        lambda portal: financing.approve_financing(
            portal.platform,
            consortium.bank,
            application_id=application_id,
            annual_rate_bp=400,
            value_date=TODAY,
            pin="",
        ),  # fmt: skip
    )
    assert registry.tries_left(serial) == tries and _kept(platform) == kept
    assert platform.evaluate("GetApplication", {"application_id": application_id})["status"] == "OPEN"
