"""A change of a member's settlement account (#21), in two signed transactions.

The member's KYC record (goldticket.domain.kyc) lives off the ledger; the member's ledger record
keeps its SHA-256 (``kyc_sha256``), and payment files pay only the account of the record whose
hash it keeps. A change needs both sides, and neither alone changes anything:

- ``RequestAccountChange``: an admin of the member itself (its own card; not a clerk, not the
  operator) states the SHA-256 of the new record (the old one with the new account). The change
  waits PENDING; the member's record names it (one at a time).
- ``ConfirmAccountChange``: an operator admin (the desk's card) confirms that change, stating
  the same hash it checked; only then does the member's ``kyc_sha256`` become it, with
  ``account_changed_on`` (the business date) for its counterparties to see.
- ``RejectAccountChange``: the operator, or an admin of the member (withdrawing), closes it
  unapplied.

Composed into GoldTicketContract.
"""

from __future__ import annotations

from typing import Any

from goldticket import domain as d

from .identity import Caller
from .state import derive_id
from .transactions import Tx, transaction
from .visibility import require_own

MEMBER_ROLES = ("core", "supplier", "bank")


def _who(caller: Caller) -> dict[str, str]:
    return {"user": caller.user, "member_id": caller.member_id, "card_serial": caller.certificate_serial}


class AccountChangeTransactions:
    @transaction
    async def RequestAccountChange(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        """An admin of a member asks to change its settlement account: ``kyc_sha256`` is the
        SHA-256 of its KYC record with the new account. Nothing changes until the operator
        confirms it."""
        caller, member = await tx.caller(*MEMBER_ROLES, admin=True)
        kyc_sha256 = d.require_sha256(req.get("kyc_sha256"), "kyc_sha256")
        if not member.get("kyc_sha256"):
            raise d.RuleViolationError(
                f"member {member['id']} has no registered KYC record: the desk registers the first one"
            )
        if kyc_sha256 == member["kyc_sha256"]:
            raise d.RuleViolationError("this is the settlement account already registered")
        if member.get("pending_account_change"):
            raise d.StateConflictError(
                f"the change {member['pending_account_change']} waits for the operator: it is confirmed"
                " or withdrawn first"
            )
        change = {
            "id": derive_id("AC", tx.tx_id),
            "member_id": member["id"],
            "kyc_sha256": kyc_sha256,
            "previous_kyc_sha256": member["kyc_sha256"],
            "status": "PENDING",
            "requested_by": _who(caller),
            "requested_tx_id": tx.tx_id,
            "requested_on": tx.today().isoformat(),
        }
        await tx.put("account_change", (member["id"], change["id"]), change)
        await tx.put("member", (member["id"],), {**member, "pending_account_change": change["id"]})
        return change

    async def _pending_account_change(
        self, tx: Tx, req: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        member = await tx.member(d.require_text(req.get("member_id"), "member_id", 64))
        change_id = d.require_text(req.get("change_id"), "change_id", 64)
        change = await tx.require("account_change", member["id"], change_id)
        if change["status"] != "PENDING" or member.get("pending_account_change") != change_id:
            raise d.StateConflictError(f"account change {change_id} is {change['status']}, not PENDING")
        return member, change

    @transaction
    async def ConfirmAccountChange(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        """The operator confirms a member's pending change, stating the hash it checked: the
        member's KYC hash becomes it, dated for its counterparties."""
        caller, _ = await tx.caller("operator", admin=True)
        member, change = await self._pending_account_change(tx, req)
        if d.require_sha256(req.get("kyc_sha256"), "kyc_sha256") != change["kyc_sha256"]:
            raise d.RuleViolationError(
                f"account change {change['id']} registers another record than the one confirmed"
            )
        if member.get("kyc_sha256") != change["previous_kyc_sha256"]:
            raise d.StateConflictError("the member's KYC record changed since the request")
        today = tx.today().isoformat()
        change.update(status="CONFIRMED", confirmed_by=_who(caller), decided_tx_id=tx.tx_id, decided_on=today)
        member = {key: value for key, value in member.items() if key != "pending_account_change"}
        member.update(
            kyc_sha256=change["kyc_sha256"], account_changed_on=today, account_change_id=change["id"]
        )
        await tx.put("account_change", (member["id"], change["id"]), change)
        await tx.put("member", (member["id"],), member)
        return change

    @transaction
    async def RejectAccountChange(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        """The operator declines a pending change, or an admin of the member withdraws it."""
        caller, own = await tx.caller(admin=True)
        member, change = await self._pending_account_change(tx, req)
        if own["role"] != "operator" and caller.member_id != member["id"]:
            raise d.ForbiddenError("only the operator or the member's own admin closes its account change")
        change.update(
            status="REJECTED",
            rejected_by=_who(caller),
            reason=d.require_text(req.get("reason") or "rejected", "reason", 500),
            decided_tx_id=tx.tx_id,
            decided_on=tx.today().isoformat(),
        )
        member = {key: value for key, value in member.items() if key != "pending_account_change"}
        await tx.put("account_change", (member["id"], change["id"]), change)
        await tx.put("member", (member["id"],), member)
        return change

    @transaction
    async def ListAccountChanges(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        """A member's account changes, newest first (the operator: any member's; ``status``
        filters). Without ``member_id`` the operator reads every member's."""
        _, viewer = await tx.viewer()
        member_id = req.get("member_id")
        if member_id is not None:
            require_own(viewer, d.require_text(member_id, "member_id", 64))
        else:
            require_own(viewer)  # the operator only
        found = [value for _, value in await tx.scan("account_change", *([member_id] if member_id else []))]
        items = [item for item in found if not req.get("status") or item["status"] == req["status"]]
        items.sort(key=lambda item: (item["requested_on"], item["id"]), reverse=True)
        return {"items": items, "total": len(items)}
