"""What a portal write is: each is signed in two steps, ``prepare`` reads and checks what the
form asks and says exactly what will be signed (action, ticket, counterparty, amount);
``perform`` calls the use case with the card PIN typed on the confirmation page. No rule lives
here: the services decide, the actions only read form fields and name what is shown.

``ACTIONS`` maps each write's name to its :class:`Action`; the modules of one area each add
theirs (ticket_actions, transfer_actions, financing_actions, desk_actions) and the signing
pages (signing_views) look them up by the name in the URL."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from goldticket import domain as d
from goldticket.services import reads
from goldticket.services.context import Actor
from goldticket.services.portal import Portal


@dataclasses.dataclass
class Summary:
    """What the confirmation page shows, and the values carried to the signature."""

    values: dict[str, str]
    ticket_id: str | None = None
    counterparty: str | None = None
    amount_fen: int | None = None
    rows: list[tuple[Any, Any]] = dataclasses.field(default_factory=list)
    split: tuple[int, int] | None = None  # (sent, kept) of a transfer or a financing
    receives: int | None = None  # what the receiver of a transfer gets (its side, not the sender's)


PIN = (("pin", _l("Card PIN (payment password)")),)


@dataclasses.dataclass(frozen=True)
class Action:
    """``secrets`` are typed on the confirmation page and go to ``perform`` only: never carried
    in a hidden field, never in the idempotency fingerprint, never shown back."""

    name: str
    title: Any
    fields: tuple[str, ...]
    prepare: Callable[[Portal, Actor, dict[str, str]], Summary]
    perform: Callable[[Portal, Actor, dict[str, str], dict[str, str]], dict[str, Any]]
    done: Callable[[dict[str, Any], dict[str, str]], str]  # the page to show next
    secrets: tuple[tuple[str, Any], ...] = PIN
    # its answer holds a secret shown once (an activation code): not kept for replays
    keeps_answer: bool = True
    # the confirmation page runs it through the chaincode unsigned first (services.rehearsal),
    # so a rule's refusal shows before the PIN is asked for; the desk's writes check the
    # desk's own PIN first and are not rehearsed
    rehearses: bool = True


ACTIONS: dict[str, Action] = {}


def text(values: dict[str, str], name: str, max_length: int = 128) -> str:
    return d.require_text((values.get(name) or "").strip(), name, max_length)


def chosen(values: dict[str, str], name: str, missing: Any) -> str:
    """The id a select named ``name`` chose; ``missing`` (a sentence) when it was left at
    "Choose…": a form never falls back to the list's first name."""
    if not (values.get(name) or "").strip():
        raise d.InvalidInputError(str(missing))
    return text(values, name, 64)


def amount(values: dict[str, str], name: str = "amount") -> int:
    """An amount typed in yuan (``1,000.50``) as integer fen."""
    return d.require_fen(d.parse_yuan((values.get(name) or "").strip()), name)


def rate_bp(values: dict[str, str], name: str = "rate") -> int:
    """An annual rate typed in percent (``2.62``) as basis points."""
    try:
        bp = d.parse_yuan((values.get(name) or "").strip())  # two decimals, like yuan and fen
    except d.InvalidInputError:
        raise d.InvalidInputError(_("Type the annual rate as a percent, e.g. 2.62.")) from None
    if not 0 <= bp <= d.MAX_RATE_BP:
        raise d.InvalidInputError(
            _("The annual rate is from 0 to %(max)s percent.", max=d.MAX_RATE_BP // 100)
        )
    return bp


def figures(fen: int) -> str:
    """An amount as a confirmation page states money: ``¥5,458.33 伍仟肆佰伍拾捌元叁角叁分``."""
    from .formatting import capital, money

    return f"{money(fen)} {capital(fen)}"


def percent(rate_bp: int) -> str:
    """Basis points as the percent the forms take: 262 -> "2.62%"."""
    return f"{d.format_fen(rate_bp)}%"


def read_ticket(portal: Portal, actor: Actor, values: dict[str, str]) -> dict[str, Any]:
    """The ticket the form names (``ticket_id``), as the actor may read it."""
    return reads.get_ticket(portal, actor, text(values, "ticket_id", 64))


def read_member(portal: Portal, member_id: str) -> dict[str, Any]:
    for member in reads.list_members(portal, Actor("", "operator", "")).get("items", []):
        if member["id"] == member_id:
            return member  # type: ignore[no-any-return]
    raise d.NotFoundError(f"no member {member_id}")


def to_ticket(result: dict[str, Any], values: dict[str, str]) -> str:
    ticket = result.get("ticket", result)
    return str(ticket.get("id") or values.get("ticket_id"))
