"""A ticket's own life as portal writes: the core enterprise issues it against an invoice, its
payee accepts or rejects it, the core enterprise settles the live pieces at maturity, the
operator freezes and unfreezes it. Thin: each calls one use case of goldticket.services."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from goldticket import domain as d
from goldticket.services import invoices, reads, settlement, tickets, worklists
from goldticket.services.context import Actor
from goldticket.services.portal import Portal

from ._blueprint import org_name
from .actions import ACTIONS, Action, Summary, amount, chosen, read_member, read_ticket, text, to_ticket
from .formatting import money


def grace_days(values: dict[str, str]) -> int | None:
    """The grace days typed on the issue form (empty: the default)."""
    typed = (values.get("grace_days") or "").strip()
    if not typed:
        return None
    if not typed.isdigit():
        raise d.InvalidInputError(_("Type the grace days as a whole number from 0 to 30."))
    return d.require_grace_days(int(typed))


def prepare_issue(portal: Portal, actor: Actor, values: dict[str, str]) -> Summary:
    payee = read_member(portal, chosen(values, "payee_org_id", _l("Choose the supplier.")))
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
            (
                _l("Credit line"),
                (values.get("credit_line_id") or "").strip() or _l("the first active line with room"),
            ),
            *(
                [(_l("Reason for a term over 6 months"), reason)]
                if (reason := (values.get("term_reason") or "").strip())
                else []
            ),
            (_l("Grace days after maturity"), grace_days(values) if grace_days(values) is not None else 3),
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
    issued = tickets.issue_ticket(
        portal.platform,
        actor,
        payee_org_id=text(values, "payee_org_id", 64),
        amount_fen=fen,
        maturity_date=(values.get("maturity_date") or "").strip(),
        invoices=[invoice],
        credit_line_id=(values.get("credit_line_id") or "").strip() or None,
        term_reason=(values.get("term_reason") or "").strip() or None,
        grace_days=grace_days(values),
        pin=secrets["pin"],
    )
    invoices.keep_staged(portal.settings, actor.username, str(invoice["sha256"]))  # committed: keep it
    return issued


def prepare_accept(portal: Portal, actor: Actor, values: dict[str, str]) -> Summary:
    ticket = read_ticket(portal, actor, values)
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


def prepare_cancel(portal: Portal, actor: Actor, values: dict[str, str]) -> Summary:
    ticket = read_ticket(portal, actor, values)
    return Summary(
        values,
        ticket_id=ticket["id"],
        counterparty=ticket["holder_org_id"],
        amount_fen=ticket["amount_fen"],
        rows=[
            (_l("Maturity date"), ticket["maturity_date"]),
            (_l("Credit line"), _l("the amount is released to your credit line")),
        ],
    )


def prepare_settle(portal: Portal, actor: Actor, values: dict[str, str]) -> Summary:
    root = read_ticket(portal, actor, values)
    pieces = reads.list_tickets(portal, actor, root_id=root["id"], per_page=500)["items"]
    live = [p for p in pieces if p["status"] in worklists.LIVE]
    rows: list[tuple[Any, Any]] = [(_l("Maturity date"), root["maturity_date"])]
    rows += [
        (_l("Pays"), f"{p['id']} → {org_name(p['holder_org_id'])} · {money(p['amount_fen'])}") for p in live
    ]
    return Summary(values, ticket_id=root["id"], amount_fen=sum(p["amount_fen"] for p in live), rows=rows)


def prepare_freeze(portal: Portal, actor: Actor, values: dict[str, str]) -> Summary:
    ticket = read_ticket(portal, actor, values)
    rows = [(_l("Reason"), text(values, "reason", 500))] if "reason" in values else []
    return Summary(
        values,
        ticket_id=ticket["id"],
        counterparty=ticket["holder_org_id"],
        amount_fen=ticket["amount_fen"],
        rows=rows,
    )


ACTIONS.update(
    {
        action.name: action
        for action in [
            Action(
                "issue",
                _l("Issue a ticket"),
                (
                    "payee_org_id",
                    "amount",
                    "maturity_date",
                    "invoice_number",
                    "invoice_amount",
                    "invoice_sha256",
                    "credit_line_id",
                    "term_reason",
                    "grace_days",
                ),
                prepare_issue,
                perform_issue,
                to_ticket,
            ),
            Action(
                "accept",
                _l("Accept the ticket"),
                ("ticket_id",),
                prepare_accept,
                lambda p, a, v, s: tickets.accept_ticket(
                    p.platform, a, text(v, "ticket_id", 64), pin=s["pin"]
                ),
                to_ticket,
            ),
            Action(
                "reject",
                _l("Reject the ticket"),
                ("ticket_id", "reason"),
                prepare_reject,
                lambda p, a, v, s: tickets.reject_ticket(
                    p.platform, a, text(v, "ticket_id", 64), text(v, "reason", 500), pin=s["pin"]
                ),
                to_ticket,
            ),
            Action(
                "cancel_ticket",
                _l("Withdraw the ticket (not yet accepted)"),
                ("ticket_id",),
                prepare_cancel,
                lambda p, a, v, s: tickets.cancel_ticket(
                    p.platform, a, text(v, "ticket_id", 64), pin=s["pin"]
                ),
                to_ticket,
            ),
            Action(
                "settle",
                _l("Settle at maturity"),
                ("ticket_id",),
                prepare_settle,
                lambda p, a, v, s: settlement.settle_ticket(
                    p.platform, a, text(v, "ticket_id", 64), pin=s["pin"]
                ),
                lambda result, v: str(result["root_id"]),
            ),
            Action(
                "freeze",
                _l("Freeze the ticket"),
                ("ticket_id", "reason"),
                prepare_freeze,
                lambda p, a, v, s: tickets.freeze_ticket(
                    p.platform, a, text(v, "ticket_id", 64), text(v, "reason", 500), pin=s["pin"]
                ),
                to_ticket,
            ),
            Action(
                "unfreeze",
                _l("Unfreeze the ticket"),
                ("ticket_id",),
                prepare_freeze,
                lambda p, a, v, s: tickets.unfreeze_ticket(
                    p.platform, a, text(v, "ticket_id", 64), pin=s["pin"]
                ),
                to_ticket,
            ),
        ]
    }
)
