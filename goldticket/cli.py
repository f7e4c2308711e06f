"""The ``goldticket`` command line: init, quote, demo, and one command per operation."""

from __future__ import annotations

import contextlib
import functools
import importlib
import json
import sys
from collections.abc import Callable, Iterator
from typing import Any

import click

from goldticket import domain as d
from goldticket.ledger import LedgerError
from goldticket.settings import ConfigError, Settings
from goldticket.signing.errors import SigningError

EXIT_CODES = {
    "invalid_input": 2,
    "not_found": 3,
    "forbidden": 4,
    "wrong_pin": 4,
    "unauthenticated": 4,
    "conflict": 5,
    "rule_violation": 6,
    "card_locked": 7,
    "card_revoked": 7,
    "rate_limited": 8,
}


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
        except (LedgerError, SigningError) as error:
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


def _pin_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The acting user's card PIN: --pin, GOLDTICKET_PIN, or asked for without echo."""
    return click.option(
        "--pin",
        envvar="GOLDTICKET_PIN",
        prompt="card PIN",
        hide_input=True,
        help="the card's payment password",
    )(fn)


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

    settings = _settings()
    if settings.env == "prod":
        raise ConfigError(
            "the demo moves the clock to maturity; run it with GOLDTICKET_ENV=dev (make run does)"
        )
    platform = Platform.init(settings)
    try:
        run_demo(platform, click.echo)
    finally:
        platform.close()


# ----------------------------------------------------------------- operator desk
@main.group()
def member() -> None:
    """Members (organisations), registered by the operator desk."""


@member.command("add")
@click.option("--id", "member_id", required=True)
@click.option("--name", required=True)
@click.option("--name-en", default="")
@click.option("--role", type=click.Choice(["core", "supplier", "bank"]), required=True)
@click.option("--day-basis", type=click.Choice(["360", "365"]), default="360")
@click.option("--fee-bp", type=int, default=0)
@handles_errors
def member_add(member_id: str, name: str, name_en: str, role: str, day_basis: str, fee_bp: int) -> None:
    """Register a core enterprise, supplier or bank (signed by the operator desk)."""
    from goldticket.services import members

    with _platform() as platform:
        _out(
            members.register_member(
                platform,
                member_id=member_id,
                name=name,
                role=role,
                name_en=name_en,
                day_basis=int(day_basis),
                fee_bp=fee_bp,
            )
        )


@member.command("list")
@handles_errors
def member_list() -> None:
    """Every registered member."""
    from goldticket.services import members

    with _platform() as platform:
        _out(members.list_members(platform))


@member.command("term-cap")
@click.argument("months", type=int)
@handles_errors
def member_term_cap(months: int) -> None:
    """Set the longest payment term of new tickets, in months (1-12)."""
    from goldticket.services import members

    with _platform() as platform:
        _out(members.set_term_cap(platform, months))


@main.group()
def user() -> None:
    """Users (the operator desk)."""


@user.command("add")
@click.option("--member", "member_id", required=True)
@click.option("--username", required=True)
@click.option("--role", type=click.Choice(["admin", "clerk"]), default="clerk")
@click.option("--pin", envvar="GOLDTICKET_PIN", default=None, help="issue the user's card with this PIN too")
@handles_errors
def user_add(member_id: str, username: str, role: str, pin: str | None) -> None:
    """Add a user to a member; with --pin, open and issue their card too."""
    from goldticket.services import cards, members

    with _platform() as platform:
        actor = members.add_user(platform, member_id=member_id, username=username, role=role, pin=pin)
        _out(
            {
                "username": actor.username,
                "member_id": actor.member_id,
                "role": actor.role,
                "cards": cards.cards_of(platform, username),
            }
        )


@user.command("revoke")
@click.argument("username")
@handles_errors
def user_revoke(username: str) -> None:
    """Eliminate the user's cards: the identity is revoked on the ledger."""
    from goldticket.services import members

    with _platform() as platform:
        _out(members.revoke_user(platform, username))


@main.group()
def card() -> None:
    """BSIM cards at the operator desk: open, issue, report-lost, replace, eliminate, unlock."""


def _desk(name: str, function: str, help_text: str, *, pin: bool = False) -> None:
    """A desk command on one card serial; with ``pin``, it also takes the card's PIN."""

    def run(serial: str, *args: str) -> None:
        from goldticket.services import cards

        with _platform() as platform:
            _out(getattr(cards, function)(platform, serial, *args))

    if pin:

        @card.command(name, help=help_text)
        @click.argument("serial")
        @click.option("--pin", envvar="GOLDTICKET_PIN", prompt="card PIN", hide_input=True)
        @handles_errors
        def with_pin(serial: str, pin: str) -> None:
            run(serial, pin)

    else:

        @card.command(name, help=help_text)
        @click.argument("serial")
        @handles_errors
        def without_pin(serial: str) -> None:
            run(serial)


