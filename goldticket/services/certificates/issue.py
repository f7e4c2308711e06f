"""Issuing a certificate: a holder's (or issuer's) signed PDF of a ticket, anchored on the ledger
before it is handed out.

It reads the ticket, its lineage and invoices from the ledger, renders the PDF, signs it with
the platform's document key and records its SHA-256, id, ticket, holder and the hash of the
ticket's state with ``RecordCertificate``, signed by the operator desk's card: the platform's
identity, the only one the chaincode and the signing gateway let record a certificate (a
download carries no PIN; the chaincode checks the requester is the holder or issuer and that the
ticket is still in the stated state). The record names the requesting member and user; the
signature's reason states the certificate id and the ticket, which a verdict compares with the
ledger record. Downloads are limited per user (:data:`DOWNLOADS_PER_HOUR` an hour, counted in
the portal database so all worker processes share it) and each one is audited with the
requesting user. Only then is the PDF returned.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import secrets
from typing import Any

from sqlalchemy import func, select, text

from goldticket import certificates as pdf
from goldticket import domain as d
from goldticket.store.models import CertificateDownload

from ..context import Actor
from ..errors import DownloadLimitError
from ..platform import Platform
from .content import certificate_view
from .documents import document_signer

# Each download is a ledger write: a user gets at most this many certificates an hour.
DOWNLOADS_PER_HOUR = 30
_WINDOW = dt.timedelta(hours=1)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)  # SQLite forgets the zone


def signed_reason(certificate_id: str, ticket_id: str) -> str:
    """The signature's reason of a certificate: its id and ticket, covered by the signature."""
    return f"GoldTicket certificate {certificate_id} of ticket {ticket_id}"


def _take_download(platform: Platform, actor: Actor, ticket_id: str = "") -> None:
    """Count one download of ``actor``'s; DownloadLimitError past DOWNLOADS_PER_HOUR in the last
    hour. The count and the new row are one serialised transaction of the portal database
    (BEGIN IMMEDIATE on SQLite, a table lock on PostgreSQL), so every worker process shares
    the limit and no race lets more through; the row names the requesting user and member."""
    database = platform.database()
    now = _now()
    with database.session(immediate=True) as session:
        if not database.is_sqlite:  # SQLite's BEGIN IMMEDIATE already serialises writers
            session.execute(text("LOCK TABLE certificate_downloads IN SHARE ROW EXCLUSIVE MODE"))
        recent = CertificateDownload.username == actor.username, CertificateDownload.at > now - _WINDOW
        count = session.scalar(select(func.count()).select_from(CertificateDownload).where(*recent)) or 0
        if count >= DOWNLOADS_PER_HOUR:
            oldest = _aware(session.scalar(select(func.min(CertificateDownload.at)).where(*recent)) or now)
            retry = max(1, math.ceil((oldest + _WINDOW - now).total_seconds()))
            raise DownloadLimitError(
                f"at most {DOWNLOADS_PER_HOUR} certificates an hour per user; try again in {retry} s",
                retry_after=retry,
            )
        session.add(
            CertificateDownload(
                username=actor.username, member_id=actor.member_id, ticket_id=ticket_id, at=now
            )
        )


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
    _take_download(platform, actor, ticket["id"])
    certificate_id = "CT" + secrets.token_hex(10).upper()
    state = d.state_sha256(ticket)
    view = certificate_view(platform, ticket, certificate_id, state)
    signer = document_signer(platform)
    signed = signer.sign(pdf.render_certificate(view), reason=signed_reason(certificate_id, ticket["id"]))
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
        "requested_by_user": actor.username,
    }
    record = platform.submit(desk.actor, "RecordCertificate", request, pin=desk.pin).result
    platform.cards.service.record(
        {
            "certificate": certificate_id,
            "ticket_id": ticket["id"],
            "user": actor.username,
            "member": actor.member_id,
            "recorded_by": desk.actor.username,
            "result": "ok",
        }
    )
    return IssuedCertificate(certificate_id, sha256, ticket["id"], signed, record)
