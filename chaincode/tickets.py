"""Tickets and offers: issue against invoices and a credit line, accept, reject, cancel, offer
a transfer (split) and accept, reject or cancel it, freeze, and the ticket queries (history,
lineage, a member's tickets). Composed into GoldTicketContract (chaincode/contract.py)."""

from __future__ import annotations

from typing import Any

from goldticket import domain as d

from .dual_control import require_review
from .state import derive_id
from .transactions import Tx, public, transaction
from .visibility import pieces, require_own, require_visible, sees_everything, visible_ids


class TicketTransactions:
    @transaction
    async def IssueTicket(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        caller, core = await tx.caller("core")
        payee = await tx.member(req.get("payee_org_id"), "supplier")  # type: ignore[arg-type]
        invoices_in = req.get("invoices")
        if not isinstance(invoices_in, list) or len(invoices_in) > 100:
            raise d.InvalidInputError("invoices must be a list of at most 100 invoices")
        invoices = tuple(d.Invoice.from_dict(item) for item in invoices_in)
        config = await tx.require("config", "bootstrap")
        ticket = d.issue_ticket(
            ticket_id=derive_id("TK", tx.tx_id),
            issuer_org_id=core["id"],
            payee_org_id=payee["id"],
            amount_fen=req.get("amount_fen"),  # type: ignore[arg-type]
            issue_date=tx.today(),
            maturity_date=d.parse_date(req.get("maturity_date"), "maturity_date"),
            invoices=invoices,
            tx_id=tx.tx_id,
            max_term_months=config["max_term_months"],
            term_reason=req.get("term_reason"),  # type: ignore[arg-type]
            grace_days=req.get("grace_days"),  # type: ignore[arg-type]
            commitment_sha256=req.get("commitment_sha256"),  # type: ignore[arg-type]
        )
        d.require_documents(
            config, commitment_sha256=ticket.commitment_sha256
        )  # #21, after the input's checks
        await require_review(tx, caller, core, "IssueTicket", ticket.amount_fen)
        # An invoice is its document: records are keyed by its SHA-256, across every issuer, and
        # belong to the core enterprise that first used the document.
        used: dict[str, int] = {}
        for invoice in invoices:
            record = await tx.get("invoice", invoice.sha256)
            numbered = await tx.get("invoice_number", core["id"], invoice.number)
            if record is not None:
                owner = record.get("issuer_org_id")
                if owner is None:  # recorded before owners were: its issuer numbered it so
                    owner = core["id"] if numbered and numbered["sha256"] == invoice.sha256 else None
                if owner != core["id"]:
                    raise d.RuleViolationError(
                        f"invoice {invoice.number} belongs to another core enterprise: "
                        "an invoice backs tickets of the core enterprise that first used it only"
                    )
                d.check_same_invoice(d.Invoice.from_dict(record["invoice"]), invoice)
                used[invoice.sha256] = record["used_fen"]
            if numbered is not None and numbered["sha256"] != invoice.sha256:
                raise d.RuleViolationError(
                    f"invoice {invoice.number} does not match the invoice recorded under that number"
                )
            if numbered is None:
                await tx.put("invoice_number", (core["id"], invoice.number), {"sha256": invoice.sha256})
        draws = {}
        for sha256, used_fen in d.allocate_invoices(ticket.amount_fen, invoices, used).items():
            invoice = next(item for item in invoices if item.sha256 == sha256)
            draws[sha256] = used_fen - used.get(sha256, 0)
            record = {"invoice": invoice.to_dict(), "used_fen": used_fen, "issuer_org_id": core["id"]}
            await tx.put("invoice", (sha256,), record)
        await tx.put("draws", (ticket.id,), draws)
        lines = [d.CreditLine.from_dict(value) for _, value in await tx.scan("credit", core["id"])]
        wanted = req.get("credit_line_id")
        if wanted is not None:
            wanted = d.require_text(wanted, "credit_line_id", 64)
            lines = [line for line in lines if line.id == wanted]
            if not lines:
                raise d.NotFoundError(f"the core enterprise has no credit line {wanted}")
            if not lines[0].active:
                raise d.RuleViolationError(f"credit line {wanted} is {lines[0].status}, not active")
        line = d.choose_credit_line(lines, ticket.amount_fen).reserve(ticket.amount_fen)
        await tx.put("credit", (core["id"], line.id), line.to_dict())
        ticket = ticket.with_changes(credit_line_id=line.id)
        await tx.save(ticket, "issue", caller)
        return public(ticket)

    @transaction
    async def AcceptTicket(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        caller, _ = await tx.caller()
        old = await tx.ticket(req.get("ticket_id"))
        ticket = d.accept_ticket(old, by_org_id=caller.member_id)
        await tx.save(ticket, "accept", caller, old)
        return public(ticket)

    @transaction
    async def RejectTicket(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        caller, _ = await tx.caller()
        old = await tx.ticket(req.get("ticket_id"))
        ticket = d.reject_ticket(old, by_org_id=caller.member_id)
        await tx.release_credit(old, old.amount_fen)
        await tx.release_invoices(old)
        await tx.save(ticket, "reject", caller, old)
        return public(ticket)

    @transaction
    async def CancelTicket(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        caller, _ = await tx.caller("core")
        old = await tx.ticket(req.get("ticket_id"))
        ticket = d.cancel_ticket(old, by_org_id=caller.member_id)
        await tx.release_credit(old, old.amount_fen)
        await tx.release_invoices(old)
        await tx.save(ticket, "cancel", caller, old)
        return public(ticket)

    @transaction
    async def OfferTransfer(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        caller, member = await tx.caller()
        old = await tx.ticket(req.get("ticket_id"))
        payee = await tx.member(req.get("to_org_id"), "supplier", "core")  # type: ignore[arg-type]
        ticket, offer = d.offer_transfer(
            old,
            by_org_id=caller.member_id,
            to_org_id=payee["id"],
            amount_fen=req.get("amount_fen"),  # type: ignore[arg-type]
            offer_id=derive_id("OF", tx.tx_id),
            today=tx.today(),
            agreement_sha256=req.get("agreement_sha256"),
            notice_sha256=req.get("notice_sha256"),
        )
        await tx.require_documents(agreement_sha256=offer.agreement_sha256, notice_sha256=offer.notice_sha256)
        await require_review(tx, caller, member, "OfferTransfer", offer.amount_fen)
        await tx.put("offer", (offer.id,), offer.to_dict())
        await tx.save(ticket, "offer_transfer", caller, old)
        return {"offer_id": offer.id, "ticket": public(ticket)}

    async def _offer(self, tx: Tx, req: dict[str, Any]) -> tuple[d.Offer, d.Ticket]:
        offer = d.Offer.from_dict(await tx.require("offer", d.require_text(req.get("offer_id"), "offer_id")))
        return offer, await tx.ticket(offer.ticket_id)

    @transaction
    async def AcceptOffer(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        caller, _ = await tx.caller()
        offer, old = await self._offer(tx, req)
        parent, part, remainder, closed = d.accept_offer(
            old,
            offer,
            by_org_id=caller.member_id,
            transferred_id=derive_id("TK", tx.tx_id, 1),
            remainder_id=derive_id("TK", tx.tx_id, 2),
            tx_id=tx.tx_id,
            today=tx.today(),
            countersigned_sha256=req.get("countersigned_sha256"),
        )
        await tx.put("offer", (offer.id,), closed.to_dict())
        await tx.save_split(parent, (part, remainder), "accept_transfer", caller, old)
        return {"transferred": public(part), "remainder": public(remainder) if remainder else None}

    async def _close_offer(self, tx: Tx, req: dict[str, Any], outcome: str) -> dict[str, Any]:
        caller, _ = await tx.caller()
        offer, old = await self._offer(tx, req)
        ticket, closed = d.close_offer(old, offer, by_org_id=caller.member_id, outcome=outcome)
        await tx.put("offer", (offer.id,), closed.to_dict())
        await tx.save(ticket, f"{outcome.lower()}_transfer", caller, old)
        return public(ticket)

    @transaction
    async def RejectOffer(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        return await self._close_offer(tx, req, "REJECTED")

    @transaction
    async def CancelOffer(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        return await self._close_offer(tx, req, "CANCELLED")

    @transaction
    async def GetOffer(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        _, viewer = await tx.viewer()
        offer = await tx.require("offer", d.require_text(req.get("offer_id"), "offer_id"))
        require_own(viewer, offer["from_org_id"], offer["to_org_id"])
        return offer

    @transaction
    async def FreezeTicket(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        caller, _ = await tx.caller("operator")
        d.require_text(req.get("reason"), "reason", 500)
        old = await tx.ticket(req.get("ticket_id"))
        ticket = d.freeze_ticket(old)
        await tx.save(ticket, "freeze", caller, old)
        return public(ticket)

    @transaction
    async def UnfreezeTicket(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        caller, _ = await tx.caller("operator")
        old = await tx.ticket(req.get("ticket_id"))
        ticket = d.unfreeze_ticket(old)
        await tx.save(ticket, "unfreeze", caller, old)
        return public(ticket)

    @transaction
    async def GetTicket(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        _, viewer = await tx.viewer()
        ticket = await tx.ticket(req.get("ticket_id"))
        await require_visible(tx, viewer, ticket)
        return public(ticket)

    @transaction
    async def GetHistory(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        _, viewer = await tx.viewer()
        ticket = await tx.ticket(req.get("ticket_id"))
        await require_visible(tx, viewer, ticket)
        items = []
        for tx_id, when, value in await tx.history("ticket", ticket.id):
            action = (value or {}).get("last_action", {})
            items.append(
                {
                    "tx_id": tx_id,
                    "timestamp": when.isoformat(),
                    "status": (value or {}).get("status"),
                    # what a certificate of this version states (verdicts find where they part)
                    "state_sha256": d.state_sha256(value) if value else None,
                    **action,
                }
            )
        return {"items": items}

    @transaction
    async def GetLineage(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        """The tree from the root, with only the pieces the caller may see."""
        _, viewer = await tx.viewer()
        ticket = await tx.ticket(req.get("ticket_id"))
        docs = await pieces(tx, ticket.root_id)
        seen = await visible_ids(tx, viewer, docs)
        if ticket.id not in seen:
            raise d.NotFoundError(f"no ticket {ticket.id}")
        docs = {ticket_id: doc for ticket_id, doc in docs.items() if ticket_id in seen}
        children: dict[str | None, list[str]] = {}
        for doc in docs.values():
            children.setdefault(doc["parent_id"], []).append(doc["id"])

        def tree(ticket_id: str) -> dict[str, Any]:
            doc = {k: v for k, v in docs[ticket_id].items() if k != "last_action"}
            return {"ticket": doc, "children": [tree(child) for child in sorted(children.get(ticket_id, []))]}

        return tree(ticket.root_id)

    @transaction
    async def ListTickets(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        """By ``root_id`` (the pieces the caller may see), ``holder_org_id`` (the caller's own)
        or ``status`` (the operator only)."""
        _, viewer = await tx.viewer()
        if req.get("root_id"):
            root_id = d.require_text(req["root_id"], "root_id", 64)
            ids = sorted(await visible_ids(tx, viewer, await pieces(tx, root_id)))
        elif req.get("holder_org_id"):
            require_own(viewer, req["holder_org_id"])
            ids = [attrs[1] for attrs, _ in await tx.scan("holding", req["holder_org_id"])]
        elif req.get("status"):
            if not sees_everything(viewer):
                raise d.ForbiddenError("only the operator lists tickets by status")
            ids = [attrs[0] for attrs, _ in await tx.scan("ticket")]
        else:
            raise d.InvalidInputError("list tickets by root_id, holder_org_id or status")
        tickets = [public(await tx.ticket(ticket_id)) for ticket_id in ids]
        if req.get("status"):
            tickets = [t for t in tickets if t["status"] == req["status"]]
        return {"items": tickets, "total": len(tickets)}