@card.command("open")
@click.argument("username")
@click.option("--backend", type=click.Choice(["pkcs11", "software"]), default=None)
@handles_errors
def card_open(username: str, backend: str | None) -> None:
    """Bind a blank card to a user (开卡)."""
    from goldticket.services import cards

    with _platform() as platform:
        _out(cards.open_card(platform, username, backend))


_desk("issue", "issue_card", "Issue an opened card: key, certificate, ledger identity (发卡).", pin=True)
_desk("report-lost", "report_lost", "Suspend a card at once.")
_desk("eliminate", "eliminate_card", "Revoke the identity on the ledger and destroy the key (销卡).")
_desk("unlock", "unlock_card", "Unlock a card locked by wrong PINs.")


@card.command("replace")
@click.argument("serial")
@click.option("--pin", envvar="GOLDTICKET_PIN", prompt="card PIN", hide_input=True)
@click.option("--operator-password", envvar="GOLDTICKET_OPERATOR_PASSWORD", prompt=True, hide_input=True)
@handles_errors
def card_replace(serial: str, pin: str, operator_password: str) -> None:
    """A new card with the same key, recovered from the backup (补卡)."""
    from goldticket.services import cards

    with _platform() as platform:
        _out(cards.replace_card(platform, serial, pin=pin, operator_password=operator_password))


@card.command("list")
@click.argument("username")
@handles_errors
def card_list(username: str) -> None:
    """The cards of a user, newest last."""
    from goldticket.services import cards

    with _platform() as platform:
        _out(cards.cards_of(platform, username))


@main.group()
def signer() -> None:
    """The signing gateway."""


@signer.command("serve")
@click.option("--host", default="127.0.0.1")
@click.option("--port", type=int, default=8700)
@handles_errors
def signer_serve(host: str, port: int) -> None:
    """Serve the cards of this data directory to callers holding the deployment secret."""
    from goldticket.services.keystore import KeyStore
    from goldticket.services.platform import Cards
    from goldticket.signing.gateway import GatewayServer

    settings = _settings()
    secret = settings.signer_secret or KeyStore(settings.data_dir).signer_secret()
    server = GatewayServer((host, port), Cards.open(settings).service, secret.encode())
    click.echo(f"signing gateway on {server.url}", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@signer.command("verify-audit")
@handles_errors
def signer_verify_audit() -> None:
    """Check the audit log's hash chain."""
    from goldticket.signing.audit import verify

    result = verify(_settings().data_dir / "cards" / "audit.jsonl")
    _out(
        {
            "ok": result.ok,
            "entries": result.entries,
            "first_bad_line": result.first_bad_line,
            "reason": result.reason,
        }
    )
    if not result.ok:
        sys.exit(9)


@main.group()
def credit() -> None:
    """Credit lines."""


@credit.command("grant")
@_as_option
@_pin_option
@click.option("--core", "core_org_id", required=True)
@click.option("--limit-fen", type=int, required=True)
@handles_errors
def credit_grant(username: str, pin: str, core_org_id: str, limit_fen: int) -> None:
    """A bank grants a core enterprise a credit line."""
    from goldticket.services import credit as credit_service

    with _platform() as platform:
        _out(
            credit_service.grant_credit_line(
                platform, platform.actor(username), core_org_id=core_org_id, limit_fen=limit_fen, pin=pin
            )
        )


@credit.command("list")
@click.option("--core", "core_org_id")
@handles_errors
def credit_list(core_org_id: str | None) -> None:
    """Credit lines, of one core enterprise with --core."""
    from goldticket.services import credit as credit_service

    with _platform() as platform:
        _out(credit_service.list_credit_lines(platform, None, core_org_id))  # type: ignore[arg-type]


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
@_pin_option
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
    with _platform() as platform:
        _out(
            tickets.issue_ticket(
                platform,
                platform.actor(username),
                payee_org_id=payee,
                amount_fen=amount_fen,
                maturity_date=maturity_date,
                invoices=parsed,
                pin=pin,
            )
        )


def _write(group: click.Group, name: str, function: str, help_text: str, *, reason: bool = False) -> None:
    """A command ``NAME --as USER --pin PIN ID [--reason R]`` running one write use case."""

    @group.command(name, help=help_text)
    @_as_option
    @_pin_option
    @click.argument("object_id")
    @click.option("--reason", required=reason, default=None, hidden=not reason)
    @handles_errors
    def command(username: str, pin: str, object_id: str, reason: str | None) -> None:
        module_name, _, attr = function.rpartition(".")
        use_case = getattr(importlib.import_module(f"goldticket.services.{module_name}"), attr)
        args = (object_id, reason) if reason is not None else (object_id,)
        with _platform() as platform:
            _out(use_case(platform, platform.actor(username), *args, pin=pin))


def _read(group: click.Group, name: str, function: str, help_text: str) -> None:
    @group.command(name, help=help_text)
    @click.argument("object_id")
    @handles_errors
    def command(object_id: str) -> None:
        module_name, _, attr = function.rpartition(".")
        use_case = getattr(importlib.import_module(f"goldticket.services.{module_name}"), attr)
        with _platform() as platform:
            _out(use_case(platform, None, object_id))


_write(ticket, "accept", "tickets.accept_ticket", "Accept an issued ticket (payee).")
_write(ticket, "reject", "tickets.reject_ticket", "Refuse an issued ticket (payee).", reason=True)
_write(ticket, "cancel", "tickets.cancel_ticket", "Withdraw a ticket before acceptance (issuer).")
_write(ticket, "freeze", "tickets.freeze_ticket", "Freeze a ticket (operator).", reason=True)
_write(ticket, "unfreeze", "tickets.unfreeze_ticket", "Unfreeze a ticket (operator).")
_write(ticket, "settle", "settlement.settle_ticket", "Settle a root ticket at maturity (issuer).")
_read(ticket, "show", "tickets.get_ticket", "Show a ticket.")
_read(ticket, "history", "tickets.ticket_history", "Every transaction that touched a ticket.")
_read(ticket, "lineage", "tickets.ticket_lineage", "The tree from the root to today's pieces.")


@ticket.command("list")
@click.option("--holder")
@click.option("--root")
@click.option("--status")
@handles_errors
def ticket_list(holder: str | None, root: str | None, status: str | None) -> None:
    """Tickets by holder, root or status."""
    from goldticket.services import tickets

    with _platform() as platform:
        _out(tickets.list_tickets(platform, None, holder_org_id=holder, root_id=root, status=status))  # type: ignore[arg-type]


@ticket.command("transfer")
@_as_option
@_pin_option
@click.argument("ticket_id")
@click.option("--to", "to_org_id", required=True)
@click.option("--amount-fen", type=int, required=True)
@handles_errors
def ticket_transfer(username: str, pin: str, ticket_id: str, to_org_id: str, amount_fen: int) -> None:
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
                pin=pin,
            )
        )


