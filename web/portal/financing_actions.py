"""Financing and credit as portal writes: a holder applies to a bank to discount part of a
ticket, the bank approves at a rate with the quote shown (days, interest, fee, proceeds) or
declines (never above the highest rate the holder signed); a bank offers a core enterprise a
credit line, which the core accepts or declines. Thin: each calls one use case of
goldticket.services.financing or credit."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from goldticket import domain as d
from goldticket.services import credit, financing, reads, worklists
from goldticket.services.context import Actor
from goldticket.services.portal import Portal

from .actions import (
    ACTIONS,
    Action,
    Summary,
    amount,
    chosen,
    figures,
    percent,
    rate_bp,
    read_member,
    read_ticket,
    text,
    to_ticket,
)


def annualised(quote: d.DiscountQuote) -> Any:
    """The holder's annualised total cost of a quote, as a percent (– when nothing is paid)."""
    cost = quote.annualised_cost_bp
    return percent(cost) if cost is not None else "–"


RECOURSE_CHOICES = {
    "with": _l("With recourse (有追索): if the issuer does not pay, the bank may demand payment of you"),
    "without": _l("Without recourse (无追索): the bank bears the issuer's risk"),
}


def recourse_of(values: dict[str, str]) -> bool | None:
    """The holder's choice on the financing form (the form shows "without" chosen); None when a
    form sent none (stated nothing: without recourse, as before the choice existed)."""
    choice = (values.get("recourse") or "").strip()
    if not choice:
        return None
    if choice not in RECOURSE_CHOICES:
        raise d.InvalidInputError(_("Choose with or without recourse."))
    return choice == "with"


def prepare_finance(portal: Portal, actor: Actor, values: dict[str, str]) -> Summary:
    ticket = read_ticket(portal, actor, values)
    bank = read_member(portal, chosen(values, "bank_org_id", _l("Choose the bank.")))
    if bank.get("role") != "bank":
        raise d.InvalidInputError(_("%(id)s is not a bank.", id=bank["id"]))
    fen = amount(values)
    bound = rate_bp(values, "max_rate")
    if fen > ticket["amount_fen"]:
        raise d.RuleViolationError(
            _(
                "The ticket holds %(amount)s; apply for at most that.",
                amount=d.format_fen(ticket["amount_fen"]),
            )
        )
    # what the holder gets at worst: its highest rate, the bank's fee and day basis, from today
    quote = financing.quote(
        amount_fen=fen,
        annual_rate_bp=bound,
        value_date=portal.platform.today().isoformat(),
        maturity_date=ticket["maturity_date"],
        day_basis=int(bank.get("day_basis") or 360),
        fee_bp=int(bank.get("fee_bp") or 0),
    )
    return Summary(
        values,
        ticket_id=ticket["id"],
        counterparty=bank["id"],
        amount_fen=fen,
        split=(fen, ticket["amount_fen"] - fen),
        rows=[
            (_l("Maturity date"), ticket["maturity_date"]),
            (_l("Highest annual rate you accept (the bank cannot approve above it)"), percent(bound)),
            (_l("Recourse"), RECOURSE_CHOICES["with" if recourse_of(values) else "without"]),
            (_l("Days (from today)"), quote.days),
            (_l("Discount interest at that rate, at most"), figures(quote.discount_interest_fen)),
            (_l("Fee"), figures(quote.fee_fen)),
            (_l("Proceeds to you, at least"), figures(quote.proceeds_fen)),
            (_l("Annualised total cost (interest and fee on the proceeds), at most"), annualised(quote)),
        ],
    )


def application_quote(portal: Portal, actor: Actor, values: dict[str, str]) -> tuple[dict[str, Any], Any]:
    application = worklists.application(portal, actor, text(values, "application_id", 64))
    ticket = reads.get_ticket(portal, actor, application["ticket_id"])
    bank = read_member(portal, application["bank_org_id"])
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


def holder_bound(application: dict[str, Any]) -> list[tuple[Any, Any]]:
    """The row stating the highest rate the holder signed (none on an application made before
    bounds existed)."""
    bound = application.get("max_annual_rate_bp")
    rows = [] if bound is None else [(_l("Highest annual rate the holder accepts"), percent(bound))]
    if application.get("recourse") is not None:
        rows.append((_l("Recourse"), RECOURSE_CHOICES["with" if application["recourse"] else "without"]))
    return rows


