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
    try:
        return Settings.from_env()
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


def out(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True))


def as_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--as", "username", required=True, help="the acting user")(fn)


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
