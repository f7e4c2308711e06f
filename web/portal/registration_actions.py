"""Registration of a financing (中登网, #21) in the portal: the bank's application page shows the
filing to download (JSON and PDF), the registrations recorded and the search before funding;
the bank records the registration number and dates it obtained (signed by its card) before it
approves. Thin: each calls one use case of goldticket.services.registration."""

from __future__ import annotations

from typing import Any

from flask import Response, url_for
from flask_babel import lazy_gettext as _l

from goldticket import domain as d
from goldticket import registry
from goldticket.services import registration, worklists
from goldticket.services.context import Actor
from goldticket.services.portal import Portal

from ._blueprint import actor, bp, portal
from .actions import ACTIONS, Action, Summary, text


def _optional_date(values: dict[str, str], name: str) -> str | None:
    value = (values.get(name) or "").strip()
    return d.parse_date(value, name).isoformat() if value else None


def prepare_register(portal: Portal, actor: Actor, values: dict[str, str]) -> Summary:
    application = worklists.application(portal, actor, text(values, "application_id", 64))
    filing = registration.prepare_portal_filing(portal, actor, application["id"])
    registered_on = _optional_date(values, "registered_on") or portal.platform.today().isoformat()
    expires_on = _optional_date(values, "expires_on")
    rows: list[tuple[Any, Any]] = [
        (_l("Application"), application["id"]),
        (_l("Registry"), d.DEFAULT_REGISTRY),
        (_l("Registration number"), text(values, "registration_number", 64)),
        (_l("Registered on"), registered_on),
        (_l("Expires on"), expires_on or _l("a year after registration")),
        (_l("Invoices"), "、".join(item["number"] for item in filing["receivable"]["invoices"])),
        (_l("Filing SHA-256"), registry.filing_sha256(filing)),
    ]
    amends = (values.get("amends") or "").strip()
    if amends:
        rows.append((_l("Amends registration"), amends))
    return Summary(
        {**values, "registered_on": registered_on, "expires_on": expires_on or ""},
        ticket_id=application["ticket_id"],
        counterparty=application["holder_org_id"],
        amount_fen=application["amount_fen"],
        rows=rows,
    )


def perform_register(portal: Portal, actor: Actor, values: dict[str, str], secrets: dict[str, str]) -> Any:
    return registration.record_portal_registration(
        portal,
        actor,
        application_id=text(values, "application_id", 64),
        registration_number=text(values, "registration_number", 64),
        registered_on=_optional_date(values, "registered_on") or portal.platform.today(),
        expires_on=_optional_date(values, "expires_on"),
        amends=(values.get("amends") or "").strip() or None,
        pin=secrets["pin"],
    )


ACTIONS["register"] = Action(
    "register",
    _l("Record the registration (中登网)"),
    ("application_id", "registration_number", "registered_on", "expires_on", "amends"),
    prepare_register,
    perform_register,
    lambda result, values: url_for("portal.application", application_id=result["application_id"]),
)


STATES = {
    "current": _l("current"),
    "expired": _l("expired"),
    "amended": _l("amended"),
    "pending": _l("not yet in force"),
}


def review(portal: Portal, actor: Actor, application: dict[str, Any]) -> dict[str, Any]:
    """What the application page shows about registration: to its bank, the filing's hash, the
    registrations and the search before funding; to its holder, the registrations."""
    shown: dict[str, Any] = {"registration_states": STATES}
    if application["bank_org_id"] == actor.member_id:
        found = registration.search_before_funding(portal.platform, actor, application["id"])
        for item in found["financings"]:
            item["amount"] = d.format_fen(item["amount_fen"])
        filing = registration.prepare_portal_filing(portal, actor, application["id"])
        return {
            **shown,
            "registrations": found["own"],
            "search": found,
            "filing_sha256": registry.filing_sha256(filing),
        }
    return {**shown, "registrations": registration.registrations(portal.platform, actor, application["id"])}


def _download(data: bytes, mimetype: str, filename: str) -> Response:
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/applications/<application_id>/filing.json")
def filing_json(application_id: str) -> Response:
    content = registration.prepare_portal_filing(portal(), actor(), application_id)
    return _download(registration.filing_json(content), "application/json", f"filing-{application_id}.json")


@bp.get("/applications/<application_id>/filing.pdf")
def filing_pdf(application_id: str) -> Response:
    p = portal()
    content = registration.prepare_portal_filing(p, actor(), application_id)
    return _download(
        registration.filing_pdf(p.platform, content), "application/pdf", f"filing-{application_id}.pdf"
    )
