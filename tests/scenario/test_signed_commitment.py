"""#21 the issuer's payment commitment (付款承诺函): rendered, PAdES-signed by the issuer clerk's
own card through the signing gateway (in-process and over HTTP), its SHA-256 recorded with the
ticket in the issue's transaction; downloaded and verified by the members in the ticket's path
only; a copy whose hash differs from the ledger's, or signed by another card, verifies forged."""

from __future__ import annotations

import datetime as dt
import hashlib
import io

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
    for number, (data, words) in enumerate(
        ((other_ca, "does not chain"), (genuine + b"\n% more\n", "added"))
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
