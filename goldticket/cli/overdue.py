"""``goldticket overdue``: overdue pieces and demands for payment (逾期与追索, #21)."""

from __future__ import annotations

from pathlib import Path
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


@click.group("overdue")
def overdue_group() -> None:
    """Overdue pieces: mark, demand payment (追索), close a demand."""


@overdue_group.command("list")
@as_option
@reader_options
@handles_errors
def overdue_list(username: str, **credentials: Any) -> None:
    """The overdue pieces your member holds or issued, or of which payment was demanded of it."""
    from goldticket.services import recourse

    with platform() as opened:
        out(recourse.list_overdue(opened, authenticated(opened, username, **credentials)))


@overdue_group.command("show")
@as_option
@reader_options
@click.argument("ticket_id")
@handles_errors
def overdue_show(username: str, ticket_id: str, **credentials: Any) -> None:
    """A piece's overdue record, its demands, what is unpaid and whom its holder may demand of."""
    from goldticket.services import recourse

    with platform() as opened:
        out(recourse.overdue_detail(opened, authenticated(opened, username, **credentials), ticket_id))


@overdue_group.command("mark")
@as_option
@pin_option
@click.argument("ticket_id")
@handles_errors
def overdue_mark(username: str, pin: str, ticket_id: str) -> None:
    """Mark an unpaid piece OVERDUE after maturity plus grace days (its holder or the operator)."""
    from goldticket.services import recourse

    with platform() as opened:
        out(recourse.mark_overdue(opened, opened.actor(username), ticket_id, pin=pin))


@overdue_group.command("demand")
@as_option
@pin_option
@click.argument("ticket_id")
@click.option(
    "--of", "obligor_org_id", required=True, help="the issuer, or an earlier holder (with recourse)"
)
@click.option("--amount", "amount_text", default=None, help="in yuan (default: all that is unpaid)")
@click.option("--amount-fen", "amount_fen", type=int, default=None, help="in fen")
@handles_errors
def overdue_demand(
    username: str,
    pin: str,
    ticket_id: str,
    obligor_org_id: str,
    amount_text: str | None,
    amount_fen: int | None,
) -> None:
    """Demand payment of an overdue piece (its holder): all that is unpaid unless an amount is
    given. The signed demand document's SHA-256 goes on the ledger."""
    from goldticket.services import recourse

    amount = amount_of(amount_text, amount_fen) if (amount_text or amount_fen is not None) else None
    with platform() as opened:
        out(
            recourse.demand_payment(
                opened,
                opened.actor(username),
                ticket_id,
                obligor_org_id=obligor_org_id,
                amount_fen=amount,
                pin=pin,
            )
        )


@overdue_group.command("document")
@as_option
@reader_options
@click.argument("ticket_id")
@click.argument("demand_id")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), required=True)
@handles_errors
def overdue_document(username: str, ticket_id: str, demand_id: str, output: Path, **credentials: Any) -> None:
    """Save a demand's signed document (追索通知书, PDF)."""
    from goldticket.services import recourse

    with platform() as opened:
        data = recourse.demand_pdf(
            opened, authenticated(opened, username, **credentials), ticket_id, demand_id
        )
    output.write_bytes(data)
    out({"saved": str(output), "bytes": len(data)})


@overdue_group.command("close")
@as_option
@pin_option
@click.argument("ticket_id")
@click.argument("demand_id")
@click.option(
    "--paid", "outcome", flag_value="paid", help="paid (by the bank, or --reference: the obligor paid you)"
)
@click.option("--written-off", "outcome", flag_value="written_off", help="give up the claim (holder)")
@click.option("--reference", "payment_reference", default=None, help="the payment's reference (holder)")
@handles_errors
def overdue_close(
    username: str,
    pin: str,
    ticket_id: str,
    demand_id: str,
    outcome: str | None,
    payment_reference: str | None,
) -> None:
    """Close a demand as paid or written off."""
    from goldticket import domain as d
    from goldticket.services import recourse

    if outcome is None:
        raise d.InvalidInputError("say how it closes: --paid or --written-off")
    with platform() as opened:
        out(
            recourse.close_demand(
                opened,
                opened.actor(username),
                ticket_id,
                demand_id,
                outcome=outcome,
                payment_reference=payment_reference,
                pin=pin,
            )
        )
