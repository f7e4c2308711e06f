"""Overdue and recourse as portal writes (#21): the holder (or the operator) marks an unpaid
piece overdue, the holder demands payment (追索) of an obligor with a signed document, a demand
is closed as paid or written off. Thin: each calls one use case of goldticket.services.recourse."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from goldticket import domain as d
from goldticket.services import recourse
from goldticket.services.context import Actor
from goldticket.services.portal import Portal

from .actions import ACTIONS, Action, Summary, amount, chosen, figures, read_ticket, text

OUTCOMES = {
    "paid": _l("Paid"),
    "written_off": _l("Written off"),
}


def _back(result: dict[str, Any], values: dict[str, str]) -> str:
    return str(url_for("portal.overdue_ticket", ticket_id=result.get("ticket_id") or values.get("ticket_id")))


def prepare_mark(portal: Portal, actor: Actor, values: dict[str, str]) -> Summary:
    ticket = read_ticket(portal, actor, values)
    detail = recourse.overdue_detail(portal.platform, actor, ticket["id"])
    return Summary(
        values,
        ticket_id=ticket["id"],
        amount_fen=detail["unpaid_fen"],
        rows=[
            (_l("Maturity date"), ticket["maturity_date"]),
            (_l("Grace days"), detail["grace_days"]),
            (_l("Overdue from"), detail["overdue_from"]),
        ],
    )


def _demand_amount(values: dict[str, str], unpaid_fen: int) -> int:
    return amount(values) if (values.get("amount") or "").strip() else unpaid_fen


def prepare_demand(portal: Portal, actor: Actor, values: dict[str, str]) -> Summary:
    ticket = read_ticket(portal, actor, values)
    detail = recourse.overdue_detail(portal.platform, actor, ticket["id"])
    obligor = chosen(values, "obligor_org_id", _l("Choose whom to demand payment of."))
    if detail["overdue"] is None:
        raise d.StateConflictError(_("Mark the ticket overdue first."))
    if obligor not in detail["obligors"]:
        raise d.ForbiddenError(
            _(
                "%(id)s is not liable for this ticket: the issuer is; an earlier holder only with recourse.",
                id=obligor,
            )
        )
    fen = _demand_amount(values, detail["unpaid_fen"])
    if fen > detail["unpaid_fen"]:
        raise d.RuleViolationError(
            _("At most %(amount)s is unpaid.", amount=d.format_fen(detail["unpaid_fen"]))
        )
    basis = (
        _l("The issuer")
        if detail["obligors"][obligor] == "issuer"
        else _l("An earlier holder (with recourse)")
    )
    return Summary(
        {**values, "amount": d.format_fen(fen)},
        ticket_id=ticket["id"],
        counterparty=obligor,
        amount_fen=fen,
        rows=[
            (_l("Liable as"), basis),
            (_l("Unpaid"), figures(detail["unpaid_fen"])),
            (
                _l("Document"),
                _l("A demand for payment (追索通知书), signed PDF; its SHA-256 goes on the ledger"),
            ),
        ],
    )


def prepare_close(portal: Portal, actor: Actor, values: dict[str, str]) -> Summary:
    ticket = read_ticket(portal, actor, values)
    detail = recourse.overdue_detail(portal.platform, actor, ticket["id"])
    demand_id = text(values, "demand_id", 64)
    demand = next((item for item in detail["demands"] if item["demand_id"] == demand_id), None)
    if demand is None:
        raise d.NotFoundError(_("No demand %(id)s on this ticket.", id=demand_id))
    outcome = (values.get("outcome") or "").strip()
    if outcome not in OUTCOMES:
        raise d.InvalidInputError(_("Choose paid or written off."))
    reference = (values.get("payment_reference") or "").strip()
    rows: list[tuple[Any, Any]] = [(_l("Demand"), demand_id), (_l("Outcome"), OUTCOMES[outcome])]
    if outcome == "paid":
        rows.append(
            (_l("Payment reference"), reference)
            if reference
            else (_l("Paid by"), _l("the issuer's bank (booked in full)"))
        )
    return Summary(
        values,
        ticket_id=ticket["id"],
        counterparty=demand["obligor_org_id"],
        amount_fen=demand["amount_fen"],
        rows=rows,
    )


ACTIONS.update(
    {
        action.name: action
        for action in [
            Action(
                "mark_overdue",
                _l("Mark the ticket overdue"),
                ("ticket_id",),
                prepare_mark,
                lambda p, a, v, s: recourse.mark_overdue(
                    p.platform, a, text(v, "ticket_id", 64), pin=s["pin"]
                ),
                _back,
            ),
            Action(
                "demand",
                _l("Demand payment (追索)"),
                ("ticket_id", "obligor_org_id", "amount"),
                prepare_demand,
                lambda p, a, v, s: recourse.demand_payment(
                    p.platform,
                    a,
                    text(v, "ticket_id", 64),
                    obligor_org_id=text(v, "obligor_org_id", 64),
                    amount_fen=amount(v) if (v.get("amount") or "").strip() else None,
                    pin=s["pin"],
                ),
                _back,
                # the use case renders and signs the document before it submits: not rehearsed
                # (the confirmation's checks are the chaincode's, made on the same records)
                rehearses=False,
            ),
            Action(
                "close_demand",
                _l("Close the demand"),
                ("ticket_id", "demand_id", "outcome", "payment_reference"),
                prepare_close,
                lambda p, a, v, s: recourse.close_demand(
                    p.platform,
                    a,
                    text(v, "ticket_id", 64),
                    text(v, "demand_id", 64),
                    outcome=text(v, "outcome", 16),
                    payment_reference=(v.get("payment_reference") or "").strip() or None,
                    pin=s["pin"],
                ),
                _back,
            ),
        ]
    }
)
