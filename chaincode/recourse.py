"""Overdue and recourse (#21): a piece unpaid after its root's maturity plus grace days is marked
OVERDUE (by its holder or the operator; the date is the transaction's, never the caller's); its
holder demands payment (追索) from the issuer, or from an earlier holder where the path was
financed with recourse, naming the demand document by SHA-256; a demand is closed as paid or
written off. Kept apart from the ticket's own state (kinds ``overdue`` and ``demand``), so every
ticket written before it reads and replays unchanged. Composed into GoldTicketContract."""

from __future__ import annotations

from typing import Any

from goldticket import domain as d

from .state import derive_id
from .transactions import Tx, transaction
from .visibility import require_visible, sees_everything

MAX_DEPTH = 256  # a path longer than this is not a ticket tree this contract wrote


class RecourseTransactions:
    async def _unpaid(self, tx: Tx, piece: d.Ticket, overdue: dict[str, Any] | None) -> tuple[int, int]:
        """(What the bank booked for ``piece``, what is still unpaid on it)."""
        booked = await tx.get("bankpay", piece.root_id, piece.id)
        bank_paid = int(booked["paid_fen"]) if booked else 0
        recovered = int(overdue.get("recovered_fen", 0)) if overdue else 0
        return bank_paid, d.unpaid_fen(piece, bank_paid, recovered)

    async def _path(self, tx: Tx, piece: d.Ticket) -> list[d.Ticket]:
        path = [piece]
        while path[0].parent_id is not None:
            if len(path) > MAX_DEPTH:
                raise d.RuleViolationError(f"ticket {piece.id} descends from more than {MAX_DEPTH} tickets")
            path.insert(0, await tx.ticket(path[0].parent_id))
        return path

    async def _financings(self, tx: Tx, piece: d.Ticket) -> tuple[list[d.Ticket], list[dict[str, Any]]]:
        """The path from the root to ``piece`` and the financings in it that stated recourse."""
        path = await self._path(tx, piece)
        found = await tx.get_many(*[("financed", (ticket.id,)) for ticket in path])
        return path, [{**f, "ticket_id": t.id} for t, f in zip(path, found, strict=True) if f]

    async def _obligors(self, tx: Tx, piece: d.Ticket) -> dict[str, str]:
        path, financings = await self._financings(tx, piece)
        return d.obligors(path, {f["ticket_id"]: bool(f["recourse"]) for f in financings})

    @transaction
    async def MarkOverdue(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        """The holder of an unpaid piece, or the operator, records it OVERDUE once the
        transaction's business date is after its root's maturity plus grace days."""
        caller, member = await tx.caller()
        piece = await tx.ticket(req.get("ticket_id"))
        root = piece if piece.parent_id is None else await tx.ticket(piece.root_id)
        already = await tx.get("overdue", piece.id)
        bank_paid, _ = await self._unpaid(tx, piece, None)
        record = d.mark_overdue(
            piece,
            root,
            today=tx.today(),
            bank_paid_fen=bank_paid,
            already=already,
            by_org_id=caller.member_id,
            operator=sees_everything(member),
            tx_id=tx.tx_id,
        )
        await tx.put("overdue", (piece.id,), record)
        return record

    @transaction
    async def DemandPayment(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        """The holder of an overdue piece demands payment of an obligor, naming the signed
        demand document by its SHA-256."""
        caller, _ = await tx.caller()
        piece = await tx.ticket(req.get("ticket_id"))
        overdue = await tx.get("overdue", piece.id)
        if overdue is None:
            raise d.StateConflictError(f"ticket {piece.id} is not marked overdue: mark it first")
        obligor = await tx.member(req.get("obligor_org_id"))  # type: ignore[arg-type]
        _, unpaid = await self._unpaid(tx, piece, overdue)
        demands = [value for _, value in await tx.scan("demand", piece.id)]
        demand = d.demand_payment(
            overdue,
            piece,
            by_org_id=caller.member_id,
            obligor_org_id=obligor["id"],
            allowed=await self._obligors(tx, piece),
            amount_fen=req.get("amount_fen"),
            document_sha256=req.get("document_sha256"),
            unpaid=unpaid,
            open_demands=demands,
            demand_id=derive_id("DM", tx.tx_id),
            today=tx.today(),
            tx_id=tx.tx_id,
        )
        await tx.put("demand", (piece.id, demand["demand_id"]), demand)
        return demand

    @transaction
    async def CloseDemand(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        """Close a demand: ``outcome`` "paid" (the bank booked the piece in full; or, with a
        ``payment_reference``, the holder confirms the obligor paid the demanded amount) or
        "written_off" (the holder)."""
        caller, _ = await tx.caller()
        piece = await tx.ticket(req.get("ticket_id"))
        demand_id = d.require_text(req.get("demand_id"), "demand_id", 64)
        demand = await tx.get("demand", piece.id, demand_id)
        overdue = await tx.get("overdue", piece.id)
        if demand is None or overdue is None:
            raise d.NotFoundError(f"no demand {demand_id} on ticket {piece.id}")
        _, unpaid = await self._unpaid(tx, piece, overdue)
        closed, after = d.close_demand(
            demand,
            overdue,
            by_org_id=caller.member_id,
            outcome=req.get("outcome"),
            unpaid=unpaid,
            payment_reference=req.get("payment_reference"),
            today=tx.today(),
            tx_id=tx.tx_id,
        )
        await tx.put("demand", (piece.id, demand_id), closed)
        if after != overdue:
            await tx.put("overdue", (piece.id,), after)
        return closed

    @transaction
    async def GetOverdue(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        """A piece's overdue record (None when not overdue), its demands, what is unpaid, from
        when it may be marked, whom its holder may demand payment from and the financings of
        its path that stated recourse (有追索/无追索)."""
        _, viewer = await tx.viewer()
        piece = await tx.ticket(req.get("ticket_id"))
        await require_visible(tx, viewer, piece)
        root = piece if piece.parent_id is None else await tx.ticket(piece.root_id)
        overdue = await tx.get("overdue", piece.id)
        bank_paid, unpaid = await self._unpaid(tx, piece, overdue)
        return {
            "ticket_id": piece.id,
            "overdue": overdue,
            "demands": [value for _, value in await tx.scan("demand", piece.id)],
            "bank_paid_fen": bank_paid,
            "unpaid_fen": unpaid,
            "grace_days": d.grace_days_of(root),
            "overdue_from": d.overdue_on(root).isoformat(),
            "obligors": await self._obligors(tx, piece),
            "financings": (await self._financings(tx, piece))[1],
        }

    @transaction
    async def ListOverdue(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        """The overdue pieces a member holds or issued (the operator: all), with their demands
        (a member sees the demands it made or that were made of it)."""
        _, viewer = await tx.viewer()
        items = []
        for _, record in await tx.scan("overdue"):
            parties = (record["holder_org_id"], record["issuer_org_id"])
            demands = [value for _, value in await tx.scan("demand", record["ticket_id"])]
            if not sees_everything(viewer):
                demands = [x for x in demands if viewer["id"] in (x["holder_org_id"], x["obligor_org_id"])]
                if viewer["id"] not in parties and not demands:
                    continue
            items.append({**record, "demands": demands})
        return {"items": items, "total": len(items)}
