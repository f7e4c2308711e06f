"""The portal's writes, each signed in two steps: ``prepare`` reads and checks what the form
asks and says exactly what will be signed (action, ticket, counterparty, amount); ``perform``
calls the use case with the card PIN typed on the confirmation page. No rule lives here: the
services decide, this module only reads form fields and names what is shown."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from goldticket import domain as d
from goldticket.services import credit, financing, reads, settlement, tickets, transfers, worklists
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


def text(values: dict[str, str], name: str, max_length: int = 128) -> str:
    return d.require_text((values.get(name) or "").strip(), name, max_length)


def amount(values: dict[str, str], name: str = "amount") -> int:
    """An amount typed in yuan (``1,000.50``) as integer fen."""
    return d.require_fen(d.parse_yuan((values.get(name) or "").strip()), name)


def rate_bp(values: dict[str, str], name: str = "rate") -> int:
    """An annual rate typed in percent (``2.62``) as basis points."""
    bp = d.parse_yuan((values.get(name) or "").strip())  # two decimals, like yuan and fen
    if not 0 <= bp <= 100_000:
        raise d.InvalidInputError(_("The annual rate is from 0 to 1000 percent."))
    return bp


def _ticket(portal: Portal, actor: Actor, values: dict[str, str]) -> dict[str, Any]:
    return reads.get_ticket(portal, actor, text(values, "ticket_id", 64))


def _member(portal: Portal, member_id: str) -> dict[str, Any]:
    for member in reads.list_members(portal, Actor("", "operator", "")).get("items", []):
        if member["id"] == member_id:
            return member  # type: ignore[no-any-return]
    raise d.NotFoundError(f"no member {member_id}")


def to_ticket(result: dict[str, Any], values: dict[str, str]) -> str:
    ticket = result.get("ticket", result)
    return str(ticket.get("id") or values.get("ticket_id"))


# ------------------------------------------------------------------ the core enterprise
def prepare_issue(portal: Portal, actor: Actor, values: dict[str, str]) -> Summary:
    payee = _member(portal, text(values, "payee_org_id", 64))
    fen = amount(values)
    maturity = d.parse_date((values.get("maturity_date") or "").strip(), "maturity_date")
    number = text(values, "invoice_number", 64)
    digest = text(values, "invoice_sha256", 64)
    invoice_fen = amount(values, "invoice_amount") if values.get("invoice_amount") else fen
    d.Invoice.from_dict({"number": number, "amount_fen": invoice_fen, "sha256": digest})
    shown = {**values, "invoice_amount": d.format_fen(invoice_fen)}
    return Summary(
        shown,
        counterparty=payee["id"],
        amount_fen=fen,
        rows=[
            (_l("Maturity date"), maturity),
            (_l("Invoice"), f"{number} · {d.format_fen(invoice_fen)}"),
            (_l("Invoice SHA-256"), digest),
        ],
    )


def perform_issue(
    portal: Portal, actor: Actor, values: dict[str, str], secrets: dict[str, str]
) -> dict[str, Any]:
    fen = amount(values)
    invoice = {
        "number": text(values, "invoice_number", 64),
        "amount_fen": amount(values, "invoice_amount"),
        "sha256": text(values, "invoice_sha256", 64),
    }
    return tickets.issue_ticket(
        portal.platform,
        actor,
        payee_org_id=text(values, "payee_org_id", 64),
        amount_fen=fen,
        maturity_date=(values.get("maturity_date") or "").strip(),
        invoices=[invoice],
        pin=secrets["pin"],
    )


def prepare_settle(portal: Portal, actor: Actor, values: dict[str, str]) -> Summary:
    root = _ticket(portal, actor, values)
    pieces = reads.list_tickets(portal, actor, root_id=root["id"], per_page=500)["items"]
    live = [p for p in pieces if p["status"] in worklists.LIVE]
    rows: list[tuple[Any, Any]] = [(_l("Maturity date"), root["maturity_date"])]
    rows += [
        (_l("Pays"), f"{p['id']} → {p['holder_org_id']} · {d.format_fen(p['amount_fen'])}") for p in live
    ]
    return Summary(values, ticket_id=root["id"], amount_fen=sum(p["amount_fen"] for p in live), rows=rows)


def grant_summary(portal: Portal, actor: Actor, values: dict[str, str]) -> Summary:
    core = _member(portal, text(values, "core_org_id", 64))
    return Summary(values, counterparty=core["id"], amount_fen=amount(values))


# ------------------------------------------------------------------ holders (suppliers)
def prepare_accept(portal: Portal, actor: Actor, values: dict[str, str]) -> Summary:
    ticket = _ticket(portal, actor, values)
    rows = [(_l("Maturity date"), ticket["maturity_date"])]
    return Summary(
        values,
        ticket_id=ticket["id"],
        counterparty=ticket["issuer_org_id"],
        amount_fen=ticket["amount_fen"],
        rows=rows,
    )


def prepare_reject(portal: Portal, actor: Actor, values: dict[str, str]) -> Summary:
    summary = prepare_accept(portal, actor, values)
    summary.rows.append((_l("Reason"), text(values, "reason", 500)))
    return summary


def prepare_transfer(portal: Portal, actor: Actor, values: dict[str, str]) -> Summary:
    ticket = _ticket(portal, actor, values)
    to = _member(portal, text(values, "to_org_id", 64))
    sent = amount(values)
    if sent > ticket["amount_fen"]:
        raise d.RuleViolationError(
            _("The ticket holds %(amount)s; offer at most that.", amount=d.format_fen(ticket["amount_fen"]))
        )
    return Summary(
        values,
        ticket_id=ticket["id"],
        counterparty=to["id"],
        amount_fen=sent,
        split=(sent, ticket["amount_fen"] - sent),
        rows=[(_l("Maturity date"), ticket["maturity_date"])],
    )


def prepare_offer(portal: Portal, actor: Actor, values: dict[str, str]) -> Summary:
    offer = worklists.offer(portal, actor, text(values, "offer_id", 64))
    ticket = reads.get_ticket(portal, actor, offer["ticket_id"])
    other = offer["from_org_id"] if offer["to_org_id"] == actor.member_id else offer["to_org_id"]
    return Summary(
        values,
        ticket_id=ticket["id"],
        counterparty=other,
        amount_fen=offer["amount_fen"],
        split=(offer["amount_fen"], ticket["amount_fen"] - offer["amount_fen"]),
        rows=[(_l("Offer"), offer["id"]), (_l("Maturity date"), ticket["maturity_date"])],
    )


def prepare_finance(portal: Portal, actor: Actor, values: dict[str, str]) -> Summary:
    ticket = _ticket(portal, actor, values)
    bank = _member(portal, text(values, "bank_org_id", 64))
    if bank.get("role") != "bank":
        raise d.InvalidInputError(_("%(id)s is not a bank.", id=bank["id"]))
    fen = amount(values)
    if fen > ticket["amount_fen"]:
        raise d.RuleViolationError(
            _(
                "The ticket holds %(amount)s; apply for at most that.",
                amount=d.format_fen(ticket["amount_fen"]),
            )
        )
    return Summary(
        values,
        ticket_id=ticket["id"],
        counterparty=bank["id"],
        amount_fen=fen,
        split=(fen, ticket["amount_fen"] - fen),
        rows=[(_l("Maturity date"), ticket["maturity_date"])],
    )


# ------------------------------------------------------------------ banks
def application_quote(portal: Portal, actor: Actor, values: dict[str, str]) -> tuple[dict[str, Any], Any]:
    application = worklists.application(portal, actor, text(values, "application_id", 64))
    ticket = reads.get_ticket(portal, actor, application["ticket_id"])
    bank = _member(portal, application["bank_org_id"])
    value_date = (values.get("value_date") or "").strip() or portal.platform.today().isoformat()
    quote = financing.quote(
        amount_fen=application["amount_fen"],
        annual_rate_bp=rate_bp(values),
        value_date=value_date,
        maturity_date=ticket["maturity_date"],
        day_basis=int(bank.get("day_basis", 360)),
        fee_bp=int(bank.get("fee_bp", 0)),
    )
    return application, quote


def prepare_approve(portal: Portal, actor: Actor, values: dict[str, str]) -> Summary:
    application, quote = application_quote(portal, actor, values)
    return Summary(
        {**values, "value_date": quote.value_date.isoformat()},
        ticket_id=application["ticket_id"],
        counterparty=application["holder_org_id"],
        amount_fen=application["amount_fen"],
        rows=[
            (_l("Application"), application["id"]),
            (_l("Annual rate"), f"{d.format_fen(quote.annual_rate_bp)}%"),
            (_l("Value date"), quote.value_date),
            (_l("Days"), quote.days),
            (_l("Discount interest"), d.format_fen(quote.discount_interest_fen)),
            (_l("Fee"), d.format_fen(quote.fee_fen)),
            (_l("Proceeds paid to the holder"), d.format_fen(quote.proceeds_fen)),
        ],
    )


def prepare_decline(portal: Portal, actor: Actor, values: dict[str, str]) -> Summary:
    application = worklists.application(portal, actor, text(values, "application_id", 64))
    return Summary(
        values,
        ticket_id=application["ticket_id"],
        counterparty=application["holder_org_id"],
        amount_fen=application["amount_fen"],
        rows=[(_l("Application"), application["id"]), (_l("Reason"), text(values, "reason", 500))],
    )


# ------------------------------------------------------------------ the operator
def prepare_freeze(portal: Portal, actor: Actor, values: dict[str, str]) -> Summary:
    ticket = _ticket(portal, actor, values)
    rows = [(_l("Reason"), text(values, "reason", 500))] if "reason" in values else []
    return Summary(
        values,
        ticket_id=ticket["id"],
        counterparty=ticket["holder_org_id"],
        amount_fen=ticket["amount_fen"],
        rows=rows,
    )


def _p(portal: Portal) -> Any:
    return portal.platform


ACTIONS: dict[str, Action] = {
    action.name: action
    for action in [
        Action(
            "issue",
            _l("Issue a ticket"),
            ("payee_org_id", "amount", "maturity_date", "invoice_number", "invoice_amount", "invoice_sha256"),
            prepare_issue,
            perform_issue,
            to_ticket,
        ),
        Action(
            "accept",
            _l("Accept the ticket"),
            ("ticket_id",),
            prepare_accept,
            lambda p, a, v, s: tickets.accept_ticket(_p(p), a, text(v, "ticket_id", 64), pin=s["pin"]),
            to_ticket,
        ),
        Action(
            "reject",
            _l("Reject the ticket"),
            ("ticket_id", "reason"),
            prepare_reject,
            lambda p, a, v, s: tickets.reject_ticket(
                _p(p), a, text(v, "ticket_id", 64), text(v, "reason", 500), pin=s["pin"]
            ),
            to_ticket,
        ),
        Action(
            "transfer",
            _l("Transfer (split) the ticket"),
            ("ticket_id", "to_org_id", "amount"),
            prepare_transfer,
            lambda p, a, v, s: transfers.offer_transfer(
                _p(p),
                a,
                ticket_id=text(v, "ticket_id", 64),
                to_org_id=text(v, "to_org_id", 64),
                amount_fen=amount(v),
                pin=s["pin"],
            ),
            to_ticket,
        ),
        Action(
            "accept_offer",
            _l("Accept the transfer offer"),
            ("offer_id",),
            prepare_offer,
            lambda p, a, v, s: transfers.accept_offer(_p(p), a, text(v, "offer_id", 64), pin=s["pin"]),
            lambda result, v: str(result["transferred"]["id"]),
        ),
        Action(
            "reject_offer",
            _l("Reject the transfer offer"),
            ("offer_id",),
            prepare_offer,
            lambda p, a, v, s: transfers.reject_offer(_p(p), a, text(v, "offer_id", 64), pin=s["pin"]),
            to_ticket,
        ),
        Action(
            "cancel_offer",
            _l("Withdraw the transfer offer"),
            ("offer_id",),
            prepare_offer,
            lambda p, a, v, s: transfers.cancel_offer(_p(p), a, text(v, "offer_id", 64), pin=s["pin"]),
            to_ticket,
        ),
        Action(
            "finance",
            _l("Apply for financing (discount)"),
            ("ticket_id", "bank_org_id", "amount"),
            prepare_finance,
            lambda p, a, v, s: financing.apply_financing(
                _p(p),
                a,
                ticket_id=text(v, "ticket_id", 64),
                bank_org_id=text(v, "bank_org_id", 64),
                amount_fen=amount(v),
                pin=s["pin"],
            ),
            to_ticket,
        ),
        Action(
            "approve",
            _l("Approve the financing"),
            ("application_id", "rate", "value_date"),
            prepare_approve,
            lambda p, a, v, s: financing.approve_financing(
                _p(p),
                a,
                application_id=text(v, "application_id", 64),
                annual_rate_bp=rate_bp(v),
                value_date=text(v, "value_date", 10),
                pin=s["pin"],
            ),
            lambda result, v: str(result["financed"]["id"]),
        ),
        Action(
            "decline",
            _l("Decline the financing"),
            ("application_id", "reason"),
            prepare_decline,
            lambda p, a, v, s: financing.reject_financing(
                _p(p),
                a,
                application_id=text(v, "application_id", 64),
                reason=text(v, "reason", 500),
                pin=s["pin"],
            ),
            to_ticket,
        ),
        Action(
            "settle",
            _l("Settle at maturity"),
            ("ticket_id",),
            prepare_settle,
            lambda p, a, v, s: settlement.settle_ticket(_p(p), a, text(v, "ticket_id", 64), pin=s["pin"]),
            lambda result, v: str(result["root_id"]),
        ),
        Action(
            "grant",
            _l("Grant a credit line"),
            ("core_org_id", "amount"),
            grant_summary,
            lambda p, a, v, s: credit.grant_credit_line(
                _p(p), a, core_org_id=text(v, "core_org_id", 64), limit_fen=amount(v), pin=s["pin"]
            ),
            lambda result, v: "",
        ),
        Action(
            "freeze",
            _l("Freeze the ticket"),
            ("ticket_id", "reason"),
            prepare_freeze,
            lambda p, a, v, s: tickets.freeze_ticket(
                _p(p), a, text(v, "ticket_id", 64), text(v, "reason", 500), pin=s["pin"]
            ),
            to_ticket,
        ),
        Action(
            "unfreeze",
            _l("Unfreeze the ticket"),
            ("ticket_id",),
            prepare_freeze,
            lambda p, a, v, s: tickets.unfreeze_ticket(_p(p), a, text(v, "ticket_id", 64), pin=s["pin"]),
            to_ticket,
        ),
    ]
}
