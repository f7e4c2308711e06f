"""Settlement at maturity: the issuer pays every live piece of a root ticket to its holder in
one clearing statement; the statements of a root; the payments the issuer's bank booked for
them (#21: PAYMENT_PENDING until booked, PAID when booked in full). Composed into
GoldTicketContract (chaincode/contract.py)."""

from __future__ import annotations

from typing import Any

from goldticket import domain as d
from goldticket.domain.bank_payments import MAX_ENTRIES
from goldticket.domain.lifecycle import require_issuer

from .dual_control import require_review
from .state import derive_id
from .transactions import Tx, transaction
from .visibility import require_visible


class SettlementTransactions:
    @transaction
    async def SettleTicket(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        caller, core = await tx.caller("core")
        root = await tx.ticket(req.get("root_id"))
        await require_review(tx, caller, core, "SettleTicket", root.amount_fen)
        pieces = [await tx.ticket(attrs[1]) for attrs, _ in await tx.scan("piece", root.id)]
        plan = d.plan_settlement(root, pieces, by_org_id=caller.member_id, today=tx.today())
        by_id = {piece.id: piece for piece in pieces}
        for offer_id in plan.cancelled_offer_ids:
            offer = await tx.require("offer", offer_id)
            offer["status"] = "CANCELLED"
            await tx.put("offer", (offer_id,), offer)
        for app_id in plan.cancelled_application_ids:
            application = await tx.require("application", app_id)
            application.update(status="REJECTED", reason="settled at maturity")
            await tx.put("application", (app_id,), application)
        for payment in plan.paid:
            old = by_id[payment.ticket_id]
            await tx.save(d.settle_piece(old), "settle", caller, old)
        if plan.total_paid_fen:
            await tx.release_credit(root, plan.total_paid_fen)
        statement = {"statement_id": derive_id("ST", tx.tx_id), "settled_on": tx.today().isoformat()}
        statement.update(plan.to_dict())
        await tx.put("statement", (root.id, statement["statement_id"]), statement)
        return statement

    @transaction
    async def GetStatements(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        """The clearing statements of a root ticket (one once it is settled)."""
        _, viewer = await tx.viewer()
        root_id = d.require_text(req.get("root_id"), "root_id")
        await require_visible(tx, viewer, await tx.ticket(root_id))
        items = [value for _, value in await tx.scan("statement", root_id)]
        return {"items": items, "total": len(items)}

    @transaction
    async def GetStatement(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        """A clearing statement, by ``root_id`` and ``statement_id``."""
        _, viewer = await tx.viewer()
        root_id = d.require_text(req.get("root_id"), "root_id")
        await require_visible(tx, viewer, await tx.ticket(root_id))
        return await tx.require("statement", root_id, d.require_text(req.get("statement_id"), "statement_id"))

    @transaction
    async def RecordBankPayments(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        """The issuer records the payments its bank booked for a statement's pieces (from the
        bank's camt.053 statement): each entry names the piece, the amount, the bank's reference
        and the booking date. An entry already recorded (same piece and reference) is skipped;
        a request of nothing but such entries is refused (nothing to write)."""
        caller, _ = await tx.caller("core")
        root = await tx.ticket(req.get("root_id"))
        require_issuer(root, caller.member_id)
        statement_id = d.require_text(req.get("statement_id"), "statement_id", 64)
        statement = await tx.require("statement", root.id, statement_id)
        raw = req.get("entries")
        if not isinstance(raw, list):
            raise d.InvalidInputError("entries must be a list")
        entries = [d.BankEntry.from_dict(item) for item in raw[: MAX_ENTRIES + 1]]
        pieces = sorted({entry.ticket_id for entry in entries})
        found = await tx.get_many(*[("bankpay", (root.id, ticket_id)) for ticket_id in pieces])
        recorded = {ticket_id: record for ticket_id, record in zip(pieces, found, strict=True) if record}
        changed, skipped = d.apply_bank_entries(statement, recorded, entries, tx.tx_id)
        if not changed:
            raise d.StateConflictError("every one of these bank entries is already recorded")
        # what the holder confirmed it recovered on demands (#21) counts too: never more than due
        overdue = await tx.get_many(*[("overdue", (ticket_id,)) for ticket_id in sorted(changed)])
        for (ticket_id, record), marked in zip(sorted(changed.items()), overdue, strict=True):
            d.check_bank_payment(ticket_id, record["due_fen"], record["paid_fen"], marked)
        for ticket_id, record in sorted(changed.items()):
            await tx.put("bankpay", (root.id, ticket_id), {**record, "statement_id": statement_id})
        return {
            "root_id": root.id,
            "statement_id": statement_id,
            "recorded": [changed[ticket_id] for ticket_id in sorted(changed)],
            "skipped": [entry.to_dict() for entry in skipped],
        }

    @transaction
    async def GetBankPayments(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        """What the bank booked for a root's settled pieces, by piece (none before settlement)."""
        _, viewer = await tx.viewer()
        root_id = d.require_text(req.get("root_id"), "root_id")
        await require_visible(tx, viewer, await tx.ticket(root_id))
        items = [value for _, value in await tx.scan("bankpay", root_id)]
        return {"items": items, "total": len(items)}
