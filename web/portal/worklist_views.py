"""The pages each role works from: home with the role's worklists (a supplier's inbox and
offers, a core enterprise's tickets to settle and outstanding by maturity, a bank's
applications and portfolio, the operator's frozen and recent tickets), a financing
application under the bank's review, the credit lines, and the operator desk's directory."""

from __future__ import annotations

from typing import Any

from flask import abort, render_template, session

from goldticket.services import account_changes, reads, worklists
from goldticket.services.context import OPERATOR

from ._blueprint import actor, bp, member_names, portal
from .certificate_views import documents_context
from .help_views import tour_steps
from .registration_actions import review  # registration (中登网, #21)


@bp.get("/")
def home() -> Any:
    me = actor()
    role = member_names().get(me.member_id, {}).get("role")
    p = portal()
    context: dict[str, Any] = {"role": role, "tour": tour_steps()}
    if role == "core":
        context["pending"] = worklists.issued(p, me, ["PENDING_ACCEPTANCE"])
        context["due"] = worklists.due_for_settlement(p, me)
        context["outstanding"] = worklists.outstanding_by_maturity(p, me)
        context["issued"] = worklists.issued(p, me, worklists.LIVE + ["SPLIT"])
        context["lines"] = reads.list_credit_lines(p, me)["items"]
    elif role == "supplier":
        context["inbox"] = worklists.held(p, me, ["PENDING_ACCEPTANCE"])
        context["offers"] = worklists.offers_to(p, me)
        context["my_offers"] = worklists.offers_from(p, me)
        context["holdings"] = worklists.held(p, me, worklists.LIVE)
        context["settled"] = worklists.held(p, me, ["SETTLED"])
    elif role == "bank":
        context["applications"] = worklists.applications_to(p, me)
        context["portfolio"] = worklists.held(p, me, ["FINANCED"])
        context["settled"] = worklists.held(p, me, ["SETTLED"])
        context["lines"] = reads.list_credit_lines(p, me)["items"]
    elif role == "operator":
        context["frozen"] = reads.list_tickets(p, me, status="FROZEN")
        context["recent"] = reads.list_tickets(p, me, per_page=20)
    waiting = [t["id"] for key in ("pending", "inbox") for t in context.get(key, {}).get("items", [])]
    waiting += [
        o["ticket_id"] for key in ("offers", "my_offers", "applications") for o in context.get(key, [])
    ]
    context["since"] = worklists.pending_since(p, waiting)
    if context.get("outstanding"):
        context["chart_max"] = max(row["amount_fen"] for row in context["outstanding"])
    return render_template("portal/home.html", **context)


@bp.get("/applications/<application_id>")
def application(application_id: str) -> Any:
    p, me = portal(), actor()
    found = worklists.application(p, me, application_id)
    shown = reads.get_ticket(p, me, found["ticket_id"])
    bank = member_names().get(found["bank_org_id"], {})
    return render_template(
        "portal/application.html",
        application=found,
        ticket=shown,
        bank=bank,
        today=p.platform.today(),
        **review(p, me, found),
        **documents_context(worklists.ticket_documents(p, me, found["ticket_id"])),
    )


@bp.get("/credit")
def credit_lines() -> Any:
    p, me = portal(), actor()
    cores = [m for m in member_names().values() if m.get("role") == "core"]
    role = member_names().get(me.member_id, {}).get("role")
    return render_template(
        "portal/credit.html",
        lines=reads.list_credit_lines(p, me)["items"],
        cores=cores,
        role=role,
        form=session.pop("form_values", {}),  # a refused offer comes back with what was typed
    )


@bp.get("/desk")
def desk() -> Any:
    me = actor()
    if me.member_id != OPERATOR:
        abort(404)
    return render_template(
        "portal/desk.html",
        members=list(member_names().values()),
        users=worklists.directory(portal(), me),
        account_changes=account_changes.changes(portal(), me, status="PENDING"),
    )
