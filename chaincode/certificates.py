"""The certificate registry: a certificate PDF's SHA-256, id, ticket and the ticket's state,
recorded before the PDF is handed out, and read back to verify one. Composed into
GoldTicketContract (chaincode/contract.py)."""

from __future__ import annotations

from typing import Any

from goldticket import domain as d

from .transactions import Tx, public, transaction


class CertificateTransactions:
    @transaction
    async def RecordCertificate(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        """Anchor a certificate PDF: its SHA-256, its ``certificate_id``, the member it was made
        for (``requested_by``, holder or issuer), the user who asked (``requested_by_user``)
        and the hash of the ticket's state it states (``state_sha256``: refused if the ticket
        has changed since). The record keeps the ticket as it is now and its state hash,
        computed here. Only the platform records certificates: an identity of the operator
        member (the platform signs the PDF with its own document key); a holder's or issuer's
        card cannot anchor a hash of its choosing."""
        caller, _ = await tx.caller("operator")
        ticket = await tx.ticket(req.get("ticket_id"))
        parties = (ticket.holder_org_id, ticket.issuer_org_id)
        requested_by = d.require_text(req.get("requested_by"), "requested_by", 64)
        if requested_by not in parties:
            raise d.ForbiddenError(f"only the holder or issuer of ticket {ticket.id} may certify it")
        requested_by_user = d.require_text(req.get("requested_by_user"), "requested_by_user", 64)
        digest = d.require_text(req.get("sha256"), "sha256", 64)
        if len(digest) != 64 or any(ch not in "0123456789abcdef" for ch in digest):
            raise d.InvalidInputError("sha256 must be 64 lowercase hex digits")
        d.check_certifiable(ticket)
        state = d.state_sha256(public(ticket))
        if req.get("state_sha256", state) != state:
            raise d.StateConflictError(f"ticket {ticket.id} changed after its certificate was made")
        if await tx.get("certificate", digest) is not None:
            raise d.StateConflictError("a certificate with this hash is already recorded")
        certificate_id = d.check_certificate_id(req.get("certificate_id"))
        if await tx.get("certificate_ref", certificate_id) is not None:
            raise d.StateConflictError(f"certificate {certificate_id} is already recorded")
        await tx.put("certificate_ref", (certificate_id,), {"sha256": digest})
        record = {
            "sha256": digest,
            "certificate_id": certificate_id,
            "ticket_id": ticket.id,
            "holder_org_id": ticket.holder_org_id,
            "state_sha256": state,
            "ticket": public(ticket),
            "requested_by": requested_by,
            "requested_by_user": requested_by_user,
            "recorded_by": caller.member_id,
            "recorded_on": tx.today().isoformat(),
            "recorded_at": tx.timestamp().isoformat(),
            "tx_id": tx.tx_id,
        }
        await tx.put("certificate", (digest,), record)
        return record

    @transaction
    async def GetCertificate(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        """By ``sha256``, or by ``certificate_id``: any registered identity (a bank checks a
        certificate it was shown)."""
        await tx.viewer()
        if req.get("certificate_id") is not None:
            ref = await tx.require(
                "certificate_ref", d.require_text(req.get("certificate_id"), "certificate_id", 64)
            )
            return await tx.require("certificate", ref["sha256"])
        return await tx.require("certificate", d.require_text(req.get("sha256"), "sha256", 64))
