"""``goldticket credit``: a bank offers a core enterprise a credit line (``grant``), the core
``accept``s or ``decline``s it; only accepted lines are drawn."""

from __future__ import annotations

import click

from ._common import (
    amount_of,
    amount_options,
    as_option,
    confirm_amount,
    handles_errors,
    money_pin_option,
    out,
    pin_option,
    platform,
)


@click.group()
def credit() -> None:
    """Credit lines."""


@credit.command("grant")
@as_option
@money_pin_option
@click.option("--core", "core_org_id", required=True)
@amount_options("limit")
@handles_errors
def credit_grant(
    username: str, pin: str | None, core_org_id: str, limit_text: str | None, limit_fen: int | None, yes: bool
) -> None:
    """A bank offers a core enterprise a credit line (status offered until the core accepts)."""
    from goldticket.services import credit as credit_service

    limit_fen = amount_of(limit_text, limit_fen, "limit")
    with platform() as opened:
        pin = confirm_amount(f"offer {core_org_id} a credit line", limit_fen, pin=pin, yes=yes)
        out(
            credit_service.grant_credit_line(
                opened, opened.actor(username), core_org_id=core_org_id, limit_fen=limit_fen, pin=pin
            )
        )


@credit.command("accept")
@as_option
@pin_option
@click.argument("credit_line_id")
@handles_errors
def credit_accept(username: str, pin: str, credit_line_id: str) -> None:
    """The core enterprise accepts a credit line offered to it: tickets may draw on it."""
    from goldticket.services import credit as credit_service

    with platform() as opened:
        out(
            credit_service.accept_credit_line(
                opened, opened.actor(username), credit_line_id=credit_line_id, pin=pin
            )
        )


@credit.command("decline")
@as_option
@pin_option
@click.argument("credit_line_id")
@handles_errors
def credit_decline(username: str, pin: str, credit_line_id: str) -> None:
    """The core enterprise declines a credit line offered to it: it is never drawn."""
    from goldticket.services import credit as credit_service

    with platform() as opened:
        out(
            credit_service.decline_credit_line(
                opened, opened.actor(username), credit_line_id=credit_line_id, pin=pin
            )
        )


@credit.command("list")
@click.option("--core", "core_org_id")
@handles_errors
def credit_list(core_org_id: str | None) -> None:
    """Credit lines, of one core enterprise with --core."""
    from goldticket.services import credit as credit_service

    with platform() as opened:
        out(credit_service.list_credit_lines(opened, None, core_org_id))  # type: ignore[arg-type]