@ticket.command("finance")
@_as_option
@_pin_option
@click.argument("ticket_id")
@click.option("--bank", "bank_org_id", required=True)
@click.option("--amount-fen", type=int, required=True)
@handles_errors
def ticket_finance(username: str, pin: str, ticket_id: str, bank_org_id: str, amount_fen: int) -> None:
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
                pin=pin,
            )
        )


@main.group()
def offer() -> None:
    """Transfer offers."""


_write(offer, "accept", "transfers.accept_offer", "Accept a transfer offer (payee).")
_write(offer, "reject", "transfers.reject_offer", "Refuse a transfer offer (payee).")
_write(offer, "cancel", "transfers.cancel_offer", "Withdraw a transfer offer (holder).")


@main.group("financing")
def financing_group() -> None:
    """Financing applications."""


@financing_group.command("approve")
@_as_option
@_pin_option
@click.argument("application_id")
@click.option("--annual-rate-bp", type=int, required=True)
@click.option("--value-date", required=True)
@handles_errors
def financing_approve(
    username: str, pin: str, application_id: str, annual_rate_bp: int, value_date: str
) -> None:
    """The bank approves a financing application at an annual rate from a value date."""
    from goldticket.services import financing

    with _platform() as platform:
        _out(
            financing.approve_financing(
                platform,
                platform.actor(username),
                application_id=application_id,
                annual_rate_bp=annual_rate_bp,
                value_date=value_date,
                pin=pin,
            )
        )


@financing_group.command("reject")
@_as_option
@_pin_option
@click.argument("application_id")
@click.option("--reason", required=True)
@handles_errors
def financing_reject(username: str, pin: str, application_id: str, reason: str) -> None:
    """The bank declines a financing application."""
    from goldticket.services import financing

    with _platform() as platform:
        _out(
            financing.reject_financing(
                platform, platform.actor(username), application_id=application_id, reason=reason, pin=pin
            )
        )


if __name__ == "__main__":
    main()
