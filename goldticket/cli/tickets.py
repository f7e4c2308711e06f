"""``goldticket ticket``: issue, accept, transfer, finance, settle, freeze, show."""

from __future__ import annotations

import hashlib
import re
import sys
from collections.abc import Callable
from typing import Any

import click

from goldticket import domain as d

from ._common import (
    amount_of,
    amount_options,
    as_option,
    authenticated,
    confirm_amount,
    handles_errors,
    money_pin_option,
    out,
    pin_option,
    platform,
    portal,
    read_command,
    reader_options,
    write_command,
)


@click.group()
def ticket() -> None:
    """Tickets: issue, accept, transfer, finance, settle, freeze, show."""


def _invoice(text: str) -> dict[str, Any]:
    number, sep, rest = text.partition(":")
    amount, sep2, digest = rest.partition(":")
    if not (sep and sep2 and amount.isdigit()):
        raise d.InvalidInputError("an invoice is NUMBER:AMOUNT_FEN:SHA256")
    return {"number": number, "amount_fen": int(amount), "sha256": digest}


def _invoice_file(text: str) -> dict[str, Any]:
    """NUMBER:AMOUNT:PATH with the amount in yuan (as --amount); the document's SHA-256 is
    computed here from the file, which stays where it is."""
    parts = text.split(":", 2)
    if len(parts) != 3 or not all(parts):
        raise d.InvalidInputError(
            "an invoice file is NUMBER:AMOUNT:PATH, e.g. INV-1:1,000,000.00:invoice.pdf"
        )
    number, amount, path = parts
    try:
        with open(path, "rb") as document:
            digest = hashlib.file_digest(document, "sha256").hexdigest()
    except OSError as error:
        raise d.InvalidInputError(f"cannot read the invoice document {path}: {error.strerror}") from None
    return {"number": number, "amount_fen": d.parse_amount(amount), "sha256": digest}