def prepare_approve(portal: Portal, actor: Actor, values: dict[str, str]) -> Summary:
    application, quote = application_quote(portal, actor, values)
    bound = application.get("max_annual_rate_bp")
    if bound is not None and quote.annual_rate_bp > bound:
        raise d.RuleViolationError(
            _(
                "The holder accepts at most %(rate)s a year; approve at that rate or below.",
                rate=percent(bound),
            )
        )
    return Summary(
        {**values, "value_date": quote.value_date.isoformat()},
        ticket_id=application["ticket_id"],
        counterparty=application["holder_org_id"],
        amount_fen=application["amount_fen"],
        rows=[
            (_l("Application"), application["id"]),
            *holder_bound(application),
            (_l("Annual rate"), percent(quote.annual_rate_bp)),
            (_l("Value date"), quote.value_date),
            (_l("Days"), quote.days),
            (_l("Discount interest"), figures(quote.discount_interest_fen)),
            (_l("Fee"), figures(quote.fee_fen)),
            (_l("Proceeds paid to the holder"), figures(quote.proceeds_fen)),
            (_l("Annualised total cost to the holder"), annualised(quote)),
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


def grant_summary(portal: Portal, actor: Actor, values: dict[str, str]) -> Summary:
    core = read_member(portal, chosen(values, "core_org_id", _l("Choose the core enterprise.")))
    return Summary(
        values,
        counterparty=core["id"],
        amount_fen=amount(values),
        rows=[(_l("Status"), _l("offered: drawn once the core enterprise accepts it"))],
    )


def answer_summary(portal: Portal, actor: Actor, values: dict[str, str]) -> Summary:
    line_id = text(values, "credit_line_id", 64)
    for line in reads.list_credit_lines(portal, actor)["items"]:
        if line["id"] == line_id and line["core_org_id"] == actor.member_id:
            return Summary(
                values,
                counterparty=line["bank_org_id"],
                amount_fen=line["limit_fen"],
                rows=[(_l("Credit line"), line_id)],
            )
    raise d.NotFoundError(_("No credit line %(id)s is offered to you.", id=line_id))


ACTIONS.update(
    {
        action.name: action
        for action in [
            Action(
                "finance",
                _l("Apply for financing (discount)"),
                ("ticket_id", "bank_org_id", "amount", "max_rate", "recourse"),
                prepare_finance,
                lambda p, a, v, s: financing.apply_financing(
                    p.platform,
                    a,
                    ticket_id=text(v, "ticket_id", 64),
                    bank_org_id=text(v, "bank_org_id", 64),
                    amount_fen=amount(v),
                    max_annual_rate_bp=rate_bp(v, "max_rate"),
                    recourse=recourse_of(v),
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
                    p.platform,
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
                    p.platform,
                    a,
                    application_id=text(v, "application_id", 64),
                    reason=text(v, "reason", 500),
                    pin=s["pin"],
                ),
                to_ticket,
            ),
            Action(
                "grant",
                _l("Offer a credit line"),
                ("core_org_id", "amount"),
                grant_summary,
                lambda p, a, v, s: credit.grant_credit_line(
                    p.platform, a, core_org_id=text(v, "core_org_id", 64), limit_fen=amount(v), pin=s["pin"]
                ),
                lambda result, v: "",
            ),
            Action(
                "accept_line",
                _l("Accept the credit line"),
                ("credit_line_id",),
                answer_summary,
                lambda p, a, v, s: credit.accept_credit_line(
                    p.platform, a, credit_line_id=text(v, "credit_line_id", 64), pin=s["pin"]
                ),
                lambda result, v: "",
            ),
            Action(
                "decline_line",
                _l("Decline the credit line"),
                ("credit_line_id",),
                answer_summary,
                lambda p, a, v, s: credit.decline_credit_line(
                    p.platform, a, credit_line_id=text(v, "credit_line_id", 64), pin=s["pin"]
                ),
                lambda result, v: "",
            ),
        ]
    }
)
