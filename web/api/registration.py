"""Registration of financings (中登网, #21): the filing prepared for the bank (JSON and PDF),
handing it to the registry adapter, the registration the bank records before approving, an
application's registrations and the search before funding."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from goldticket.services import registration
from goldticket.services.context import Actor

from ._endpoint import Write, endpoint, portal
from .schemas import Registration, RegistrationSearch

bp = Blueprint("registration", __name__)


def _download(data: bytes, mimetype: str, filename: str) -> Response:
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@endpoint(
    bp,
    "/financing/<application_id>/filing",
    "GET",
    summary="The registration filing prepared for the application's bank, machine-readable (canonical JSON:"
    " its SHA-256 is what the registration records)",
)
def filing(actor: Actor, application_id: str) -> Response:
    content = registration.prepare_portal_filing(portal(), actor, application_id)
    return _download(registration.filing_json(content), "application/json", f"filing-{application_id}.json")


@endpoint(
    bp,
    "/financing/<application_id>/filing.pdf",
    "GET",
    summary="The registration filing as a PDF signed by the platform (the application's bank)",
    produces="application/pdf",
)
def filing_pdf(actor: Actor, application_id: str) -> Response:
    current = portal()
    content = registration.prepare_portal_filing(current, actor, application_id)
    data = registration.filing_pdf(current.platform, content)
    return _download(data, "application/pdf", f"filing-{application_id}.pdf")


@endpoint(
    bp,
    "/financing/<application_id>/filing",
    "POST",
    summary="Hand the filing (JSON and PDF) to the registry adapter (file-based: the registry outbox)",
    status=201,
)
def file_filing(actor: Actor, application_id: str) -> dict[str, Any]:
    receipt = registration.file_with_registry(portal(), actor, application_id)
    answer = registration.registry_answer(portal(), actor, application_id)
    return {
        "filing_id": receipt.filing_id,
        "sha256": receipt.sha256,
        "answer": None
        if answer is None
        else {
            "registration_number": answer.registration_number,
            "registered_on": answer.registered_on.isoformat(),
            "expires_on": answer.expires_on.isoformat(),
            "registry": answer.registry,
        },
    }


@endpoint(
    bp,
    "/financing/<application_id>/registration",
    "POST",
    summary="The bank records the registration (中登网) it obtained, before it approves; with amends, it"
    " replaces an earlier one",
    body=Registration,
    status=201,
    write=True,
)
def record(actor: Actor, body: Registration, write: Write, application_id: str) -> Any:
    current = portal()
    return write.run(
        lambda: registration.record_portal_registration(
            current,
            actor,
            application_id=application_id,
            registration_number=body.registration_number,
            registered_on=body.registered_at or current.platform.today(),
            expires_on=body.expires_on,
            registry_name=body.registry,
            amends=body.amends,
            filing_sha256=body.filing_sha256,
            pin=body.pin,
        )
    )


@endpoint(
    bp,
    "/financing/<application_id>/registrations",
    "GET",
    summary="An application's registrations and which is current (its holder, its bank, the operator)",
)
def registrations(actor: Actor, application_id: str) -> dict[str, Any]:
    return registration.registrations(portal().platform, actor, application_id)


@endpoint(
    bp,
    "/financing/<application_id>/search",
    "GET",
    summary="Search before funding (the application's bank): every other registration and financing of"
    " the invoices under the application's ticket, on any ticket",
)
def search_before_funding(actor: Actor, application_id: str) -> dict[str, Any]:
    return registration.search_before_funding(portal().platform, actor, application_id)


@endpoint(
    bp,
    "/registrations",
    "GET",
    summary="Registrations and financings of an invoice number on the ledger (banks)",
    query=RegistrationSearch,
)
def search(actor: Actor, query: RegistrationSearch) -> dict[str, Any]:
    return registration.search(portal().platform, actor, [query.invoice])
