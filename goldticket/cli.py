"""The ``goldticket`` command line: init, quote, demo, and one command per operation."""

from __future__ import annotations

import contextlib
import functools
import json
import sys
from collections.abc import Callable, Iterator
from typing import Any

import click

from goldticket import domain as d
from goldticket.ledger import LedgerError
from goldticket.settings import ConfigError, Settings

EXIT_CODES = {"invalid_input": 2, "not_found": 3, "forbidden": 4, "conflict": 5, "rule_violation": 6}


def _fail(code: str, message: str) -> None:
    click.echo(f"error: {code}: {message}", err=True)
    sys.exit(EXIT_CODES.get(code, 1))


def handles_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Typed errors become one line on stderr and a non-zero exit; nothing else is printed."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (d.DomainError, ConfigError) as error:
            _fail(error.code, str(error))
        except LedgerError as error:
            _fail(error.code, str(error))

    return run


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except ConfigError as error:
        _fail(error.code, str(error))
        raise


@contextlib.contextmanager
def _platform() -> Iterator[Any]:
    from goldticket.services import Platform

    platform = Platform.open(_settings())
    try:
        yield platform
    finally:
        platform.close()


def _out(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True))


def _as_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--as", "username", required=True, help="the acting user")(fn)


@click.group()
@click.version_option(package_name="goldticket")
def main() -> None:
    """GoldTicket: gold tickets (金票) on a Fabric ledger. Data lives in GOLDTICKET_DATA_DIR (./var)."""


@main.command()
@handles_errors
def init() -> None:
    """Create the data directory, ledger, org CAs and the operator admin (idempotent)."""
    from goldticket.services import Platform

    settings = _settings()
    platform = Platform.init(settings)
    click.echo(
        f"GoldTicket ready in {settings.data_dir} ({platform.ledger.kind} ledger, height {platform.ledger.height()})"
    )
    platform.close()


@main.command()
@click.option("--amount-fen", type=int, required=True)
@click.option("--annual-rate-bp", type=int, required=True)
@click.option("--value-date", required=True)
@click.option("--maturity-date", required=True)
@click.option("--day-basis", type=click.Choice(["360", "365"]), default="360")
@click.option("--fee-bp", type=int, default=0)
@click.option(
    "--json", "as_json", is_flag=True, help="print days, discount_interest_fen, fee_fen, proceeds_fen"
)
@handles_errors
def quote(
    amount_fen: int,
    annual_rate_bp: int,
    value_date: str,
    maturity_date: str,
    day_basis: str,
    fee_bp: int,
    as_json: bool,
) -> None:
    """Days, discount interest and proceeds of discounting a ticket."""
    from goldticket.services.financing import quote as make_quote

    result = make_quote(
        amount_fen=amount_fen,
        annual_rate_bp=annual_rate_bp,
        value_date=value_date,
        maturity_date=maturity_date,
        day_basis=int(day_basis),
        fee_bp=fee_bp,
    )
    if as_json:
        _out(
            {
                "days": result.days,
                "discount_interest_fen": result.discount_interest_fen,
                "fee_fen": result.fee_fen,
                "proceeds_fen": result.proceeds_fen,
            }
        )
        return
    click.echo(f"amount            {d.format_fen(result.amount_fen)}")
    click.echo(f"days              {result.days}")
    click.echo(f"discount interest {d.format_fen(result.discount_interest_fen)}")
    click.echo(f"fee               {d.format_fen(result.fee_fen)}")
    click.echo(f"proceeds          {d.format_fen(result.proceeds_fen)}")


@main.command()
@handles_errors
def demo() -> None:
    """Build a demo consortium and run a whole life cycle, printing each step."""
    from goldticket.services import Platform
    from goldticket.services.demo import run_demo

    platform = Platform.init(_settings())
    try:
        run_demo(platform, click.echo)
    finally:
        platform.close()


# ----------------------------------------------------------------- operator desk
@main.group()
def member() -> None:
    """Members (organisations)."""


