"""Find tickets (#20): search (ticket no., invoice no., counterparty), filters (state, maturity
range, amount range in yuan), sorting and paging on the server over the read model, every
choice kept in the URL (a GET form: a link or a reload shows the same list); the filtered list
exported as CSV or XLSX with the rows the list shows (goldticket.services.exports)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Response, render_template, request, session, url_for
from flask_babel import gettext as _

from goldticket import domain as d
from goldticket.domain.money import parse_yuan
from goldticket.services import exports, reads
from goldticket.services.context import OPERATOR

from ._blueprint import actor, bp, member_names, portal
from .formatting import STATUS_TEXT

FIELDS = ("scope", "q", "status", "maturity_from", "maturity_to", "amount_min", "amount_max", "sort", "order")
PER_PAGE = 20
SORT_LABELS = {
    "id": "Ticket no.",
    "maturity_date": "Maturity",
    "amount_fen": "Amount",
    "status": "State",
}


def _date(name: str) -> dt.date | None:
    value = request.args.get(name, "").strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise d.InvalidInputError(_("Enter dates as YYYY-MM-DD.")) from None


def _amount(name: str) -> int | None:
    value = request.args.get(name, "").strip()
    if not value:
        return None
    try:
        return parse_yuan(value)
    except d.InvalidInputError:
        raise d.InvalidInputError(_("Enter amounts in yuan, such as 1,000.00.")) from None


def _arguments() -> tuple[dict[str, str], dict[str, Any]]:
    """The form's values (as typed, for the URL and the form) and list_tickets' arguments.
    Raises InvalidInputError with a sentence in the page's language."""
    me = actor()
    typed = {name: request.args.get(name, "").strip() for name in FIELDS}
    role = member_names().get(me.member_id, {}).get("role")
    if typed["scope"] not in ("held", "all"):
        typed["scope"] = "held" if role in ("supplier", "bank") else "all"
    status = typed["status"] or None
    if status and (status not in STATUS_TEXT or status == "OVERDUE"):
        raise d.InvalidInputError(_("Choose a state from the list."))
    sort = typed["sort"] if typed["sort"] in reads.SORTS else "id"
    order = "desc" if typed["order"] == "desc" else "asc"
    typed["sort"], typed["order"] = sort, order
    try:
        find = reads.TicketFilter(
            q=typed["q"][:100] or None,
            status=status,
            maturity_from=_date("maturity_from"),
            maturity_to=_date("maturity_to"),
            amount_min_fen=_amount("amount_min"),
            amount_max_fen=_amount("amount_max"),
            sort=sort,
            order=order,
        )
    except d.RuleViolationError:
        raise d.InvalidInputError(_("A range's start is after its end.")) from None
    held = typed["scope"] == "held" and me.member_id != OPERATOR
    return typed, {"holder_org_id": me.member_id if held else None, "find": find}


@bp.get("/tickets")
def find_tickets() -> Any:
    p, me = portal(), actor()
    try:
        typed, arguments = _arguments()
        page = max(1, min(1_000_000, int(request.args.get("page", "1") or 1)))
        found = reads.list_tickets(p, me, page=page, per_page=PER_PAGE, **arguments)
        error = None
    except (d.InvalidInputError, ValueError) as failure:
        typed = {name: request.args.get(name, "").strip() for name in FIELDS}
        found, page = {"items": [], "total": 0}, 1
        error = str(failure) if isinstance(failure, d.InvalidInputError) else _("Enter a page number.")
    kept: dict[str, Any] = {name: value for name, value in typed.items() if value}
    pages = max(1, -(-found["total"] // PER_PAGE))
    return render_template(
        "portal/find.html",
        typed=typed,
        found=found,
        page=page,
        pages=pages,
        error=error,
        statuses=[code for code in STATUS_TEXT if code != "OVERDUE"],
        sorts=SORT_LABELS,
        page_url=lambda n: url_for("portal.find_tickets", **kept, page=n),
        export_url=lambda fmt: url_for("portal.export_tickets", **kept, format=fmt),
    )


@bp.get("/tickets/export")
def export_tickets() -> Any:
    """The filtered list as a file; bad filters answer the list page with the reason."""
    p, me = portal(), actor()
    fmt = request.args.get("format", "csv")
    try:
        _typed, arguments = _arguments()
        made = exports.export_tickets(
            p,
            me,
            fmt if fmt in exports.FORMATS else "csv",
            language=session.get("lang", "zh") if session.get("lang") in ("zh", "en") else "zh",
            status_names={code: str(label) for code, label in STATUS_TEXT.items()},
            **arguments,
        )
    except d.InvalidInputError:
        return find_tickets(), 400
    response = Response(made.data, mimetype=made.mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{made.filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response
