"""Maker-checker (经办/复核, #20): a member's setting, the operations prepared for review, and a
reviewer's approval (signed with the reviewer's own card over the prepared intent) or rejection.

A covered operation over the member's threshold (``POST /tickets``, ``.../transfers``,
``/financing/{id}/approve``, ``.../settle``) answers 202 ``{"status": "PENDING_REVIEW",
"operation"}`` instead of its usual body: nothing has changed yet."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint

from goldticket.services import dual_control
from goldticket.services.context import Actor

from ._endpoint import Write, endpoint, portal
from .schemas import DualControlSetting, OperationQuery, Signed, WithReason

bp = Blueprint("operations", __name__)


def reviewed(present: Callable[[Any], Any] = lambda result: result) -> Callable[[Any], Any]:
    """``present`` for an answer, unless the operation was prepared for review."""
    return lambda result: result if dual_control.is_pending(result) else present(result)


def status_of(status: int) -> Callable[[Any], int]:
    return lambda answer: 202 if dual_control.is_pending(answer) else status


@endpoint(bp, "/me/dual-control", "GET", summary="The caller's member's maker-checker setting")
def get_setting(actor: Actor) -> Any:
    return dual_control.get_setting(portal().platform, actor.member_id)


@endpoint(
    bp,
    "/me/dual-control",
    "PUT",
    summary="A member's admin sets which operations above which amount need a reviewer",
    body=DualControlSetting,
    write=True,
)
def set_setting(actor: Actor, body: DualControlSetting, write: Write) -> Any:
    return write.run(
        lambda: dual_control.set_setting(
            portal().platform,
            actor,
            operations=list(body.operations),
            threshold_fen=body.threshold_fen,
            reviewers=list(body.reviewers),
            pin=body.pin,
        ),
        reviewed(),
        status_of(200),
    )


@endpoint(
    bp, "/operations", "GET", summary="The member's operations prepared for review", query=OperationQuery
)
def list_operations(actor: Actor, query: OperationQuery) -> Any:
    platform = portal().platform
    if query.status == "TO_REVIEW":
        items = dual_control.to_review(platform, actor)
    else:
        items = dual_control.list_operations(platform, actor, status=query.status)
    return {"items": items, "total": len(items)}


@endpoint(bp, "/operations/<operation_id>", "GET", summary="One operation: exactly what a reviewer signs")
def get_operation(actor: Actor, operation_id: str) -> Any:
    return dual_control.get_operation(portal().platform, actor, operation_id)


@endpoint(
    bp,
    "/operations/<operation_id>/approve",
    "POST",
    summary="A reviewer (another user of the member) signs the prepared operation: it runs",
    body=Signed,
    write=True,
)
def approve(actor: Actor, body: Signed, write: Write, operation_id: str) -> Any:
    return write.run(lambda: dual_control.approve(portal().platform, actor, operation_id, pin=body.pin))


@endpoint(
    bp,
    "/operations/<operation_id>/reject",
    "POST",
    summary="The maker withdraws, or a reviewer rejects, a prepared operation",
    body=WithReason,
    write=True,
)
def reject(actor: Actor, body: WithReason, write: Write, operation_id: str) -> Any:
    return write.run(
        lambda: dual_control.reject(portal().platform, actor, operation_id, reason=body.reason, pin=body.pin)
    )
