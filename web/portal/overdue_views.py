"""The portal's overdue pages (#21): the overdue pieces a member holds or issued, or of which
payment was demanded of it; one piece's overdue record with its demands, the forms to mark it,
demand payment and close a demand, and each demand's signed document."""

from __future__ import annotations

from typing import Any

from flask import render_template, session
from werkzeug.wrappers import Response

from goldticket.services import reads, recourse

from ._blueprint import actor, bp, portal
from .overdue_actions import OUTCOMES


@bp.get("/overdue")
def overdue_list() -> Any:
    return render_template("portal/overdue.html", items=recourse.list_overdue(portal().platform, actor()))


@bp.get("/tickets/<ticket_id>/overdue")
def overdue_ticket(ticket_id: str) -> Any:
    p, me = portal(), actor()
    ticket = reads.get_ticket(p, me, ticket_id)  # another member's ticket reads as absent (404 page)
    detail = recourse.overdue_detail(p.platform, me, ticket_id)
    return render_template(
        "portal/overdue_ticket.html",
        ticket=ticket,
        detail=detail,
        today=p.platform.today().isoformat(),
        outcomes=OUTCOMES,
        form=session.pop("form_values", {}),  # a refused demand comes back with what was typed
    )


@bp.get("/tickets/<ticket_id>/demands/<demand_id>/pdf")
def demand_document(ticket_id: str, demand_id: str) -> Any:
    data = recourse.demand_pdf(portal().platform, actor(), ticket_id, demand_id)
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="demand-{demand_id}.pdf"'
    return response
