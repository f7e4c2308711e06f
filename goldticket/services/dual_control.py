"""Maker-checker (经办/复核, issue #20): a member's setting, preparing a covered operation for
review, the reviewers' list, approving (the reviewer signs the same intent with their own card)
and rejecting. The ledger enforces all of it (chaincode/dual_control.py); the checks here only
spare a card a signature the chaincode would refuse."""

from __future__ import annotations

import secrets
from typing import Any

from goldticket import domain as d
from goldticket.domain import dual_control as dc

from . import signed_documents
from .context import Actor
from .platform import Platform

PENDING_REVIEW = "PENDING_REVIEW"


def get_setting(platform: Platform, member_id: str) -> dict[str, Any]:
    """``{"member_id", "operations", "threshold_fen", "reviewers"}`` (no operations: off)."""
    return platform.evaluate("GetDualControl", {"member_id": member_id})  # type: ignore[no-any-return]


def _committed_setting(platform: Platform, member_id: str) -> dict[str, Any] | None:
    """The setting in the member's committed record, read before a write without a signed query
    (``Platform.lookup``, #22: world state, or the read model on Fabric). The chaincode decides
    again on submit: a stale read only turns a preparation into the chaincode's refusal."""
    try:
        member = platform.lookup("member", member_id)
    except d.NotFoundError:
        return None
    return member.get("dual_control")  # type: ignore[no-any-return]


def set_setting(
    platform: Platform,
    admin: Actor,
    *,
    operations: list[str],
    threshold_fen: int,
    reviewers: list[str] | None = None,
    pin: str,
) -> dict[str, Any]:
    """A member's admin sets its maker-checker setting, signed in the admin's card; a weakening
    of a setting that is on (:meth:`DualControl.weakened_by`) is only prepared, for another
    admin or reviewer of the member to approve: ``{"status": "PENDING_REVIEW", "operation"}``."""
    if admin.role != "admin":
        raise d.ForbiddenError("only an admin user may do this")
    request = {
        "operations": list(operations),
        "threshold_fen": threshold_fen,
        "reviewers": list(reviewers or []),
    }
    setting = dc.DualControl.from_request(admin.member_id, request)  # refused here before any PIN
    if not weakens(platform, admin.member_id, setting):
        return platform.submit(admin, dc.SETTING_FUNCTION, request, pin=pin).result  # type: ignore[no-any-return]
    operation = platform.submit(
        admin, "PrepareOperation", {"function": dc.SETTING_FUNCTION, "request": request}, pin=pin
    ).result
    return {"status": PENDING_REVIEW, "operation": operation}


def weakens(platform: Platform, member_id: str, setting: dc.DualControl) -> bool:
    """Whether ``setting`` would weaken the member's committed one (then it needs a reviewer)."""
    current = dc.DualControl.from_dict(_committed_setting(platform, member_id), member_id)
    return current.weakened_by(setting)


def needs_review(platform: Platform, actor: Actor, function: str, amount_fen: int) -> bool:
    """Whether :func:`submit` would only prepare ``function`` for ``amount_fen`` (the actor's
    member has it under maker-checker above its threshold), as its committed setting says."""
    setting = dc.DualControl.from_dict(_committed_setting(platform, actor.member_id), actor.member_id)
    return setting.needs_review(function, amount_fen)


def submit(
    platform: Platform, actor: Actor, function: str, request: dict[str, Any], *, amount_fen: int, pin: str
) -> dict[str, Any]:
    """Sign ``function`` directly, or, when the actor's member has it under maker-checker above
    ``amount_fen``, prepare it for a reviewer: then ``{"status": "PENDING_REVIEW", "operation"}``
    is returned and nothing else has changed."""
    setting = dc.DualControl.from_dict(_committed_setting(platform, actor.member_id), actor.member_id)
    if not setting.needs_review(function, amount_fen):
        return platform.submit(actor, function, request, pin=pin).result  # type: ignore[no-any-return]
    private = dc.private_part(function, request)
    preparation: dict[str, Any] = {
        "function": function,
        "request": {name: value for name, value in request.items() if name not in private},
    }
    if private:  # beside the request, in the transient map (ledger/contract.py PRIVATE_FIELDS)
        preparation.update(private, **{dc.SALT: secrets.token_hex(16)})
    operation = platform.submit(actor, "PrepareOperation", preparation, pin=pin).result
    return {"status": PENDING_REVIEW, "operation": operation}


