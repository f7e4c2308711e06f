"""Registration of a financing (#21, 中登网): the financing bank records the registration it
obtained for an open application (kind ``registration``, keyed by the application, and an index
``registration_invoice`` by invoice number), amends one by a new record naming the old, and
ApproveFinancing (chaincode/financing.py) refuses an application without a current one.
SearchRegistrations is the search before funding: every registration and financing application
on the ledger whose ticket carries one of the given invoice numbers, on any ticket. Composed
into GoldTicketContract (chaincode/contract.py)."""

from __future__ import annotations

from typing import Any

from goldticket import domain as d

from .state import derive_id
from .transactions import Tx, transaction
from .visibility import require_own, sees_everything

MAX_SEARCH_NUMBERS = 50


class RegistrationTransactions:
    async def _registrations(self, tx: Tx, application_id: str) -> list[dict[str, Any]]:
        return [value for _, value in await tx.scan("registration", application_id)]

    @transaction
    async def RecordRegistration(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        """The application's bank records the registration it obtained (number, registry,
        registered_on, expires_on, the filing's SHA-256, the invoice numbers filed); with
        ``amends`` naming an earlier registration of the same application, it replaces it."""
        caller, _ = await tx.caller("bank")
        application_id = d.require_text(req.get("application_id"), "application_id", 64)
        application = await tx.require("application", application_id)
        ticket = await tx.ticket(application["ticket_id"])
        existing = await self._registrations(tx, application_id)
        record, amended = d.record_registration(
            registration_id=derive_id("RG", tx.tx_id),
            application=application,
            ticket=ticket,
            by_org_id=caller.member_id,
            request=req,
            existing=existing,
            today=tx.today(),
            tx_id=tx.tx_id,
        )
        await tx.put("registration", (application_id, record["registration_id"]), record)
        if amended is not None:
            await tx.put("registration", (application_id, amended["registration_id"]), amended)
        for number in record["invoice_numbers"]:
            index = {"application_id": application_id, "registration_id": record["registration_id"]}
            await tx.put("registration_invoice", (number, record["registration_id"]), index)
        return d.with_status(record, tx.today())

    @transaction
    async def GetRegistrations(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        """An application's registrations with their status (current, pending, expired,
        amended): its holder's, its bank's and the operator's to read."""
        _, viewer = await tx.viewer()
        application_id = d.require_text(req.get("application_id"), "application_id", 64)
        application = await tx.require("application", application_id)
        require_own(viewer, application["holder_org_id"], application["bank_org_id"])
        today = tx.today()
        items = [d.with_status(item, today) for item in await self._registrations(tx, application_id)]
        current = d.current_registration(items, today)
        return {
            "application_id": application_id,
            "items": items,
            "current": current["registration_id"] if current else None,
        }

    @transaction
    async def SearchRegistrations(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        """Search before funding (banks and the operator): every registration and every
        financing application on the ledger whose ticket carries one of ``invoice_numbers``,
        on any ticket, but ``exclude_application_id``'s own. With ``"financings": false`` the
        financings are left out (the portal finds them through its read model's index of
        invoice numbers, services.registration): every application is read only for them."""
        _, viewer = await tx.viewer()
        if viewer["role"] != "bank" and not sees_everything(viewer):
            raise d.ForbiddenError("only banks search registrations")
        numbers = req.get("invoice_numbers")
        if (
            not isinstance(numbers, list)
            or not numbers
            or len(numbers) > MAX_SEARCH_NUMBERS
            or not all(isinstance(item, str) and item.strip() for item in numbers)
        ):
            raise d.InvalidInputError(f"invoice_numbers must list 1 to {MAX_SEARCH_NUMBERS} invoice numbers")
        wanted = {d.normalise_invoice_number(item) for item in numbers}
        excluded = req.get("exclude_application_id")
        today = tx.today()
        registrations: list[dict[str, Any]] = []
        for number in sorted(wanted):
            for _, index in await tx.scan("registration_invoice", number):
                if index["application_id"] == excluded:
                    continue
                record = await tx.require("registration", index["application_id"], index["registration_id"])
                if all(item["registration_id"] != record["registration_id"] for item in registrations):
                    registrations.append(d.with_status(record, today))
        with_financings = req.get("financings", True)
        if not isinstance(with_financings, bool):
            raise d.InvalidInputError("financings must be true or false")
        financings: list[dict[str, Any]] = []
        for _, application in await tx.scan("application") if with_financings else []:
            if application["id"] == excluded:
                continue
            ticket = await tx.ticket(application["ticket_id"])
            matched = sorted(wanted & {invoice.number for invoice in ticket.invoices})
            if matched:
                financings.append(
                    {
                        "application_id": application["id"],
                        "ticket_id": ticket.id,
                        "root_id": ticket.root_id,
                        "bank_org_id": application["bank_org_id"],
                        "amount_fen": application["amount_fen"],
                        "status": application["status"],
                        "invoice_numbers": matched,
                    }
                )
        return {"invoice_numbers": sorted(wanted), "registrations": registrations, "financings": financings}
