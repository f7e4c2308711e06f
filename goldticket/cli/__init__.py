"""The ``goldticket`` command: one module per command group (init, quote and demo in
``basics``), all joined here under :func:`main`."""

from __future__ import annotations

import click

from . import (
    _common,
    basics,
    cards,
    certificates,
    credit,
    documents,
    financing,
    ledger,
    members,
    notify,
    offers,
    operations,
    overdue,
    portal,
    review,
    signer,
    tickets,
    users,
)


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
    tickets.statement,
    offers.offer,
    financing.financing_group,
    overdue.overdue_group,
    portal.serve,
    portal.reindex,
    ledger.ledger_group,
    certificates.certificate,
    documents.document,
    operations.operations_group,
    notify.notify_group,
    review.review_group,
):
    main.add_command(command)


def _with_json_flag(command: click.Command) -> None:
    """Every command that prints a result takes --json (quote has its own)."""
    if isinstance(command, click.Group):
        for child in command.commands.values():
            _with_json_flag(child)
    elif not any("--json" in getattr(param, "opts", ()) for param in command.params):
        command.params.append(_common.json_flag())


_with_json_flag(main)

__all__ = ["main"]