@member.command("add")
@_as_option
@click.option("--id", "member_id", required=True)
@click.option("--name", required=True)
@click.option("--name-en", default="")
@click.option("--role", type=click.Choice(["core", "supplier", "bank"]), required=True)
@click.option("--day-basis", type=click.Choice(["360", "365"]), default="360")
@click.option("--fee-bp", type=int, default=0)
@handles_errors
def member_add(
    username: str, member_id: str, name: str, name_en: str, role: str, day_basis: str, fee_bp: int
) -> None:
    from goldticket.services import members

    with _platform() as platform:
        _out(
            members.register_member(
                platform,
                platform.actor(username),
                member_id=member_id,
                name=name,
                role=role,
                name_en=name_en,
                day_basis=int(day_basis),
                fee_bp=fee_bp,
            )
        )


@member.command("list")
@_as_option
@handles_errors
def member_list(username: str) -> None:
    from goldticket.services import members

    with _platform() as platform:
        _out(members.list_members(platform, platform.actor(username)))


@main.group()
def user() -> None:
    """Users and their signing identities."""


@user.command("add")
@_as_option
@click.option("--member", "member_id", required=True)
@click.option("--username", "new_username", required=True)
@click.option("--role", type=click.Choice(["admin", "clerk"]), default="clerk")
@handles_errors
def user_add(username: str, member_id: str, new_username: str, role: str) -> None:
    from goldticket.services import members

    with _platform() as platform:
        actor = members.add_user(
            platform, platform.actor(username), member_id=member_id, username=new_username, role=role
        )
        _out(
            {"username": actor.username, "member_id": actor.member_id, "msp_id": actor.signer.identity.msp_id}
        )


@user.command("revoke")
@_as_option
@click.argument("target")
@click.option("--reason", required=True)
@handles_errors
def user_revoke(username: str, target: str, reason: str) -> None:
    from goldticket.services import members

    with _platform() as platform:
        _out(members.revoke_user(platform, platform.actor(username), target, reason))


@main.group()
def credit() -> None:
    """Credit lines."""


@credit.command("grant")
@_as_option
@click.option("--core", "core_org_id", required=True)
@click.option("--limit-fen", type=int, required=True)
@handles_errors
def credit_grant(username: str, core_org_id: str, limit_fen: int) -> None:
    from goldticket.services import credit as credit_service

    with _platform() as platform:
        _out(
            credit_service.grant_credit_line(
                platform, platform.actor(username), core_org_id=core_org_id, limit_fen=limit_fen
            )
        )


@credit.command("list")
@_as_option
@click.option("--core", "core_org_id")
@handles_errors
def credit_list(username: str, core_org_id: str | None) -> None:
    from goldticket.services import credit as credit_service

    with _platform() as platform:
        _out(credit_service.list_credit_lines(platform, platform.actor(username), core_org_id))


# ----------------------------------------------------------------------- tickets
@main.group()
def ticket() -> None:
    """Tickets: issue, accept, transfer, finance, settle, freeze, show."""


def _invoice(text: str) -> dict[str, Any]:
    number, sep, rest = text.partition(":")
    amount, sep2, digest = rest.partition(":")
    if not (sep and sep2 and amount.isdigit()):
        raise d.InvalidInputError("an invoice is NUMBER:AMOUNT_FEN:SHA256")
    return {"number": number, "amount_fen": int(amount), "sha256": digest}


@ticket.command("issue")
@_as_option
@click.option("--payee", required=True)
@click.option("--amount-fen", type=int, required=True)
@click.option("--maturity-date", required=True)
@click.option("--invoice", "invoices", multiple=True, required=True, help="NUMBER:AMOUNT_FEN:SHA256")
@handles_errors
def ticket_issue(
    username: str, payee: str, amount_fen: int, maturity_date: str, invoices: tuple[str, ...]
) -> None:
    from goldticket.services import tickets

    with _platform() as platform:
        _out(
            tickets.issue_ticket(
                platform,
                platform.actor(username),
                payee_org_id=payee,
                amount_fen=amount_fen,
                maturity_date=maturity_date,
                invoices=[_invoice(item) for item in invoices],
            )
        )


def _simple(group: click.Group, name: str, function: str, help_text: str, *, reason: bool = False) -> None:
    """A command ``NAME --as USER ID [--reason R]`` that runs one use case on one id."""

    @group.command(name, help=help_text)
    @_as_option
    @click.argument("object_id")
    @click.option("--reason", required=reason, default=None, hidden=not reason)
    @handles_errors
    def command(username: str, object_id: str, reason: str | None) -> None:
        import importlib

        module_name, _, attr = function.rpartition(".")
        use_case = getattr(importlib.import_module(f"goldticket.services.{module_name}"), attr)
        with _platform() as platform:
            args = (object_id, reason) if reason is not None else (object_id,)
            _out(use_case(platform, platform.actor(username), *args))


