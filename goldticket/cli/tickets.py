"""``goldticket ticket``: issue, accept, transfer, finance, settle, freeze, show."""

from __future__ import annotations

from typing import Any

import click

from goldticket import domain as d

from ._common import as_option, handles_errors, out, pin_option, platform, read_command, write_command


@click.group()
def ticket() -> None:
    """Tickets: issue, accept, transfer, finance, settle, freeze, show."""


def _invoice(text: str) -> dict[str, Any]:
    number, sep, rest = text.partition(":")
    amount, sep2, digest = rest.partition(":")
    if not (sep and sep2 and amount.isdigit()):
        raise d.InvalidInputError("an invoice is NUMBER:AMOUNT_FEN:SHA256")
    return {"number": number, "amount_fen": int(amount), "sha256": digest}


@ticket.command("issue")
@as_option
@pin_option
@click.option("--payee", required=True)
@click.option("--amount-fen", type=int, required=True)
@click.option("--maturity-date", required=True)
@click.option("--invoice", "invoices", multiple=True, required=True, help="NUMBER:AMOUNT_FEN:SHA256")
@handles_errors
def ticket_issue(
    username: str, pin: str, payee: str, amount_fen: int, maturity_date: str, invoices: tuple[str, ...]
) -> None:
    from goldticket.services import tickets

    parsed = [_invoice(item) for item in invoices]
    with platform() as opened:
        out(
            tickets.issue_ticket(
                opened,
                opened.actor(username),
                payee_org_id=payee,
                amount_fen=amount_fen,
                maturity_date=maturity_date,
                invoices=parsed,
                pin=pin,
            )
        )


write_command(ticket, "accept", "tickets.accept_ticket", "Accept an issued ticket (payee).")
write_command(ticket, "reject", "tickets.reject_ticket", "Refuse an issued ticket (payee).", reason=True)
write_command(ticket, "cancel", "tickets.cancel_ticket", "Withdraw a ticket before acceptance (issuer).")
write_command(ticket, "freeze", "tickets.freeze_ticket", "Freeze a ticket (operator).", reason=True)
write_command(ticket, "unfreeze", "tickets.unfreeze_ticket", "Unfreeze a ticket (operator).")
write_command(ticket, "settle", "settlement.settle_ticket", "Settle a root ticket at maturity (issuer).")
read_command(ticket, "show", "tickets.get_ticket", "Show a ticket.")
read_command(ticket, "history", "tickets.ticket_history", "Every transaction that touched a ticket.")
read_command(ticket, "lineage", "tickets.ticket_lineage", "The tree from the root to today's pieces.")


@ticket.command("list")
@click.option("--holder")
@click.option("--root")
@click.option("--status")
@handles_errors
def ticket_list(holder: str | None, root: str | None, status: str | None) -> None:
    """Tickets by holder, root or status."""
    from goldticket.services import tickets

    with platform() as opened:
        out(tickets.list_tickets(opened, None, holder_org_id=holder, root_id=root, status=status))  # type: ignore[arg-type]


@ticket.command("transfer")
@as_option
@pin_option
@click.argument("ticket_id")
@click.option("--to", "to_org_id", required=True)
@click.option("--amount-fen", type=int, required=True)
@handles_errors
def ticket_transfer(username: str, pin: str, ticket_id: str, to_org_id: str, amount_fen: int) -> None:
    """Offer part or all of a ticket to another member (holder)."""
    from goldticket.services import transfers

    with platform() as opened:
        out(
            transfers.offer_transfer(
                opened,
                opened.actor(username),
                ticket_id=ticket_id,
                to_org_id=to_org_id,
                amount_fen=amount_fen,
                pin=pin,
            )
        )


@ticket.command("finance")
@as_option
@pin_option
@click.argument("ticket_id")
@click.option("--bank", "bank_org_id", required=True)
@click.option("--amount-fen", type=int, required=True)
@handles_errors
def ticket_finance(username: str, pin: str, ticket_id: str, bank_org_id: str, amount_fen: int) -> None:
    """Apply to a bank to discount part or all of a ticket (holder)."""
    from goldticket.services import financing

    with platform() as opened:
        out(
            financing.apply_financing(
                opened,
                opened.actor(username),
                ticket_id=ticket_id,
                bank_org_id=bank_org_id,
                amount_fen=amount_fen,
                pin=pin,
            )
        )
