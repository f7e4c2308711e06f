"""``goldticket financing``: financing applications, approved or declined by the bank."""

from __future__ import annotations

from typing import Any

import click

from ._common import as_option, authenticated, handles_errors, out, pin_option, platform, reader_options


@click.command("list")
@as_option
@click.option("--to-me", "direction", flag_value="to-me", help="applications to your bank")
@click.option("--from-me", "direction", flag_value="from-me", help="applications your member made")
@reader_options
@handles_errors
def financing_list(username: str, direction: str | None, **credentials: Any) -> None:
    """Open financing applications to your bank or from your member (both by default)."""
    from goldticket.services import pending

    with platform() as opened:
        actor = authenticated(opened, username, **credentials)
        out(pending.open_applications(opened, actor, direction or "all"))


@click.group("financing")
def financing_group() -> None:
    """Financing applications."""


financing_group.add_command(financing_list)


@financing_group.command("approve")
@as_option
@pin_option
@click.argument("application_id")
@click.option("--annual-rate-bp", type=int, required=True)
@click.option("--value-date", required=True)
@handles_errors
def financing_approve(
    username: str, pin: str, application_id: str, annual_rate_bp: int, value_date: str
) -> None:
    """The bank approves a financing application at an annual rate from a value date."""
    from goldticket.services import financing

    with platform() as opened:
        out(
            financing.approve_financing(
                opened,
                opened.actor(username),
                application_id=application_id,
                annual_rate_bp=annual_rate_bp,
                value_date=value_date,
                pin=pin,
            )
        )


@financing_group.command("reject")
@as_option
@pin_option
@click.argument("application_id")
@click.option("--reason", required=True)
@handles_errors
def financing_reject(username: str, pin: str, application_id: str, reason: str) -> None:
    """The bank declines a financing application."""
    from goldticket.services import financing

    with platform() as opened:
        out(
            financing.reject_financing(
                opened, opened.actor(username), application_id=application_id, reason=reason, pin=pin
            )
        )
