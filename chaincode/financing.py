"""Credit and financing: banks' credit lines on core enterprises, the holder's application to
discount a ticket, the bank's approval or rejection. Composed into GoldTicketContract
(chaincode/contract.py)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

from goldticket import domain as d

from .dual_control import require_review
from .endorsement import bank_policy
from .private import get_private, get_private_hash, put_private, terms_collection
from .state import derive_id
from .transactions import Tx, public, transaction
from .visibility import require_own, sees_everything


class FinancingTransactions:
    @transaction
    async def GrantCreditLine(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        """A bank offers a core enterprise a credit line; it is drawn only once the core accepts."""
        caller, _ = await tx.caller("bank")
        core = await tx.member(req.get("core_org_id"), "core")  # type: ignore[arg-type]
        line = d.offer_credit_line(
            derive_id("CL", tx.tx_id),
            bank_org_id=caller.member_id,
            core_org_id=core["id"],
            limit_fen=req.get("limit_fen"),  # type: ignore[arg-type]
        )
        await tx.put("credit", (core["id"], line.id), line.to_dict())
        return line.to_dict()

    async def _answer_credit_line(self, tx: Tx, req: dict[str, Any], accept: bool) -> dict[str, Any]:
        caller, _ = await tx.caller("core")
        line_id = d.require_text(req.get("credit_line_id"), "credit_line_id", 64)
        # Only the caller's own lines are looked up: another member's line is not found.
        found = await tx.get("credit", caller.member_id, line_id)
        if found is None:
            raise d.NotFoundError(f"no credit line {line_id} offered to this core enterprise")
        line = d.CreditLine.from_dict(found).answer(by_org_id=caller.member_id, accept=accept)
        await tx.put("credit", (caller.member_id, line.id), line.to_dict())
        return line.to_dict()

    @transaction
    async def AcceptCreditLine(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        """The core enterprise accepts a line offered to it: tickets may draw on it from now."""
        return await self._answer_credit_line(tx, req, accept=True)

    @transaction
    async def DeclineCreditLine(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        """The core enterprise declines a line offered to it: it is never drawn."""
        return await self._answer_credit_line(tx, req, accept=False)

    @transaction
    async def ListCreditLines(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        _, viewer = await tx.viewer()
        partial = (req["core_org_id"],) if req.get("core_org_id") else ()
        items = [value for _, value in await tx.scan("credit", *partial)]
        if not sees_everything(viewer):  # a bank its own lines, a core the lines on it
            items = [line for line in items if viewer["id"] in (line["bank_org_id"], line["core_org_id"])]
        return {"items": items}

    @transaction
    async def ApplyFinancing(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        caller, _ = await tx.caller()
        old = await tx.ticket(req.get("ticket_id"))
        bank = await tx.member(req.get("bank_org_id"), "bank")  # type: ignore[arg-type]
        ticket, application = d.apply_financing(
            old,
            by_org_id=caller.member_id,
            bank_org_id=bank["id"],
            amount_fen=req.get("amount_fen"),  # type: ignore[arg-type]
            max_annual_rate_bp=req.get("max_annual_rate_bp"),  # type: ignore[arg-type]
            application_id=derive_id("FA", tx.tx_id),
            today=tx.today(),
            recourse=req.get("recourse"),  # type: ignore[arg-type]
            assignment_sha256=req.get("assignment_sha256"),
        )
        await tx.require_documents(assignment_sha256=application.assignment_sha256)  # #21
        await tx.put("application", (application.id,), application.to_dict())
        await tx.save(ticket, "apply_financing", caller, old)
        return {"application_id": application.id, "ticket": public(ticket)}

    async def _application(self, tx: Tx, req: dict[str, Any]) -> tuple[d.FinancingApplication, d.Ticket]:
        app_id = d.require_text(req.get("application_id"), "application_id")
        application = d.FinancingApplication.from_dict(await tx.require("application", app_id))
        return application, await tx.ticket(application.ticket_id)

    @transaction
    async def ApproveFinancing(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        caller, bank = await tx.caller("bank")
        application, old = await self._application(tx, req)
        await require_review(tx, caller, bank, "ApproveFinancing", application.amount_fen)
        # The request states the holder's bound, so the signing gateway can check the rate
        # against it; it must be the bound the holder signed.
        if application.max_annual_rate_bp is not None and (
            req.get("max_annual_rate_bp") != application.max_annual_rate_bp
            or isinstance(req.get("max_annual_rate_bp"), bool)
        ):
            raise d.StateConflictError(
                f"application {application.id} is bounded at "
                f"{d.format_rate(application.max_annual_rate_bp)} a year; the request must state that bound"
            )
        countersigned = req.get("countersigned_assignment_sha256")
        parent, financed, remainder, approved, quote = d.approve_financing(
            old,
            application,
            by_org_id=caller.member_id,
            annual_rate_bp=req.get("annual_rate_bp"),  # type: ignore[arg-type]
            value_date=d.parse_date(req.get("value_date"), "value_date"),
            day_basis=bank.get("day_basis", 360),
            fee_bp=bank.get("fee_bp", 0),
            financed_id=derive_id("TK", tx.tx_id, 1),
            remainder_id=derive_id("TK", tx.tx_id, 2),
            tx_id=tx.tx_id,
            today=tx.today(),
            countersigned_assignment_sha256=countersigned,
        )
        # #21: the financing is registered (中登网) before the approval commits (checked once the
        # approval itself is known to be the bank's to make)
        registrations = [value for _, value in await tx.scan("registration", application.id)]
        d.require_current_registration(application.id, registrations, tx.today())
        private = "annual_rate_bp" in tx.private_fields
        # the terms to the holder's and the bank's organisations, hashes to the channel, with the
        # client's random salt, sent privately too: the channel's hash of the terms would
        # otherwise give the rate away to anyone hashing the few plausible rates
        if private and d.TERMS_SALT not in tx.private_fields:
            raise d.InvalidInputError(
                f"a private rate needs a private {d.TERMS_SALT} (random, 128 bits or more)"
            )
        # #21: the holder's assignment countersigned by the card of the bank user who commits the
        # approval (the reviewer's, under maker-checker: the maker's rehearsal has none yet),
        # required once every rule of the approval itself holds
        terms = None
        if private:
            terms = d.private_terms(application.id, quote, req.get(d.TERMS_SALT))  # type: ignore[arg-type]
        if tx.approval is None or "checker" in tx.approval:
            d.require_countersignature(application, countersigned)
        if terms is not None:
            collection = terms_collection(bank["msp_id"])
            await put_private(tx.stub, collection, tx.key("terms", application.id), d.terms_bytes(terms))
            approved = dataclasses.replace(approved, quote=None, terms=collection)
        await tx.put("application", (application.id,), approved.to_dict())
        await tx.save_split(parent, (financed, remainder), "approve_financing", caller, old)
        if application.recourse is not None:  # only then: approvals before #21 replay unchanged
            record = {
                "application_id": application.id,
                "recourse": application.recourse,
                "applicant_org_id": application.holder_org_id,
                "bank_org_id": application.bank_org_id,
            }
            await tx.put("financed", (financed.id,), record)
        # the financed piece moves only with the bank's own peer and the issuer's or the
        # applicant's (a supplier's identities are the operator's MSP): chaincode/endorsement.py
        if tx.key_policies():
            issuer, applicant = await tx.get_many(
                ("member", (financed.issuer_org_id,)), ("member", (old.holder_org_id,))
            )
            others = {m["msp_id"] for m in (issuer, applicant) if m is not None} - {bank["msp_id"]}
            if others:
                policy = bank_policy(bank["msp_id"], sorted(others))
                await tx.require_endorsement("ticket", (financed.id,), policy)
        # the result lands in the block (the response and the event): no private figures in it
        result: dict[str, Any] = (
            {"application_id": application.id, "terms": approved.terms} if private else dict(quote.to_dict())
        )
        result.update(financed=public(financed), remainder=public(remainder) if remainder else None)
        return result

    @transaction
    async def RejectFinancing(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        caller, _ = await tx.caller("bank")
        application, old = await self._application(tx, req)
        reason = d.require_text(req.get("reason") or "declined", "reason", 500)
        ticket, closed = d.reject_financing(old, application, by_org_id=caller.member_id, reason=reason)
        await tx.put("application", (application.id,), closed.to_dict())
        await tx.save(ticket, "reject_financing", caller, old)
        return public(ticket)

    @transaction
    async def GetApplication(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        _, viewer = await tx.viewer()
        application = await tx.require(
            "application", d.require_text(req.get("application_id"), "application_id")
        )
        require_own(viewer, application["holder_org_id"], application["bank_org_id"])
        return application

    @transaction
    async def GetFinancingTerms(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        """An approved application's discount terms, for its holder and its bank (and the
        operator's read identity): ``terms`` (application_id, value_date, annual_rate_bp, days,
        discount_interest_fen, fee_fen, proceeds_fen) where this peer holds them, None where it
        does not (a peer outside the collection); ``sha256``, the hash the channel records, on
        every peer. Terms approved before they were private come from the application."""
        _, viewer = await tx.viewer()
        app_id = d.require_text(req.get("application_id"), "application_id")
        application = await tx.require("application", app_id)
        require_own(viewer, application["holder_org_id"], application["bank_org_id"])
        collection = application.get("terms")
        if collection is None:
            quote = application.get("quote")
            if quote is None:
                raise d.NotFoundError(f"application {app_id} has no approved terms")
            return {"application_id": app_id, "collection": None, "sha256": None, "terms": quote}
        key = tx.key("terms", app_id)
        digest = await get_private_hash(tx.stub, collection, key)
        try:
            raw = await get_private(tx.stub, collection, key)
        except Exception:  # a peer outside the collection: "not available" (only the hash is)
            raw = b""
        terms = None
        if raw:
            if hashlib.sha256(raw).digest() != digest:
                raise d.StateConflictError(f"the private terms of {app_id} do not match the channel's hash")
            terms = json.loads(raw)
        return {
            "application_id": app_id,
            "collection": collection,
            "sha256": digest.hex() or None,
            "terms": terms,
        }