def is_pending(result: dict[str, Any]) -> bool:
    return isinstance(result, dict) and result.get("status") == PENDING_REVIEW


def list_operations(platform: Platform, actor: Actor, *, status: str | None = None) -> list[dict[str, Any]]:
    """The actor's member's operations, newest first (``status``: PENDING, APPROVED, REJECTED)."""
    request: dict[str, Any] = {"member_id": actor.member_id}
    if status:
        request["status"] = status
    return platform.evaluate("ListOperations", request)["items"]  # type: ignore[no-any-return]


def to_review(platform: Platform, actor: Actor) -> list[dict[str, Any]]:
    """The pending operations this user may review: another user's, not expired, and only for
    an admin or a reviewer the member's setting names (the ledger refuses anyone else)."""
    setting = dc.DualControl.from_dict(get_setting(platform, actor.member_id), actor.member_id)
    if not setting.may_review(actor.username, actor.role):
        return []
    today = platform.today().isoformat()
    return [
        item
        for item in list_operations(platform, actor, status="PENDING")
        if item["maker"]["user"] != actor.username and item["expires_on"] >= today
    ]


def get_operation(platform: Platform, actor: Actor, operation_id: str) -> dict[str, Any]:
    """The operation of the actor's member; with private fields (a financing approval's rate),
    ``private_request`` holds them and the salt where the ledger gives them (the bank's own
    collection), else None."""
    operation: dict[str, Any] = platform.evaluate(
        "GetOperation", {"operation_id": d.require_text(operation_id, "operation_id", 64)}
    )
    if operation["member_id"] != actor.member_id:
        raise d.NotFoundError(f"no operation {operation_id}")
    return operation


def approve(platform: Platform, reviewer: Actor, operation_id: str, *, pin: str) -> dict[str, Any]:
    """The reviewer signs exactly the prepared intent (function and request, whose hash the
    ledger compares) with their own card; the operation runs. ``{"operation", "result"}``. A
    financing approval of an application with the holder's signed assignment (#21) is committed
    with it countersigned by the reviewer's card: the reviewer's approval is what binds the bank
    (the maker's preparation moves nothing), so theirs is the card that countersigns; the hash
    goes beside the prepared intent (``domain.dual_control.AT_APPROVAL``)."""
    operation = get_operation(platform, reviewer, operation_id)
    if operation["maker"]["user"] == reviewer.username:
        raise d.ForbiddenError("the maker of an operation does not review it: a second user approves")
    request = {
        "operation_id": operation["id"],
        "function": operation["function"],
        "request": operation["request"],
    }
    if operation.get("private"):  # restated privately: the transient map, as prepared
        if not operation.get("private_request"):
            raise d.StateConflictError(
                f"the private fields of operation {operation['id']} cannot be read here: approve it "
                "where the member's collection is held"
            )
        request.update(operation["private_request"])
    if operation["function"] == "ApproveFinancing":
        application = platform.lookup("application", str(operation["request"].get("application_id")))
        if application.get("assignment_sha256"):
            request["countersigned_assignment_sha256"] = signed_documents.countersign_financing_assignment(
                platform, reviewer, pin=pin, application=application
            )
    return platform.submit(reviewer, "ApproveOperation", request, pin=pin).result  # type: ignore[no-any-return]


def reject(platform: Platform, actor: Actor, operation_id: str, *, reason: str, pin: str) -> dict[str, Any]:
    operation = get_operation(platform, actor, operation_id)
    request = {"operation_id": operation["id"], "reason": d.require_text(reason or "rejected", "reason", 500)}
    return platform.submit(actor, "RejectOperation", request, pin=pin).result  # type: ignore[no-any-return]
