"""Transfers as portal writes: a holder offers part or all of a ticket to another member (the
confirmation shows what goes and what is kept), the receiver accepts or rejects the offer, the
holder withdraws it. Thin: each calls one use case of goldticket.services.transfers."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from goldticket import domain as d
from goldticket.services import reads, transfers, worklists
from goldticket.services.context import Actor
from goldticket.services.portal import Portal

from .actions import ACTIONS, Action, Summary, amount, chosen, read_member, read_ticket, text, to_ticket


def prepare_transfer(portal: Portal, actor: Actor, values: dict[str, str]) -> Summary:
    ticket = read_ticket(portal, actor, values)
    to = read_member(portal, chosen(values, "to_org_id", _l("Choose the receiver.")))
    if to.get("role") != "supplier" or to["id"] in (actor.member_id, ticket["issuer_org_id"]):
        raise d.InvalidInputError(_("A ticket is transferred to another supplier only."))
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
    receiver = offer["to_org_id"] == actor.member_id
    other = offer["from_org_id"] if receiver else offer["to_org_id"]
    return Summary(
        values,
        ticket_id=ticket["id"],
        counterparty=other,
        amount_fen=offer["amount_fen"],
        # the receiver gets a piece of the offered amount; what the sender keeps is the sender's
        split=None if receiver else (offer["amount_fen"], ticket["amount_fen"] - offer["amount_fen"]),
        receives=offer["amount_fen"] if receiver else None,
        rows=[(_l("Offer"), offer["id"]), (_l("Maturity date"), ticket["maturity_date"])],
    )


ACTIONS.update(
    {
        action.name: action
        for action in [
            Action(
                "transfer",
                _l("Transfer (split) the ticket"),
                ("ticket_id", "to_org_id", "amount"),
                prepare_transfer,
                lambda p, a, v, s: transfers.offer_transfer(
                    p.platform,
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
                lambda p, a, v, s: transfers.accept_offer(
                    p.platform, a, text(v, "offer_id", 64), pin=s["pin"]
                ),
                lambda result, v: str(result["transferred"]["id"]),
            ),
            Action(
                "reject_offer",
                _l("Reject the transfer offer"),
                ("offer_id",),
                prepare_offer,
                lambda p, a, v, s: transfers.reject_offer(
                    p.platform, a, text(v, "offer_id", 64), pin=s["pin"]
                ),
                to_ticket,
            ),
            Action(
                "cancel_offer",
                _l("Withdraw the transfer offer"),
                ("offer_id",),
                prepare_offer,
                lambda p, a, v, s: transfers.cancel_offer(
                    p.platform, a, text(v, "offer_id", 64), pin=s["pin"]
                ),
                to_ticket,
            ),
        ]
    }
)
