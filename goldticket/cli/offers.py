"""``goldticket offer``: transfer offers."""

from __future__ import annotations

from typing import Any

import click

from ._common import as_option, authenticated, handles_errors, out, platform, reader_options, write_command


@click.group()
def offer() -> None:
    """Transfer offers."""


write_command(offer, "accept", "transfers.accept_offer", "Accept a transfer offer (payee).")
write_command(offer, "reject", "transfers.reject_offer", "Refuse a transfer offer (payee).")
write_command(offer, "cancel", "transfers.cancel_offer", "Withdraw a transfer offer (holder).")


@offer.command("list")
@as_option
@click.option("--to-me", "direction", flag_value="to-me", help="offers your member may accept or reject")
@click.option("--from-me", "direction", flag_value="from-me", help="offers your member made")
@reader_options
@handles_errors
def offer_list(username: str, direction: str | None, **credentials: Any) -> None:
    """Open transfer offers to or from your member (both by default)."""
    from goldticket.services import pending

    with platform() as opened:
        actor = authenticated(opened, username, **credentials)
        out(pending.open_offers(opened, actor, direction or "all"))
