"""The issue form and the invoice files it keeps. A core enterprise names the payee, amount,
maturity date and invoice; the POST (a core enterprise's user only, checked before the file is
read; up to 10 MB) stages the invoice file under its SHA-256 (which goes on the ledger) and goes
on to the confirmation page; the file is kept once the ticket commits (ticket_actions). A ticket's page serves that file back to whoever
may read the ticket, and only the files behind that ticket."""

from __future__ import annotations

from typing import Any

from flask import abort, render_template, request, send_file, session
from flask_babel import gettext as _

from goldticket import domain as d
from goldticket.services import access, accounts, invoices, reads

from ._blueprint import UPLOAD_LIMITS, TypedError, actor, bp, member_names, portal
from .actions import ACTIONS
from .service_messages import sentence
from .signing_views import confirmation


@bp.route("/issue", methods=["GET", "POST"])
def issue() -> Any:
    """The issue form; its POST keeps the invoice file and goes on to the confirmation."""
    p, me = portal(), actor()
    error = None
    if request.method == "POST":
        access.require_member_role(p.platform, me, "core")  # before the file is read or kept
        upload = request.files.get("invoice_file")
        values = {name: request.form.get(name, "") for name in ACTIONS["issue"].fields}
        try:
            if upload is None or not upload.filename:
                raise d.InvalidInputError(_("attach the invoice file"))
            values["invoice_sha256"] = invoices.stage_invoice(
                p.settings, me.username, upload.read(invoices.MAX_INVOICE_BYTES + 1)
            )
            return confirmation("issue", values)
        except TypedError as failure:
            error = sentence(failure)
    suppliers = [m for m in member_names().values() if m.get("role") == "supplier"]
    lines = [
        line
        for line in reads.list_credit_lines(p, actor())["items"]
        if line.get("status", "active") == "active" and line["core_org_id"] == actor().member_id
    ]
    return render_template(
        "portal/issue.html",
        suppliers=suppliers,
        lines=lines,
        error=error,
        form=request.form,
        today=p.platform.today(),
        max_megabytes=invoices.MAX_INVOICE_BYTES // (1024 * 1024),
    ), (422 if error else 200)


# A core user's request body may be this large: a file over the invoice limit (up to here) is
# read far enough to be refused by its size on the form itself, with what was typed kept;
# only a larger body gets the error page (#20 point 12).
MAX_ISSUE_BODY = 3 * invoices.MAX_INVOICE_BYTES + 64 * 1024


def _issue_upload_limit() -> int | None:
    """The room for an invoice for a signed-in core user only (see MAX_ISSUE_BODY)."""
    token = session.get("token")
    if not token:
        return None
    try:
        me = accounts.authenticate(portal(), token)
        access.require_member_role(portal().platform, me, "core")
    except TypedError:
        return None
    return MAX_ISSUE_BODY


UPLOAD_LIMITS["portal.issue"] = _issue_upload_limit


@bp.get("/tickets/<ticket_id>/invoices/<digest>")
def invoice_file(ticket_id: str, digest: str) -> Any:
    """The invoice file behind a ticket's ledger SHA-256, for whoever may read the ticket."""
    shown = reads.get_ticket(portal(), actor(), ticket_id)
    if digest not in {item["sha256"] for item in shown.get("invoices", [])}:
        abort(404)
    if not invoices.has_invoice(portal().settings, digest):
        abort(404)  # issued elsewhere (the API or another portal): only its digest is on the ledger
    path = invoices.folder(portal().settings) / digest
    return send_file(
        path, mimetype="application/octet-stream", as_attachment=True, download_name=f"{digest}.bin"
    )
