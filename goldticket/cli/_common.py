"""What every command module shares: exit codes, error handling, settings, the platform,
JSON output and the ``--as``/``--pin`` options."""

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
from goldticket.settings import ConfigError, Settings, bind_environment
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


def fail(code: str, message: str) -> None:
    click.echo(f"error: {code}: {message}", err=True)
    sys.exit(EXIT_CODES.get(code, 1))


def handles_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Typed errors become one line on stderr and a non-zero exit; nothing else is printed."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (d.DomainError, ConfigError) as error:
            fail(error.code, str(error))
        except (LedgerError, SigningError) as error:
            fail(error.code, str(error))

    return run


def settings() -> Settings:
    """The settings, in the environment of the data directory (fixed at ``init``)."""
    try:
        return bind_environment(Settings.from_env())
    except ConfigError as error:
        fail(error.code, str(error))
        raise


@contextlib.contextmanager
def platform() -> Iterator[Any]:
    from goldticket.services import Platform

    opened = Platform.open(settings())
    try:
        yield opened
    finally:
        opened.close()


@contextlib.contextmanager
def portal() -> Iterator[Any]:
    """The platform with the portal's database (logins and activation codes)."""
    from goldticket.services.portal import Portal

    opened = Portal.open(settings())
    try:
        yield opened
    finally:
        opened.close()


def password_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The acting user's login password: proves the user is who runs the command."""
    return click.option(
        "--password",
        envvar="GOLDTICKET_PASSWORD",
        prompt="your login password",
        hide_input=True,
        help="your login password (GOLDTICKET_PASSWORD; asked for without echo)",
    )(fn)


def logged_in(opened: Any, username: str, password: str) -> Any:
    """The user, after their login password is checked (counted like a portal login)."""
    from goldticket.services import accounts

    accounts.login(opened, username, password, "cli")
    return opened.platform.actor(username)


JSON_FLAG = "goldticket.json"


def wants_json() -> bool:
    context = click.get_current_context(silent=True)
    return bool(context is not None and context.find_root().meta.get(JSON_FLAG))


def set_json(context: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        context.find_root().meta[JSON_FLAG] = True


def json_flag() -> click.Option:
    """``--json``: print the result as JSON (for scripts) instead of tables in yuan."""
    return click.Option(
        ["--json"],
        is_flag=True,
        expose_value=False,
        is_eager=True,
        callback=set_json,
        help="print JSON (amounts in fen, times in UTC) instead of a readable table",
    )


def out(value: Any) -> None:
    """A command's result: readable (tables, amounts in yuan, China time), or with --json the
    JSON scripts read."""
    if wants_json():
        click.echo(json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True))
        return
    from ._render import render

    for line in render(value):
        click.echo(line)


def as_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--as", "username", envvar="GOLDTICKET_USER", required=True, help="the acting user (GOLDTICKET_USER)"
    )(fn)


def amount_options(name: str = "amount") -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--NAME`` in yuan (1,000.00, 1000, 1000.5 or 壹仟元整) beside ``--NAME-fen`` (integer
    fen), and ``--yes`` to sign without the confirmation question."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        fn = click.option("--yes", is_flag=True, help="do not ask to confirm the amount (for scripts)")(fn)
        fn = click.option(f"--{name}-fen", f"{name}_fen", type=int, default=None, help="the amount in fen")(
            fn
        )
        return click.option(
            f"--{name}",
            f"{name}_text",
            default=None,
            help="the amount in yuan: 1,000.00, 1000, 1000.5 or 壹仟元整",
        )(fn)

    return decorate


def amount_of(text: str | None, fen: int | None, name: str = "amount") -> int:
    """The amount in fen from ``--NAME`` (yuan text, parsed exactly) or ``--NAME-fen``."""
    if (text is None) == (fen is None):
        raise d.InvalidInputError(
            f"give the amount once: --{name} 1,000.00 (yuan; also 1000, 1000.5 or 壹仟元整) or --{name}-fen 100000"
        )
    if text is not None:
        return d.parse_amount(text)
    return d.require_fen(fen, f"--{name}-fen")


def money_pin_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The card PIN of a command that moves money: asked for only after the amount is shown."""
    return click.option("--pin", envvar="GOLDTICKET_PIN", default=None, help="the card's payment password")(
        fn
    )


def confirm_amount(what: str, fen: int, *, pin: str | None, yes: bool) -> str:
    """The PIN. Given by --pin or GOLDTICKET_PIN (a script), it is used as it is. Otherwise a
    person is at the keyboard: show ``what`` with the amount in figures and in Chinese capitals
    (on stderr), ask whether to sign it (not with --yes), then ask for the PIN without echo."""
    if pin is not None:
        return pin
    click.echo(f"{what}: {d.format_fen(fen)} yuan ({d.chinese_capital(fen)})", err=True)
    if not yes:
        click.confirm("sign this with your card?", default=False, abort=True, err=True)
    return str(click.prompt("card PIN", hide_input=True, err=True))


def pin_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The acting user's card PIN: --pin, GOLDTICKET_PIN, or asked for without echo."""
    return click.option(
        "--pin",
        envvar="GOLDTICKET_PIN",
        prompt="card PIN",
        hide_input=True,
        help="the card's payment password",
    )(fn)


