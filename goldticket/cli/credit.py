"""``goldticket credit``: credit lines banks grant core enterprises."""

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
    """A bank grants a core enterprise a credit line."""
    from goldticket.services import credit as credit_service

    limit_fen = amount_of(limit_text, limit_fen, "limit")
    with platform() as opened:
        pin = confirm_amount(f"grant {core_org_id} a credit line", limit_fen, pin=pin, yes=yes)
        out(
            credit_service.grant_credit_line(
                opened, opened.actor(username), core_org_id=core_org_id, limit_fen=limit_fen, pin=pin
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
