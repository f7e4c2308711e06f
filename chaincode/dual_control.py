"""Maker-checker (经办/复核, issue #20), enforced on the ledger in two transactions.

A member's admin sets which operations (issue, transfer, financing approval, settlement) above
which amount need a reviewer (``SetDualControl``). Such an operation signed alone is refused by
the operation itself (:func:`require_review`, called by IssueTicket, OfferTransfer,
ApproveFinancing and SettleTicket). Instead the maker signs ``PrepareOperation``: the intent (the
function and its request) is rehearsed as the maker would sign it (nothing written) and recorded
PENDING with its SHA-256; no ticket, line or balance changes. A second user of the same member,
an admin or a reviewer the setting names, signs ``ApproveOperation`` stating the same intent:
its hash must match, and the operation runs then, in that transaction, the tickets it writes
recording both the maker and the checker. A weakening of the setting itself is prepared and
approved the same way (SetDualControl refuses it signed alone while the setting is on).
``RejectOperation`` (either of them, or another user of
the member) closes it unexecuted; after REVIEW_DAYS it can no longer be approved.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from goldticket import domain as d
from goldticket.domain import dual_control as dc

from .identity import Caller
from .private import get_private, get_private_hash, put_private, terms_collection
from .rehearsal import _DryContext, _DryStub
from .state import derive_id, encode
from .transactions import Tx, transaction
from .visibility import require_own, sees_everything


def setting_of(member: dict[str, Any]) -> dc.DualControl:
    """The member's setting, kept in its member record: the operations read that record already
    (Tx.caller), so a member without one reads nothing more than before (and the embedded
    ledger's verifier replays earlier transactions byte for byte)."""
    return dc.DualControl.from_dict(member.get("dual_control"), member["id"])


async def require_review(
    tx: Tx, caller: Caller, member: dict[str, Any], function: str, amount_fen: int
) -> None:
    """Refuse ``function`` for ``amount_fen`` signed alone when the caller's member has it under
    maker-checker; inside its approval (or the maker's rehearsal of it) it runs."""
    approval = tx.approval
    if approval is not None:
        if approval["function"] != function or approval["member_id"] != caller.member_id:
            raise d.ForbiddenError(f"operation {approval.get('id')} does not approve {function}")
        approval["amount_fen"] = amount_fen
        return
    setting = setting_of(member)
    if setting.needs_review(function, amount_fen):
        raise d.ForbiddenError(
            f"{dc.FUNCTIONS[function]} over {d.format_fen(setting.threshold_fen)} needs a reviewer of the "
            "member: prepare it (PrepareOperation) for another user to approve"
        )


def _who(caller: Caller) -> dict[str, str]:
    return {"user": caller.user, "key_id": caller.key_id, "card_serial": caller.certificate_serial}


class DualControlTransactions:
    @transaction
    async def SetDualControl(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        """A member's admin sets its own maker-checker setting (an empty list turns it off).
        While it is on, a weakening (:meth:`DualControl.weakened_by`: switching it off, an
        operation removed, a higher threshold, a reviewer added) is refused signed alone: an
        admin prepares it (PrepareOperation) and another user who may review approves it."""
        approval = tx.approval
        # inside a reviewer's approval the caller is the checker (an admin or a named reviewer,
        # as ApproveOperation checked); the maker's rehearsal and a direct call need an admin
        approved = approval is not None and "checker" in approval
        caller, member = await tx.caller("core", "supplier", "bank", admin=not approved)
        if approval is not None and (
            approval["function"] != dc.SETTING_FUNCTION or approval["member_id"] != caller.member_id
        ):
            raise d.ForbiddenError(f"operation {approval.get('id')} does not approve {dc.SETTING_FUNCTION}")
        setting = dc.DualControl.from_request(caller.member_id, req)
        if approval is None and setting_of(member).weakened_by(setting):
            raise d.ForbiddenError(
                "weakening the maker-checker setting (turning it off, removing an operation, raising "
                "the threshold, adding a reviewer) needs another user of the member: prepare it "
                "(PrepareOperation) for another admin or reviewer to approve"
            )
        record = {**setting.to_dict(), "set_by": caller.user, "tx_id": tx.tx_id}
        if approval is not None and approved:
            record.update(
                set_by=approval["maker"]["user"], approved_by=caller.user, operation_id=approval["id"]
            )
        await tx.put("member", (caller.member_id,), {**member, "dual_control": record})
        return record

    @transaction
    async def GetDualControl(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        _, viewer = await tx.viewer()
        member_id = d.require_text(req.get("member_id"), "member_id", 64)
        require_own(viewer, member_id)
        member = await tx.member(member_id)
        return member.get("dual_control") or dc.DualControl(member_id).to_dict()

    @transaction
    async def PrepareOperation(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        """The maker records an operation for review; it is rehearsed as the maker would sign it
        (its own rules, nothing written) and changes nothing but its own record. A financing
        approval's rate comes beside the request (the transient map, with a salt): it goes to the
        bank's terms collection, and the record holds only the salted hash of the whole intent."""
        caller, member = await tx.caller()
        function = req.get("function")
        if function not in dc.PREPARED:
            raise d.InvalidInputError(f"only {', '.join(dc.PREPARED)} are prepared for review")
        request = req.get("request")
        if not isinstance(request, dict):
            raise d.InvalidInputError("the operation's request must be an object")
        if dc.approval_part(function, request) or dc.approval_part(function, req):
            raise d.InvalidInputError(
                f"{', '.join(dc.AT_APPROVAL[function])} of a prepared {function} is the reviewer's: their "
                "card countersigns when their approval commits it, not the maker's preparation"
            )
        if dc.private_part(function, request):
            raise d.InvalidInputError(
                f"{', '.join(dc.PRIVATE[function])} of a prepared {function} travels privately, "
                "beside the request, not in it"
            )
        private = dc.private_part(function, req)
        salt = dc.require_salt(req.get(dc.SALT)) if private else None
        whole = {**request, **private}
        operation_id = derive_id("OP", tx.tx_id)
        dry = Tx(_DryContext(tx.ctx, _DryStub(tx.stub, tx.stub.get_creator())))
        dry.approval = {"id": operation_id, "function": function, "member_id": caller.member_id}
        dry.private_fields = frozenset(private)
        await getattr(self, function).inner(self, dry, whole)
        today = tx.today()
        operation = {
            "id": operation_id,
            "member_id": caller.member_id,
            "function": function,
            "operation": dc.PREPARED[function],
            "request": request,
            "intent_sha256": d.intent_sha256(function, request),
            "amount_fen": dry.approval.get("amount_fen"),  # none for a setting
            "status": "PENDING",
            "maker": _who(caller),
            "prepared_tx_id": tx.tx_id,
            "prepared_on": today.isoformat(),
            "expires_on": dc.expires_on(today).isoformat(),
        }
        if salt is not None:
            collection = terms_collection(member["msp_id"])
            value = encode({**private, dc.SALT: salt})
            await put_private(tx.stub, collection, tx.key("operation_terms", operation_id), value)
            operation.update(intent_sha256=dc.salted_intent_sha256(function, whole, salt), private=collection)
        await tx.put("operation", (operation_id,), operation)
        await tx.put("member_operation", (caller.member_id, operation_id), {})
        return operation

    async def _pending(self, tx: Tx, req: dict[str, Any], caller: Caller) -> dict[str, Any]:
        operation_id = d.require_text(req.get("operation_id"), "operation_id", 64)
        operation = await tx.require("operation", operation_id)
        if operation["member_id"] != caller.member_id:
            raise d.ForbiddenError(
                f"operation {operation_id} is another member's: only its own users review it"
            )
        if operation["status"] != "PENDING":
            raise d.StateConflictError(f"operation {operation_id} is {operation['status']}, not PENDING")
        return operation

    @transaction
    async def ApproveOperation(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        """A reviewer of the same member, not the maker, signs the prepared intent: it runs now."""
        caller, member = await tx.caller()
        operation = await self._pending(tx, req, caller)
        maker = operation["maker"]
        if caller.user == maker["user"] or caller.key_id == maker["key_id"]:
            raise d.ForbiddenError("the maker of an operation does not review it: a second user approves")
        if not setting_of(member).may_review(caller.user, caller.role):
            raise d.ForbiddenError(f"user {caller.user} is not a reviewer of member {caller.member_id}")
        if tx.today() > dt.date.fromisoformat(operation["expires_on"]):
            raise d.RuleViolationError(f"operation {operation['id']} expired on {operation['expires_on']}")
        whole = operation["request"]
        if operation.get("private"):  # the reviewer restates the private fields, privately
            stated = req.get("request")
            if not isinstance(stated, dict) or dc.private_part(operation["function"], stated):
                raise d.InvalidInputError("the private fields of the operation travel beside its request")
            private = dc.private_part(operation["function"], req)
            whole = {**operation["request"], **private}
            dc.check_same_intent(
                operation, req.get("function"), {**stated, **private}, dc.require_salt(req.get(dc.SALT))
            )
            tx.private_fields = tx.private_fields | frozenset(private)
        else:
            dc.check_same_intent(operation, req.get("function"), req.get("request"))
        # what the checker's own card signed for this approval (#21), beside the prepared intent
        whole = {**whole, **dc.approval_part(operation["function"], req)}
        tx.approval = {**operation, "checker": _who(caller)}
        result = await getattr(self, operation["function"]).inner(self, tx, whole)
        operation.update(
            status="APPROVED",
            checker=_who(caller),
            decided_tx_id=tx.tx_id,
            decided_on=tx.today().isoformat(),
        )
        await tx.put("operation", (operation["id"],), operation)
        return {"operation": operation, "result": result}

    @transaction
    async def RejectOperation(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        """A user of the member (the maker withdrawing, or a reviewer) closes it unexecuted."""
        caller, _ = await tx.caller()
        operation = await self._pending(tx, req, caller)
        operation.update(
            status="REJECTED",
            checker=_who(caller),
            reason=d.require_text(req.get("reason") or "rejected", "reason", 500),
            decided_tx_id=tx.tx_id,
            decided_on=tx.today().isoformat(),
        )
        await tx.put("operation", (operation["id"],), operation)
        return operation

    @transaction
    async def GetOperation(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        """The operation; one with private fields also gives them (``private_request``, with the
        salt) where this peer holds the member's collection, else None."""
        _, viewer = await tx.viewer()
        operation = await tx.require("operation", d.require_text(req.get("operation_id"), "operation_id", 64))
        require_own(viewer, operation["member_id"])
        collection = operation.get("private")
        if collection:
            key = tx.key("operation_terms", operation["id"])
            digest = await get_private_hash(tx.stub, collection, key)
            try:
                raw = await get_private(tx.stub, collection, key)
            except Exception:  # a peer outside the collection: only the hash is there
                raw = b""
            if raw and hashlib.sha256(raw).digest() != digest:
                raise d.StateConflictError(f"the private fields of {operation['id']} do not match their hash")
            operation = {**operation, "private_request": json.loads(raw) if raw else None}
        return operation

    @transaction
    async def ListOperations(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        """A member's operations (``status`` to filter), newest prepared first."""
        _, viewer = await tx.viewer()
        member_id = d.require_text(req.get("member_id") or viewer["id"], "member_id", 64)
        if not sees_everything(viewer):
            require_own(viewer, member_id)
        ids = [attrs[1] for attrs, _ in await tx.scan("member_operation", member_id)]
        found = await tx.get_many(*[("operation", (operation_id,)) for operation_id in ids]) if ids else []
        items = [
            item for item in found if item and (not req.get("status") or item["status"] == req["status"])
        ]
        items.sort(key=lambda item: (item["prepared_on"], item["id"]), reverse=True)
        return {"items": items, "total": len(items)}