def desk_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The operator desk's credentials: ``--desk-user`` (an operator admin, default
    ``operator``) and ``--operator-pin``, that admin's card PIN (GOLDTICKET_OPERATOR_PIN, or
    asked for without echo). Every desk command checks them on the card before it acts."""
    fn = click.option(
        "--operator-pin",
        envvar="GOLDTICKET_OPERATOR_PIN",
        prompt="operator card PIN",
        hide_input=True,
        help="the desk admin's card PIN",
    )(fn)
    return click.option(
        "--desk-user",
        envvar="GOLDTICKET_DESK_USER",
        default="operator",
        help="the operator admin at the desk",
    )(fn)


def open_desk(opened: Any, desk_user: str, operator_pin: str) -> Any:
    """The authenticated operator desk (goldticket.services.platform.Desk)."""
    return opened.desk(opened.actor(desk_user), operator_pin)


def use_case(function: str) -> Callable[..., Any]:
    """``"module.function"`` of goldticket.services, imported when a command runs."""
    module_name, _, attr = function.rpartition(".")
    return getattr(importlib.import_module(f"goldticket.services.{module_name}"), attr)  # type: ignore[no-any-return]


def write_command(
    group: click.Group, name: str, function: str, help_text: str, *, reason: bool = False
) -> None:
    """A command ``NAME --as USER --pin PIN ID [--reason R]`` running one write use case."""

    @group.command(name, help=help_text)
    @as_option
    @pin_option
    @click.argument("object_id")
    @click.option("--reason", required=reason, default=None, hidden=not reason)
    @handles_errors
    def command(username: str, pin: str, object_id: str, reason: str | None) -> None:
        run = use_case(function)
        args = (object_id, reason) if reason is not None else (object_id,)
        with platform() as opened:
            out(run(opened, opened.actor(username), *args, pin=pin))


def read_command(group: click.Group, name: str, function: str, help_text: str) -> None:
    @group.command(name, help=help_text)
    @click.argument("object_id")
    @handles_errors
    def command(object_id: str) -> None:
        run = use_case(function)
        with platform() as opened:
            out(run(opened, None, object_id))


def reader_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """How a user proves who it is for a read of its own book (``--as``): its login password
    (``--password``, GOLDTICKET_PASSWORD, ``--password-stdin``, or asked for without echo at a
    terminal) or an API token. Never the card PIN: a PIN signs, it does not log in (a hidden
    ``--pin`` is refused with that message rather than ignored)."""
    fn = click.option("--pin", default=None, hidden=True)(fn)
    fn = click.option(
        "--password-stdin", is_flag=True, default=False, help="read your login password from stdin (one line)"
    )(fn)
    fn = click.option(
        "--password",
        envvar="GOLDTICKET_PASSWORD",
        default=None,
        help="your login password (GOLDTICKET_PASSWORD)",
    )(fn)
    return click.option("--token", envvar="GOLDTICKET_TOKEN", default=None, help="an API token of yours")(fn)


def authenticated(
    opened: Any,
    username: str,
    *,
    password: str | None,
    token: str | None,
    password_stdin: bool = False,
    pin: str | None = None,
) -> Any:
    """The user ``username`` once its login password or API token is checked:
    UnauthenticatedError without one, with a wrong one (counted as a failed login) or with a
    card PIN in its place."""
    from goldticket.services import accounts
    from goldticket.services.errors import UnauthenticatedError
    from goldticket.services.portal import Portal

    how = (
        f"reading {username}'s book needs its login password (--password, GOLDTICKET_PASSWORD or"
        " --password-stdin) or an API token (--token, GOLDTICKET_TOKEN)"
    )
    if pin is not None:
        raise UnauthenticatedError(f"a card PIN signs, it does not log in: {how}")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n") or None
        if password is None:
            raise UnauthenticatedError(f"no password on stdin: {how}")
    elif password is None and token is None and sys.stdin.isatty():
        password = str(click.prompt("your login password", hide_input=True, err=True))
    if password is None and token is None:
        raise UnauthenticatedError(how)
    portal = Portal.around(opened)
    try:
        if token is None:
            token = accounts.login(portal, username, password, "cli")["token"]
        actor = accounts.authenticate(portal, token)
    finally:
        portal.database.close()
    if actor.username != username:
        raise UnauthenticatedError("the token is not this user's")
    return actor
