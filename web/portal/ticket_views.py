"""A ticket's pages: the ticket with its history, lineage (穿透), clearing statements once settled
and whether it offers the certificate; its transfer and financing forms, which post to the
confirmation page. Another member's ticket reads as absent (404)."""

from __future__ import annotations

from typing import Any

from flask import abort, render_template, session

from goldticket import domain as d
from goldticket.services import certificates, reads, worklists
from goldticket.services.context import OPERATOR, Actor

from ._blueprint import actor, bp, member_names, portal
from .account_change_views import notices_of
from .certificate_views import documents_context


@bp.get("/tickets/<ticket_id>")
def ticket(ticket_id: str) -> Any:
    p, me = portal(), actor()
    shown = reads.get_ticket(p, me, ticket_id)  # NotFoundError (404 page) for another member's
    lineage = reads.ticket_lineage(p, me, ticket_id)
    return render_template(
        "portal/ticket.html",
        ticket=shown,
        history=reads.ticket_history(p, me, ticket_id),
        lineage=lineage,
        statements=_statements(shown, lineage, me),
        role=member_names().get(me.member_id, {}).get("role"),
        banks=[m for m in member_names().values() if m.get("role") == "bank"],
        certifiable=_certifiable(shown, me),
        account_notices=notices_of(_parties(lineage)),
        **documents_context(worklists.ticket_documents(p, me, ticket_id)),
    )


def _parties(node: dict[str, Any]) -> set[str]:
    """The issuer and every holder of the pieces of a lineage (#21: whose account changed)."""
    ticket = node["ticket"]
    found = {ticket["issuer_org_id"], ticket["holder_org_id"]}
    for child in node["children"]:
        found |= _parties(child)
    return found


def _statements(shown: dict[str, Any], lineage: dict[str, Any], me: Actor) -> list[dict[str, Any]]:
    """The clearing statements of the ticket's root the actor may read, once a piece is settled."""

    def settled(node: dict[str, Any]) -> bool:
        return node["ticket"]["status"] == "SETTLED" or any(settled(child) for child in node["children"])

    if not settled(lineage):
        return []
    return certificates.list_statements(portal().platform, me, shown["root_id"])


def _certifiable(shown: dict[str, Any], me: Actor) -> bool:
    """Whether the page offers the certificate (issue_certificate has the last word)."""
    if me.member_id not in (shown["holder_org_id"], shown["issuer_org_id"]):
        return False
    try:
        d.check_certifiable(d.Ticket.from_dict(shown))
    except d.RuleViolationError:
        return False
    return True


@bp.route("/tickets/<ticket_id>/<kind>", methods=["GET"])
def ticket_form(ticket_id: str, kind: str) -> Any:
    if kind not in ("transfer", "finance"):
        abort(404)
    p, me = portal(), actor()
    shown = reads.get_ticket(p, me, ticket_id)
    # only the members the ticket can go to: another supplier (transfer), a bank (financing)
    wanted = "supplier" if kind == "transfer" else "bank"
    members = [
        m
        for m in member_names().values()
        if m.get("role") == wanted and m["id"] not in (me.member_id, OPERATOR, shown["issuer_org_id"])
    ]
    return render_template(
        f"portal/{kind}.html",
        ticket=shown,
        members=members,
        today=p.platform.today(),
        form=session.pop("form_values", {}),
    )
