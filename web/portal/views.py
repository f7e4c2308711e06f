"""The portal's pages. Views read through the services, hand writes to :mod:`actions` (two
steps: a confirmation page, then the signature with the card PIN) and show every typed error
as a sentence on the page that caused it."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlsplit

from flask import abort, flash, redirect, render_template, request, send_file, session, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from goldticket import domain as d
from goldticket.services import accounts, certificates, idempotency, invoices, reads, worklists
from goldticket.services.platform import OPERATOR, Actor

# each *_actions module adds its writes to ACTIONS
from . import desk_actions, financing_actions, ticket_actions, transfer_actions  # noqa: F401
from ._blueprint import TypedError, actor, bp, member_names, portal, safe_next
from .actions import ACTIONS, Summary
from .service_messages import sentence


# ---------------------------------------------------------------------- session
@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    error = None
    if request.method == "POST":
        try:
            answer = accounts.login(
                portal(),
                request.form.get("username", ""),
                request.form.get("password", ""),
                request.remote_addr or "unknown",
            )
        except d.DomainError as failure:
            error = sentence(failure)
        else:
            lang = session.get("lang")
            session.clear()  # a new session for the new login
            if lang:
                session["lang"] = lang
            session["token"] = answer["token"]
            return redirect(safe_next(request.args.get("next")))
    return render_template("portal/login.html", error=error), (401 if error else 200)


@bp.post("/logout")
def logout() -> Response:
    token = session.get("token")
    if token:
        accounts.revoke(portal(), token)
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    return redirect(url_for("portal.login"))


@bp.get("/lang/<code>")
def language(code: str) -> Response:
    if code in ("zh", "en"):
        session["lang"] = code
    return redirect(safe_next(request.args.get("next")))


# ---------------------------------------------------------------------- pages
@bp.get("/")
def home() -> Any:
    me = actor()
    role = member_names().get(me.member_id, {}).get("role")
    p = portal()
    context: dict[str, Any] = {"role": role}
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
    elif role == "bank":
        context["applications"] = worklists.applications_to(p, me)
        context["portfolio"] = worklists.held(p, me, ["FINANCED"])
        context["lines"] = reads.list_credit_lines(p, me)["items"]
    elif role == "operator":
        context["frozen"] = reads.list_tickets(p, me, status="FROZEN")
        context["recent"] = reads.list_tickets(p, me, per_page=20)
    if context.get("outstanding"):
        context["chart_max"] = max(row["amount_fen"] for row in context["outstanding"])
    return render_template("portal/home.html", **context)


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
    )


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


@bp.route("/tickets/<ticket_id>/<kind>", methods=["GET"])
def ticket_form(ticket_id: str, kind: str) -> Any:
    if kind not in ("transfer", "finance"):
        abort(404)
    p, me = portal(), actor()
    shown = reads.get_ticket(p, me, ticket_id)
    members = [m for m in member_names().values() if m["id"] not in (me.member_id, OPERATOR)]
    return render_template(
        f"portal/{kind}.html",
        ticket=shown,
        members=members,
        today=p.platform.today(),
        form=session.pop("form_values", {}),
    )


@bp.route("/issue", methods=["GET", "POST"])
def issue() -> Any:
    """The issue form; its POST keeps the invoice file and goes on to the confirmation."""
    p = portal()
    error = None
    if request.method == "POST":
        request.max_content_length = invoices.MAX_INVOICE_BYTES + 64 * 1024
        upload = request.files.get("invoice_file")
        values = {name: request.form.get(name, "") for name in ACTIONS["issue"].fields}
        try:
            if upload is None or not upload.filename:
                raise d.InvalidInputError(_("attach the invoice file"))
            values["invoice_sha256"] = invoices.store_invoice(
                p.settings, upload.read(invoices.MAX_INVOICE_BYTES + 1)
            )
            return _confirm("issue", values)
        except TypedError as failure:
            error = sentence(failure)
    suppliers = [m for m in member_names().values() if m.get("role") == "supplier"]
    return render_template(
        "portal/issue.html", suppliers=suppliers, error=error, form=request.form, today=p.platform.today()
    ), (422 if error else 200)


@bp.get("/applications/<application_id>")
def application(application_id: str) -> Any:
    p, me = portal(), actor()
    found = worklists.application(p, me, application_id)
    shown = reads.get_ticket(p, me, found["ticket_id"])
    bank = member_names().get(found["bank_org_id"], {})
    return render_template(
        "portal/application.html", application=found, ticket=shown, bank=bank, today=p.platform.today()
    )


@bp.get("/credit")
def credit_lines() -> Any:
    p, me = portal(), actor()
    cores = [m for m in member_names().values() if m.get("role") == "core"]
    role = member_names().get(me.member_id, {}).get("role")
    return render_template(
        "portal/credit.html", lines=reads.list_credit_lines(p, me)["items"], cores=cores, role=role
    )


@bp.get("/desk")
def desk() -> Any:
    me = actor()
    if me.member_id != OPERATOR:
        abort(404)
    return render_template(
        "portal/desk.html", members=list(member_names().values()), users=worklists.directory(portal(), me)
    )


# ---------------------------------------------------------------------- signing
def _confirm(name: str, values: dict[str, str], error: str | None = None) -> Any:
    action = ACTIONS[name]
    summary: Summary = action.prepare(portal(), actor(), values)
    carried = {field: summary.values.get(field, "") for field in action.fields}
    return render_template(
        "portal/confirm.html",
        action=action,
        summary=summary,
        carried=carried,
        request_key=request.form.get("request_key") or secrets.token_urlsafe(16),
        error=error,
    ), (422 if error else 200)


@bp.post("/sign/<name>")
def confirm(name: str) -> Any:
    if name not in ACTIONS:
        abort(404)
    values = {field: request.form.get(field, "") for field in ACTIONS[name].fields}
    try:
        return _confirm(name, values)
    except TypedError as failure:
        flash(sentence(failure), "error")
        session["form_values"] = values  # the form shows them again beside the error (never a secret)
        back = request.form.get("back")
        return redirect(safe_next(back or request.referrer and urlsplit(request.referrer).path))


@bp.post("/sign/<name>/commit")
def commit(name: str) -> Any:
    if name not in ACTIONS:
        abort(404)
    action = ACTIONS[name]
    values = {field: request.form.get(field, "") for field in action.fields}
    typed = {field: request.form.get(field, "") for field, _label in action.secrets}
    key = request.form.get("request_key") or None
    p, me = portal(), actor()

    def once() -> tuple[int, Any]:
        result = action.perform(p, me, values, typed)
        p.follower.catch_up()
        return 200, result

    def recover(result: Any) -> tuple[int, Any]:
        p.follower.catch_up()
        return 200, result

    try:
        fingerprint = idempotency.fingerprint("PORTAL", name, values)
        outcome = idempotency.run(p, me, key and f"portal:{key}", fingerprint, once, recover)
    except TypedError as failure:
        try:
            return _confirm(name, values, error=sentence(failure))
        except TypedError as again:  # the thing to sign is gone (e.g. already answered)
            flash(sentence(again), "error")
            return redirect(url_for("portal.home"))
    result = outcome.body
    if name == "settle":
        return render_template("portal/statement.html", statement=result)
    flash(_("Signed and committed: %(action)s.", action=action.title), "ok")
    target = action.done(result, values)
    if not target:
        return redirect(url_for("portal.credit_lines"))
    if target.startswith("/"):
        return redirect(target)
    return redirect(url_for("portal.ticket", ticket_id=target))
