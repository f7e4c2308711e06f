"""``goldticket credit``: credit lines banks grant core enterprises."""

from __future__ import annotations

import click

from ._common import as_option, handles_errors, out, pin_option, platform


@click.group()
def credit() -> None:
    """Credit lines."""


@credit.command("grant")
@as_option
@pin_option
@click.option("--core", "core_org_id", required=True)
@click.option("--limit-fen", type=int, required=True)
@handles_errors
def credit_grant(username: str, pin: str, core_org_id: str, limit_fen: int) -> None:
    """A bank grants a core enterprise a credit line."""
    from goldticket.services import credit as credit_service

    with platform() as opened:
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
