"""The ``goldticket`` command: one module per command group (init, quote and demo in
``basics``), all joined here under :func:`main`."""

from __future__ import annotations

import click

from . import basics, cards, credit, financing, ledger, members, offers, portal, signer, tickets, users


@click.group()
@click.version_option(package_name="goldticket")
def main() -> None:
    """GoldTicket: gold tickets (金票) on a Fabric ledger. Data lives in GOLDTICKET_DATA_DIR (./var)."""


for command in (
    basics.init,
    basics.quote,
    basics.demo,
    basics.backup,
    basics.restore,
    members.member,
    users.user,
    cards.card,
    signer.signer,
    credit.credit,
    tickets.ticket,
    offers.offer,
    financing.financing_group,
    portal.serve,
    portal.reindex,
    ledger.ledger_group,
):
    main.add_command(command)

__all__ = ["main"]