_simple(ticket, "accept", "tickets.accept_ticket", "Accept an issued ticket (payee).")
_simple(ticket, "reject", "tickets.reject_ticket", "Refuse an issued ticket (payee).", reason=True)
_simple(ticket, "cancel", "tickets.cancel_ticket", "Withdraw a ticket before acceptance (issuer).")
_simple(ticket, "freeze", "tickets.freeze_ticket", "Freeze a ticket (operator).", reason=True)
_simple(ticket, "unfreeze", "tickets.unfreeze_ticket", "Unfreeze a ticket (operator).")
_simple(ticket, "settle", "settlement.settle_ticket", "Settle a root ticket at maturity (issuer).")
_simple(ticket, "show", "tickets.get_ticket", "Show a ticket.")
_simple(ticket, "history", "tickets.ticket_history", "Every transaction that touched a ticket.")
_simple(ticket, "lineage", "tickets.ticket_lineage", "The tree from the root to today's pieces.")


@ticket.command("list")
@_as_option
@click.option("--holder")
@click.option("--root")
@click.option("--status")
@handles_errors
def ticket_list(username: str, holder: str | None, root: str | None, status: str | None) -> None:
    from goldticket.services import tickets

    with _platform() as platform:
        _out(
            tickets.list_tickets(
                platform, platform.actor(username), holder_org_id=holder, root_id=root, status=status
            )
        )


@ticket.command("transfer")
@_as_option
@click.argument("ticket_id")
@click.option("--to", "to_org_id", required=True)
@click.option("--amount-fen", type=int, required=True)
@handles_errors
def ticket_transfer(username: str, ticket_id: str, to_org_id: str, amount_fen: int) -> None:
    """Offer part or all of a ticket to another member (holder)."""
    from goldticket.services import transfers

    with _platform() as platform:
        _out(
            transfers.offer_transfer(
                platform,
                platform.actor(username),
                ticket_id=ticket_id,
                to_org_id=to_org_id,
                amount_fen=amount_fen,
            )
        )


@ticket.command("finance")
@_as_option
@click.argument("ticket_id")
@click.option("--bank", "bank_org_id", required=True)
@click.option("--amount-fen", type=int, required=True)
@handles_errors
def ticket_finance(username: str, ticket_id: str, bank_org_id: str, amount_fen: int) -> None:
    """Apply to a bank to discount part or all of a ticket (holder)."""
    from goldticket.services import financing

    with _platform() as platform:
        _out(
            financing.apply_financing(
                platform,
                platform.actor(username),
                ticket_id=ticket_id,
                bank_org_id=bank_org_id,
                amount_fen=amount_fen,
            )
        )


@main.group()
def offer() -> None:
    """Transfer offers."""


_simple(offer, "accept", "transfers.accept_offer", "Accept a transfer offer (payee).")
_simple(offer, "reject", "transfers.reject_offer", "Refuse a transfer offer (payee).")
_simple(offer, "cancel", "transfers.cancel_offer", "Withdraw a transfer offer (holder).")


@main.group("financing")
def financing_group() -> None:
    """Financing applications."""


@financing_group.command("approve")
@_as_option
@click.argument("application_id")
@click.option("--annual-rate-bp", type=int, required=True)
@click.option("--value-date", required=True)
@handles_errors
def financing_approve(username: str, application_id: str, annual_rate_bp: int, value_date: str) -> None:
    from goldticket.services import financing

    with _platform() as platform:
        _out(
            financing.approve_financing(
                platform,
                platform.actor(username),
                application_id=application_id,
                annual_rate_bp=annual_rate_bp,
                value_date=value_date,
            )
        )


@financing_group.command("reject")
@_as_option
@click.argument("application_id")
@click.option("--reason", required=True)
@handles_errors
def financing_reject(username: str, application_id: str, reason: str) -> None:
    from goldticket.services import financing

    with _platform() as platform:
        _out(
            financing.reject_financing(
                platform, platform.actor(username), application_id=application_id, reason=reason
            )
        )
