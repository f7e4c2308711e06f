"""Issuing a certificate: a holder's (or issuer's) signed PDF of a ticket, anchored on the ledger
before it is handed out.

It reads the ticket, its lineage and invoices from the ledger, renders the PDF, signs it with
the platform's document key and records its SHA-256, id, ticket, holder and the hash of the
ticket's state with ``RecordCertificate``, signed by the operator desk's card (a download
carries no PIN; the chaincode checks the requester is the holder or issuer and that the ticket
is still in the stated state). Only then is the PDF returned.
"""

from __future__ import annotations

import dataclasses
import secrets
from typing import Any

from goldticket import certificates as pdf
from goldticket import domain as d

from ..context import Actor
from ..platform import Platform
from .content import certificate_view
from .documents import document_signer


@dataclasses.dataclass(frozen=True)
class IssuedCertificate:
    """A certificate recorded on the ledger: the PDF to hand out and its ledger record."""

    certificate_id: str
    sha256: str
    ticket_id: str
    pdf: bytes
    record: dict[str, Any]

    @property
    def filename(self) -> str:
        return f"certificate-{self.ticket_id}-{self.certificate_id}.pdf"


def issue_certificate(platform: Platform, actor: Actor, ticket_id: str) -> IssuedCertificate:
    """Render, sign and anchor a certificate of ``ticket_id`` for its holder or issuer.

    Raises NotFoundError (no such ticket), ForbiddenError (not the holder or issuer),
    RuleViolationError (a ticket that is not held: pending, refused, cancelled or split),
    StateConflictError (the ticket changed while the certificate was made: ask again),
    CertificateError (the document key cannot sign)."""
    ticket = platform.evaluate("GetTicket", {"ticket_id": d.require_text(ticket_id, "ticket_id", 64)})
    if actor.member_id not in (ticket["holder_org_id"], ticket["issuer_org_id"]):
        raise d.ForbiddenError(f"only the holder or issuer of ticket {ticket['id']} may certify it")
    d.check_certifiable(d.Ticket.from_dict(ticket))
    certificate_id = "CT" + secrets.token_hex(10).upper()
    state = d.state_sha256(ticket)
    view = certificate_view(platform, ticket, certificate_id, state)
    signer = document_signer(platform)
    signed = signer.sign(pdf.render_certificate(view), reason=f"GoldTicket certificate {certificate_id}")
    # never anchor or hand out a file our own verification would call forged
    check = pdf.check_signature(signed, signer.certificate_pem, signer.ca_pem)
    if not check.genuine:
        raise pdf.CertificateError(f"the signed certificate does not verify: {check.reason}")
    sha256 = check.sha256
    desk = platform.desk()  # the platform records it with the operator desk's card
    request = {
        "ticket_id": ticket["id"],
        "sha256": sha256,
        "certificate_id": certificate_id,
        "state_sha256": state,
        "requested_by": actor.member_id,
    }
    record = platform.submit(desk.actor, "RecordCertificate", request, pin=desk.pin).result
    return IssuedCertificate(certificate_id, sha256, ticket["id"], signed, record)
