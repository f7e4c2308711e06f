"""``goldticket offer``: transfer offers."""

from __future__ import annotations

import click

from ._common import write_command


@click.group()
def offer() -> None:
    """Transfer offers."""


write_command(offer, "accept", "transfers.accept_offer", "Accept a transfer offer (payee).")
write_command(offer, "reject", "transfers.reject_offer", "Refuse a transfer offer (payee).")
write_command(offer, "cancel", "transfers.cancel_offer", "Withdraw a transfer offer (holder).")
