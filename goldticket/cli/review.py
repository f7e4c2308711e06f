"""``goldticket review``: maker-checker (经办/复核, #20). A member's admin sets which operations
above which amount need a reviewer; a reviewer lists what waits, reads exactly the intent it will
sign, and approves (signing with their own card) or rejects it."""

from __future__ import annotations

from typing import Any

import click

from ._common import (
    amount_of,
    as_option,
    authenticated,
    handles_errors,
    out,
    pin_option,
    platform,
    reader_options,
)


@click.group("review")
def review_group() -> None:
    """Maker-checker: the setting, operations waiting for review, approve or reject."""


@review_group.command("setting")
@as_option
@reader_options
@handles_errors
def review_setting(username: str, **credentials: Any) -> None:
    """Your member's setting: the operations that need a reviewer and the amount above which."""
    from goldticket.services import dual_control

    with platform() as opened:
        actor = authenticated(opened, username, **credentials)
        out(dual_control.get_setting(opened, actor.member_id))


@review_group.command("set")
@as_option
@pin_option
@click.option(
    "--operation",
    "operations",
    multiple=True,
    type=click.Choice(["issue", "transfer", "approve_financing", "settle"]),
    help="an operation that needs a reviewer (repeat; none turns maker-checker off)",
)
@click.option("--above", "above_text", default=None, help="the amount in yuan above which it applies")
@click.option("--above-fen", "above_fen", type=int, default=None, help="the same in fen")
@click.option(
    "--reviewer", "reviewers", multiple=True, help="a user besides the admins who may review (repeat)"
)
@handles_errors
def review_set(
    username: str,
    pin: str,
    operations: tuple[str, ...],
    above_text: str | None,
    above_fen: int | None,
    reviewers: tuple[str, ...],
) -> None:
    """An admin sets the member's maker-checker setting, signed with the admin's card."""
    from goldticket.services import dual_control

    threshold = 0 if above_text is None and above_fen is None else amount_of(above_text, above_fen, "above")
    with platform() as opened:
        out(
            dual_control.set_setting(
                opened,
                opened.actor(username),
                operations=list(operations),
                threshold_fen=threshold,
                reviewers=list(reviewers),
                pin=pin,
            )
        )


@review_group.command("list")
@as_option
@reader_options
@click.option(
    "--all", "everything", is_flag=True, help="every operation of the member, not only yours to review"
)
@handles_errors
def review_list(username: str, everything: bool, **credentials: Any) -> None:
    """The operations waiting for your review (another user's, not expired)."""
    from goldticket.services import dual_control

    with platform() as opened:
        actor = authenticated(opened, username, **credentials)
        items = (
            dual_control.list_operations(opened, actor)
            if everything
            else dual_control.to_review(opened, actor)
        )
        out({"items": items, "total": len(items)})


@review_group.command("show")
@as_option
@reader_options
@click.argument("operation_id")
@handles_errors
def review_show(username: str, operation_id: str, **credentials: Any) -> None:
    """One operation: the function and request a reviewer signs, its SHA-256, maker and status."""
    from goldticket.services import dual_control

    with platform() as opened:
        out(dual_control.get_operation(opened, authenticated(opened, username, **credentials), operation_id))


@review_group.command("approve")
@as_option
@pin_option
@click.argument("operation_id")
@handles_errors
def review_approve(username: str, pin: str, operation_id: str) -> None:
    """Sign the prepared operation with your own card (not its maker's): it runs now."""
    from goldticket.services import dual_control

    with platform() as opened:
        out(dual_control.approve(opened, opened.actor(username), operation_id, pin=pin))


@review_group.command("reject")
@as_option
@pin_option
@click.argument("operation_id")
@click.option("--reason", required=True, help="why it is rejected (or withdrawn by its maker)")
@handles_errors
def review_reject(username: str, pin: str, operation_id: str, reason: str) -> None:
    """Close a prepared operation unexecuted (its maker withdrawing, or a reviewer)."""
    from goldticket.services import dual_control

    with platform() as opened:
        out(dual_control.reject(opened, opened.actor(username), operation_id, reason=reason, pin=pin))
