"""A holder gets a certificate, a bank checks it: valid; after the holder transfers part of the
ticket the same file is stale, with the reason; one changed byte is forged. On the ledger of the
run (``--ledger local`` or ``--ledger fabric``), signing in-process and through the gateway."""

from __future__ import annotations

import pytest
from support import PIN, TODAY, register

from goldticket.domain import ForbiddenError, RuleViolationError
from goldticket.services import certificates, financing, transfers

pytestmark = pytest.mark.scenario


def test_valid_then_stale_after_a_partial_transfer_and_forged_for_a_changed_byte(consortium, issued_ticket):
    c, p = consortium, consortium.platform
    issued = certificates.issue_certificate(p, c.tier1, issued_ticket["id"])
    record = p.evaluate("GetCertificate", {"sha256": issued.sha256})
    assert record["certificate_id"] == issued.certificate_id
    assert (record["ticket_id"], record["holder_org_id"], record["requested_by"]) == (
        issued_ticket["id"],
        "tier1",
        "tier1",
    )
    assert (record["requested_by_user"], record["recorded_by"]) == (c.tier1.username, "operator")

    verdict = certificates.verify_certificate(p, issued.pdf)
    assert (verdict["verdict"], verdict["ticket_id"], verdict["reasons"]) == (
        "valid",
        issued_ticket["id"],
        [],
    )
    assert verdict["current"]["status"] == "ACTIVE"
    assert certificates.lookup_certificate(p, issued.certificate_id)["verdict"] == "valid"

    changed = bytearray(issued.pdf)
    changed[len(changed) // 2] ^= 0x01
    forged = certificates.verify_certificate(p, bytes(changed))
    assert forged["verdict"] == "forged" and forged["current"] is None

    offer = transfers.offer_transfer(
        p, c.tier1, ticket_id=issued_ticket["id"], to_org_id="tier2", amount_fen=30_000_000, pin=PIN
    )
    transfers.accept_offer(p, c.tier2, offer["offer_id"], pin=PIN)
    stale = certificates.verify_certificate(p, issued.pdf)
    assert stale["verdict"] == "stale"
    assert stale["current"]["status"] == "SPLIT"
    text = "\n".join(stale["reasons"])
    # the two actions since the certificate, not the acceptance it states
    assert [reason.split(": ", 1)[1].split("; ")[0] for reason in stale["reasons"][:2]] == [
        "offered for transfer",
        "transferred (the ticket was split)",
    ]
    assert "accepted" not in text
    assert "the ticket is now SPLIT, the certificate states ACTIVE" in text
    assert "split into 2 pieces" in text
    # what a verifying bank learns: that the ticket changed, and how; not who holds the rest
    assert "tier2" not in text and "300,000.00" not in text and "transaction" not in text
    assert stale["changed_at"] is not None
    assert certificates.lookup_certificate(p, issued.certificate_id)["verdict"] == "stale"


def test_financed_after_certification_is_stale_and_only_parties_certify(consortium, issued_ticket):
    c, p = consortium, consortium.platform
    with pytest.raises(ForbiddenError, match="only the holder or issuer"):
        certificates.issue_certificate(p, c.tier2, issued_ticket["id"])
    issued = certificates.issue_certificate(p, c.core, issued_ticket["id"])
    assert certificates.verify_certificate(p, issued.pdf)["verdict"] == "valid"
    application = financing.apply_financing(
        p,
        c.tier1,
        ticket_id=issued_ticket["id"],
        bank_org_id="bank",
        max_annual_rate_bp=10_000,
        amount_fen=100_000_000,
        pin=PIN,
    )
    register(p, c.bank, application["application_id"])
    financing.approve_financing(
        p, c.bank, application_id=application["application_id"], annual_rate_bp=300, value_date=TODAY, pin=PIN
    )
    stale = certificates.verify_certificate(p, issued.pdf)
    assert stale["verdict"] == "stale"
    assert any("financed (the ticket was split); status SPLIT" in reason for reason in stale["reasons"])
    assert not any("bank" in reason.replace("a bank for", "") for reason in stale["reasons"])
    with pytest.raises(RuleViolationError, match="only a held piece"):
        certificates.issue_certificate(p, c.tier1, issued_ticket["id"])


def _downloads_of(platform, username):
    from sqlalchemy import func, select

    from goldticket.store.models import CertificateDownload

    with platform.database().session() as session:
        return session.scalar(
            select(func.count())
            .select_from(CertificateDownload)
            .where(CertificateDownload.username == username)
        )


def test_a_refused_certificate_takes_no_download_and_records_nothing(consortium, issued_ticket):
    """A member outside the ticket is refused before its hourly count is touched (it cannot use
    up, or be audited for, downloads it never got)."""
    c, p = consortium, consortium.platform
    height = p.ledger.height()
    with pytest.raises(ForbiddenError, match="only the holder or issuer"):
        certificates.issue_certificate(p, c.tier2, issued_ticket["id"])
    assert _downloads_of(p, c.tier2.username) == 0
    assert p.ledger.height() == height
    certificates.issue_certificate(p, c.tier1, issued_ticket["id"])
    assert _downloads_of(p, c.tier1.username) == 1


class _Corrupting:
    """The platform's document signer with one byte of its output changed after signing: a
    fault in the signing path, which the certificate's own verification must catch."""

    def __init__(self, signer):
        self.signer = signer
        self.certificate_pem, self.ca_pem = signer.certificate_pem, signer.ca_pem

    def sign(self, data, **kwargs):
        signed = bytearray(self.signer.sign(data, **kwargs))
        signed[len(signed) // 3] ^= 0x04
        return bytes(signed)


def test_a_certificate_that_does_not_verify_is_never_anchored(consortium, issued_ticket, monkeypatch):
    from goldticket import certificates as pdf
    from goldticket.services.certificates import issue

    c, p = consortium, consortium.platform
    real = issue.document_signer
    monkeypatch.setattr(issue, "document_signer", lambda platform: _Corrupting(real(platform)))
    height = p.ledger.height()
    with pytest.raises(pdf.CertificateError, match="does not verify"):
        certificates.issue_certificate(p, c.tier1, issued_ticket["id"])
    assert p.ledger.height() == height