@ticket.command("issue")
@as_option
@money_pin_option
@click.option("--payee", required=True)
@amount_options()
@click.option("--maturity-date", required=True)
@click.option("--invoice", "invoices", multiple=True, help="NUMBER:AMOUNT_FEN:SHA256 (for scripts)")
@click.option(
    "--invoice-file",
    "invoice_files",
    multiple=True,
    help="NUMBER:AMOUNT:PATH, the amount in yuan; the document's SHA-256 is computed from the file",
)
@click.option(
    "--credit-line",
    "credit_line_id",
    default=None,
    help="the id of your active credit line to draw on (default: the first with room)",
)
@click.option(
    "--term-reason",
    default=None,
    help="why the term is over six months (required then; recorded with the ticket)",
)
@click.option(
    "--grace-days",
    type=int,
    default=None,
    help="days after maturity before an unpaid piece may be marked overdue (0-30; default 3)",
)
@handles_errors
def ticket_issue(
    username: str,
    pin: str | None,
    payee: str,
    amount_text: str | None,
    amount_fen: int | None,
    yes: bool,
    maturity_date: str,
    invoices: tuple[str, ...],
    invoice_files: tuple[str, ...],
    credit_line_id: str | None,
    term_reason: str | None,
    grace_days: int | None,
) -> None:
    """Issue a ticket to a supplier against invoices (core enterprise)."""
    from goldticket.services import tickets

    parsed = [_invoice(item) for item in invoices] + [_invoice_file(item) for item in invoice_files]
    if not parsed:
        raise d.InvalidInputError("name the invoices: --invoice-file NUMBER:AMOUNT:PATH (or --invoice)")
    amount_fen = amount_of(amount_text, amount_fen)
    with platform() as opened:
        pin = confirm_amount(f"issue a ticket to {payee} due {maturity_date}", amount_fen, pin=pin, yes=yes)
        out(
            tickets.issue_ticket(
                opened,
                opened.actor(username),
                payee_org_id=payee,
                amount_fen=amount_fen,
                maturity_date=maturity_date,
                invoices=parsed,
                credit_line_id=credit_line_id,
                term_reason=term_reason,
                grace_days=grace_days,
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


@click.group()
def statement() -> None:
    """Clearing statements (清分) of settled tickets."""


@statement.command("show")
@click.argument("root_id")
@handles_errors
def statement_show(root_id: str) -> None:
    """The clearing statement of a settled root ticket: who was paid what."""
    from goldticket.services import pending

    with platform() as opened:
        found = pending.statements(opened, root_id)
        if not found:
            raise d.NotFoundError(f"ticket {root_id} has no statement yet: its issuer settles it at maturity")
        out(found[-1])


def _write_file(path: str, data: bytes) -> None:
    """Write a downloaded file (``-`` for stdout), then name it on stderr."""
    if path == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    try:
        with open(path, "wb") as target:
            target.write(data)
    except OSError as error:
        raise d.InvalidInputError(f"cannot write {path}: {error.strerror}") from None
    click.echo(f"wrote {path} ({len(data):,} bytes)", err=True)


_FORMAT = click.Choice(["csv", "xlsx"])
_LANG = click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", help="column titles")
_OUT = click.option("--out", "out_path", required=True, help="the file to write (- for stdout)")


def _statement_read(fn: Callable[..., Any]) -> Callable[..., Any]:
    """A user's read of one clearing statement: ``--as``, how it proves who it is, ROOT_ID and
    STATEMENT_ID (the same order as each decorator written out above the command)."""
    for decorator in reversed(
        (as_option, reader_options, click.argument("root_id"), click.argument("statement_id"))
    ):
        fn = decorator(fn)
    return fn


@statement.command("export")
@_statement_read
@click.option("--format", "fmt", type=_FORMAT, default="csv")
@_OUT
@_LANG
@handles_errors
def statement_export(
    username: str, root_id: str, statement_id: str, fmt: str, out_path: str, lang: str, **credentials: Any
) -> None:
    """The clearing statement as CSV or XLSX: the lines your member may read (#21)."""
    from goldticket.services import exports

    with portal() as opened:
        actor = authenticated(opened.platform, username, **credentials)
        made = exports.export_statement(opened, actor, root_id, statement_id, fmt, language=lang)
        _write_file(out_path, made.data)


@statement.command("payment-file")
@_statement_read
@click.option(
    "--format", "fmt", type=click.Choice(["xml", "csv", "xlsx"]), default="xml",
    help="xml: the ISO 20022 pain.001.001.09 file for your bank; csv or xlsx: the same transfers",
)  # fmt: skip
@_OUT
@_LANG
@handles_errors
def statement_payment_file(
    username: str, root_id: str, statement_id: str, fmt: str, out_path: str, lang: str, **credentials: Any
) -> None:
    """The settlement's payment file for the issuer's bank (the issuer only, #21)."""
    from goldticket.services import exports, payments

    with portal() as opened:
        actor = authenticated(opened.platform, username, **credentials)
        if fmt == "xml":
            _, data = payments.statement_payment_file(opened, actor, root_id, statement_id)
        else:
            data = exports.export_payment_file(opened, actor, root_id, statement_id, fmt, language=lang).data
        _write_file(out_path, data)


@statement.command("reconciliation")
@_statement_read
@click.option(
    "--format", "fmt", type=_FORMAT, default=None, help="write the report as CSV or XLSX (with --out)"
)
@click.option("--out", "out_path", default=None, help="the file to write (- for stdout)")
@_LANG
@handles_errors
def statement_reconciliation(
    username: str,
    root_id: str,
    statement_id: str,
    fmt: str | None,
    out_path: str | None,
    lang: str,
    **credentials: Any,
) -> None:
    """Each piece the statement pays with what the issuer's bank booked for it (#21)."""
    from goldticket.services import exports, reconciliation

    if (fmt is None) != (out_path is None):
        raise d.InvalidInputError("give --format and --out together, or neither to show the report")
    with portal() as opened:
        actor = authenticated(opened.platform, username, **credentials)
        if fmt is None:
            out(reconciliation.reconciliation(opened, actor, root_id, statement_id))
            return
        made = exports.export_reconciliation(opened, actor, root_id, statement_id, fmt, language=lang)
        _write_file(str(out_path), made.data)


@statement.command("import-bank")
@as_option
@pin_option
@click.argument("root_id")
@click.argument("statement_id")
@click.option("--file", "xml_file", required=True, type=click.Path(exists=True, dir_okay=False),
              help="the bank's camt.053.001.08 statement or camt.054.001.08 debit notification")  # fmt: skip
@handles_errors
def statement_import_bank(username: str, pin: str, root_id: str, statement_id: str, xml_file: str) -> None:
    """Record what your bank booked for the statement's pieces on the ledger (PAID, partly paid);
    the rest is reported (the issuer, #21)."""
    from goldticket.services import reconciliation

    with open(xml_file, "rb") as source:
        xml = source.read()
    with portal() as opened:
        out(
            reconciliation.import_bank_statement(
                opened, opened.platform.actor(username), root_id, statement_id, xml, pin=pin
            )
        )


@ticket.command("export")
@as_option
@reader_options
@click.option("--holder")
@click.option("--root")
@click.option("--status", help="any case: active, locked_transfer, settled, ...")
@click.option("--format", "fmt", type=_FORMAT, default="csv")
@_OUT
@_LANG
@handles_errors
def ticket_export(
    username: str,
    holder: str | None,
    root: str | None,
    status: str | None,
    fmt: str,
    out_path: str,
    lang: str,
    **credentials: Any,
) -> None:
    """The tickets your member may see (by holder, root or status; e.g. your holdings, what you
    issued, financed or settled) as CSV or XLSX (#21)."""
    from goldticket.services import exports, pending, reads

    with portal() as opened:
        actor = authenticated(opened.platform, username, **credentials)
        wanted = pending.ticket_status(status)
        find = reads.TicketFilter(status=wanted) if wanted else reads.TicketFilter()
        made = exports.export_tickets(
            opened, actor, fmt, language=lang, holder_org_id=holder, root_id=root, find=find
        )
        _write_file(out_path, made.data)


@ticket.command("list")
@click.option(
    "--as", "username", envvar="GOLDTICKET_USER", default=None, help="list what this user's member holds"
)
@click.option("--holder")
@click.option("--root")
@click.option("--status", help="any case: active, locked_transfer, settled, ...")
@reader_options
@handles_errors
def ticket_list(
    username: str | None,
    holder: str | None,
    root: str | None,
    status: str | None,
    **credentials: Any,
) -> None:
    """Tickets by holder, root or status; with none of them, what your member holds (--as, with
    your login password or an API token; never the card PIN)."""
    from goldticket.services import pending, tickets

    wanted = pending.ticket_status(status)
    with platform() as opened:
        if not (holder or root or wanted):
            if username is None:
                raise d.InvalidInputError(
                    "give --as USER (or GOLDTICKET_USER) to list what your member holds,"
                    " or --holder, --root or --status"
                )
            holder = authenticated(opened, username, **credentials).member_id
        out(tickets.list_tickets(opened, None, holder_org_id=holder, root_id=root, status=wanted))  # type: ignore[arg-type]


@ticket.command("transfer")
@as_option
@money_pin_option
@click.argument("ticket_id")
@click.option("--to", "to_org_id", required=True)
@amount_options()
@handles_errors
def ticket_transfer(
    username: str,
    pin: str | None,
    ticket_id: str,
    to_org_id: str,
    amount_text: str | None,
    amount_fen: int | None,
    yes: bool,
) -> None:
    """Offer part or all of a ticket to another member (holder)."""
    from goldticket.services import transfers

    amount_fen = amount_of(amount_text, amount_fen)
    with platform() as opened:
        pin = confirm_amount(f"transfer from {ticket_id} to {to_org_id}", amount_fen, pin=pin, yes=yes)
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


def rate_percent(text: str) -> int:
    """``--max-rate`` in percent a year, at most two decimals (``3.5``, ``3.50%``) -> basis points."""
    cleaned = text.strip().removesuffix("%").strip()
    if not re.fullmatch(r"[0-9]{1,3}(\.[0-9]{1,2})?", cleaned):
        raise d.InvalidInputError(
            f"--max-rate is a percent a year with at most two decimals, e.g. 3.5; not {text!r}"
        )
    whole, _, cents = cleaned.partition(".")
    return d.require_rate_bp(int(whole) * 100 + int(cents.ljust(2, "0") or 0), "--max-rate")


@ticket.command("finance")
@as_option
@money_pin_option
@click.argument("ticket_id")
@click.option("--bank", "bank_org_id", required=True)
@click.option(
    "--max-rate",
    "max_rate",
    required=True,
    help="the highest annual rate you accept, in PERCENT (3.5 = 3.50 %/year = 350 bp); the bank cannot approve above it",
)
@click.option(
    "--recourse/--without-recourse",
    "recourse",
    default=None,
    help="with recourse (有追索: the bank may demand payment of you and earlier holders if the issuer "
    "does not pay) or without (无追索, the default)",
)
@amount_options()
@handles_errors
def ticket_finance(
    username: str,
    pin: str | None,
    ticket_id: str,
    bank_org_id: str,
    max_rate: str,
    amount_text: str | None,
    amount_fen: int | None,
    yes: bool,
    recourse: bool | None,
) -> None:
    """Apply to a bank to discount part or all of a ticket (holder), at most at --max-rate. The
    confirmation shows what you get at worst (that rate, the bank's fee and day basis, from
    today): interest, fee, proceeds and the annualised total cost (#21, fee transparency)."""
    from goldticket.services import access, financing, members

    amount_fen = amount_of(amount_text, amount_fen)
    max_rate_bp = rate_percent(max_rate)
    with platform() as opened:
        actor = opened.actor(username)
        access.require_holder(opened, actor, ticket_id)
        bank = members.get_member(opened, bank_org_id)
        worst = financing.quote(
            amount_fen=amount_fen,
            annual_rate_bp=max_rate_bp,
            value_date=opened.today(),
            maturity_date=access.ticket(opened, ticket_id)["maturity_date"],
            day_basis=int(bank.get("day_basis") or 360),
            fee_bp=int(bank.get("fee_bp") or 0),
        )
        cost = worst.annualised_cost_bp
        pin = confirm_amount(
            f"ask {bank_org_id} to discount {ticket_id} at most at {d.format_rate(max_rate_bp)} a year"
            f" ({worst.days} days: interest at most {d.format_fen(worst.discount_interest_fen)},"
            f" fee {d.format_fen(worst.fee_fen)}, proceeds at least {d.format_fen(worst.proceeds_fen)},"
            f" annualised total cost at most {d.format_rate(cost) if cost is not None else '-'})",
            amount_fen,
            pin=pin,
            yes=yes,
        )
        out(
            financing.apply_financing(
                opened,
                actor,
                ticket_id=ticket_id,
                bank_org_id=bank_org_id,
                amount_fen=amount_fen,
                max_annual_rate_bp=max_rate_bp,
                recourse=recourse,
                pin=pin,
            )
        )
