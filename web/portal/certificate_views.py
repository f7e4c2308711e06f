"""The portal's certificate pages over services.certificates: the holder's (or issuer's)
download of a ticket's signed PDF (anchored on the ledger by the service before it is handed
out), the verify page where a logged-in user uploads a certificate PDF for the verdict, the
public page the certificate's QR code opens (``/verify/<certificate id>``, no login), and a
settlement's clearing statement again, with its signed PDF."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from goldticket import domain as d
from goldticket.certificates import MAX_PDF_BYTES
from goldticket.services import (
    access,
    accounts,
    certificates,
    exports,
    payments,
    reads,
    reconciliation,
    signed_documents,
)
from goldticket.services.certificates.documents import RECOURSE_TERMS, recourse_terms

from . import verdicts
from ._blueprint import UPLOAD_LIMITS, TypedError, actor, bp, layout, portal
from .account_change_views import notices_of
from .service_messages import sentence

# The whole request: the PDF plus a multipart envelope (as the API's). Larger answers 413.
MAX_UPLOAD_BYTES = MAX_PDF_BYTES + 64 * 1024


@bp.post("/tickets/<ticket_id>/certificate")
def certificate(ticket_id: str) -> Any:
    """The signed PDF of a ticket, for its holder or issuer (the service decides who)."""
    p, me = portal(), actor()
    reads.get_ticket(p, me, ticket_id)  # another member's ticket reads as absent (404 page)
    try:
        issued = certificates.issue_certificate(p.platform, me, ticket_id)
    except (d.ForbiddenError, d.NotFoundError):
        raise  # the error pages
    except TypedError as failure:
        flash(sentence(failure), "error")
        return redirect(url_for("portal.ticket", ticket_id=ticket_id))
    response = Response(issued.pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{issued.filename}"'
    response.headers["X-Certificate-Id"] = issued.certificate_id
    return response


def _shown(answer: dict[str, Any]) -> dict[str, Any]:
    """The service's answer with its reasons in the page's language."""
    name = layout()["org_name"]
    shown = {**answer, "reason_texts": [verdicts.reason_text(reason, name) for reason in answer["reasons"]]}
    # a file that is no PDF at all is no forgery of a certificate: it is not one (#20 point 12)
    if answer.get("verdict") == "forged" and answer.get("reasons") == [verdicts.NOT_A_PDF]:
        shown["verdict"], shown["reason_texts"] = "not_pdf", []
    return shown


@bp.route("/certificates/verify", methods=["GET", "POST"])
def verify() -> Any:
    """Upload a certificate PDF: valid, stale (what changed and when) or forged. Bank users
    (and the operator's), as the API's verify."""
    access.require_member_role(portal().platform, actor(), "bank", "operator")
    answer, error = None, None
    if request.method == "POST":
        request.max_content_length = MAX_UPLOAD_BYTES
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            error = _("Choose the certificate's PDF file.")
        else:
            answer = _shown(
                certificates.verify_certificate(portal().platform, upload.read(MAX_UPLOAD_BYTES + 1))
            )
    return render_template(
        "portal/verify.html", answer=answer, error=error, limit_kb=MAX_PDF_BYTES // 1024
    ), (422 if error else 200)


@bp.get("/verify/<certificate_id>")
def public_verify(certificate_id: str) -> Any:
    """The page the certificate's QR code opens, without a login: what the public look-up says."""
    answer = _shown(certificates.lookup_certificate(portal().platform, certificate_id))
    return render_template("portal/verify_public.html", answer=answer, certificate_id=certificate_id)


@bp.get("/tickets/<root_id>/statements/<statement_id>")
def statement(root_id: str, statement_id: str) -> Any:
    """A settlement's clearing statement again, for a party to it."""
    p, me = portal(), actor()
    root = reads.get_ticket(p, me, root_id)  # another member's ticket reads as absent (404 page)
    found = certificates.get_statement(p.platform, me, root_id, statement_id)
    recon = reconciliation.reconciliation(p, me, root_id, statement_id)
    # with or without recourse (#21), of each piece paid that was financed stating it
    terms = {item["ticket_id"]: recourse_terms(p.platform, item["ticket_id"]) for item in found["paid"]}
    return render_template(
        "portal/statement.html",
        statement=found,
        reconciliation=recon,
        payment_status=PAYMENT_STATUS,
        account_notices=notices_of(
            {root["issuer_org_id"], *(item["holder_org_id"] for item in found["paid"])}
        ),
        recourse={
            ticket_id: RECOURSE[term == RECOURSE_TERMS[True]] for ticket_id, term in terms.items() if term
        },
    )


RECOURSE = {True: _l("With recourse"), False: _l("Without recourse")}


PAYMENT_STATUS = {
    "PAYMENT_PENDING": _l("Awaiting the bank"),
    "PARTIALLY_PAID": _l("Partly paid"),
    "PAID": _l("Paid by the bank"),
}


@bp.get("/tickets/<root_id>/statements/<statement_id>/pdf")
def statement_pdf(root_id: str, statement_id: str) -> Any:
    """The clearing statement as a PDF signed by the platform."""
    p, me = portal(), actor()
    reads.get_ticket(p, me, root_id)
    data = certificates.statement_pdf(p.platform, me, root_id, statement_id)
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="statement-{statement_id}.pdf"'
    return response


@bp.get("/tickets/<root_id>/statements/<statement_id>/payment-file")
def statement_payment_file(root_id: str, statement_id: str) -> Any:
    """The settlement's ISO 20022 pain.001 payment file for the issuer's bank (the issuer only)."""
    p, me = portal(), actor()
    reads.get_ticket(p, me, root_id)
    name, data = payments.statement_payment_file(p, me, root_id, statement_id)
    response = Response(data, mimetype="application/xml")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@bp.post("/tickets/<root_id>/statements/<statement_id>/bank-statement")
def bank_statement_upload(root_id: str, statement_id: str) -> Any:
    """The issuer's upload of its bank's statement: checked and previewed on the confirmation
    page, where the card's PIN records it (reconciliation_actions)."""
    from .signing_views import confirmation  # the signing flow's own page

    back = url_for("portal.statement", root_id=root_id, statement_id=statement_id)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash(_("Choose the bank's statement file (XML)."), "error")
        return redirect(back)
    data = upload.read(MAX_UPLOAD_BYTES + 1)
    try:
        xml = data.decode("utf-8")
    except UnicodeDecodeError:
        flash(
            _("The file is not a camt.053 or camt.054 XML file of your bank (it is not UTF-8 text)."), "error"
        )
        return redirect(back)
    values = {"root_id": root_id, "statement_id": statement_id, "statement_xml": xml}
    try:
        return confirmation("import_bank_statement", values)
    except TypedError as failure:
        flash(sentence(failure), "error")
        return redirect(back)


def _statement_file(root_id: str, statement_id: str, fmt: str, make: Any) -> Any:
    """A settlement's file as CSV or XLSX, in the session's language: the lines this member may
    read (``make``: an exports function of the statement)."""
    p, me = portal(), actor()
    reads.get_ticket(p, me, root_id)
    if fmt not in exports.FORMATS:
        abort(404)
    language = str(session.get("lang")) if session.get("lang") in ("zh", "en") else "zh"
    made = make(p, me, root_id, statement_id, fmt, language=language)
    response = Response(made.data, mimetype=made.mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{made.filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/tickets/<root_id>/statements/<statement_id>/reconciliation/<fmt>")
def reconciliation_export(root_id: str, statement_id: str, fmt: str) -> Any:
    """The reconciliation with the issuer's bank as CSV or XLSX."""
    return _statement_file(root_id, statement_id, fmt, exports.export_reconciliation)


@bp.get("/tickets/<root_id>/statements/<statement_id>/payment-file/<fmt>")
def payment_file_export(root_id: str, statement_id: str, fmt: str) -> Any:
    """The payment file's transfers as CSV or XLSX (the issuer only)."""
    return _statement_file(root_id, statement_id, fmt, exports.export_payment_file)


@bp.get("/tickets/<root_id>/statements/<statement_id>/export/<fmt>")
def statement_export(root_id: str, statement_id: str, fmt: str) -> Any:
    """The clearing statement as CSV or XLSX."""
    return _statement_file(root_id, statement_id, fmt, exports.export_statement)


@bp.get("/tickets/<ticket_id>/commitment")
def commitment(ticket_id: str) -> Any:
    """The issuer's payment commitment signed by its clerk's card (#21), for the members in the
    ticket's path (the service decides: 403 for others)."""
    data, filename = signed_documents.download(
        portal().platform, actor(), ticket_id, signed_documents.PAYMENT_COMMITMENT
    )
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


# the verify page of each signed document (#21): its title, what it is, who signs it
DOCUMENT_PAGES = {
    signed_documents.PAYMENT_COMMITMENT: {
        "title": _l("Verify the payment commitment"),
        "name": _l("Payment commitment (PDF)"),
        "intro": _l(
            "Upload a copy of the issuer's payment commitment (付款承诺函): its card signature and its"
            " SHA-256 recorded on the ledger with the ticket are checked."
        ),
        "valid": _l("Valid: the file recorded on the ledger, signed by a card of the issuer."),
        "forged": _l("Forged: not the file recorded on the ledger, or not signed by a card of the issuer."),
    },
    signed_documents.ASSIGNMENT_AGREEMENT: {
        "title": _l("Verify the assignment agreement"),
        "name": _l("Assignment agreement (PDF)"),
        "intro": _l(
            "Upload a copy of the transfer's assignment agreement (债权转让协议): the transferor's card"
            " signature, the transferee's countersignature once it accepted, and the SHA-256 recorded on"
            " the ledger with the offer are checked."
        ),
        "valid": _l(
            "Valid: the file recorded on the ledger, signed by a card of the transferor (and countersigned"
            " by a card of the transferee once accepted)."
        ),
        "forged": _l(
            "Forged: not the file recorded on the ledger, or not signed by the cards of the parties."
        ),
    },
    signed_documents.ASSIGNMENT_NOTICE: {
        "title": _l("Verify the notice to the debtor"),
        "name": _l("Notice to the debtor (PDF)"),
        "intro": _l(
            "Upload a copy of the transfer's notice of assignment to the debtor (债权转让通知): the"
            " transferor's card signature and the SHA-256 recorded on the ledger with the offer are checked."
        ),
        "valid": _l("Valid: the file recorded on the ledger, signed by a card of the transferor."),
        "forged": _l(
            "Forged: not the file recorded on the ledger, or not signed by a card of the transferor."
        ),
    },
    signed_documents.FINANCING_ASSIGNMENT: {
        "title": _l("Verify the assignment to the bank"),
        "name": _l("Assignment to the bank (PDF)"),
        "intro": _l(
            "Upload a copy of the financing's assignment to the bank (融资转让协议): the holder's card"
            " signature, the bank's countersignature once it approved, and the SHA-256 recorded on the"
            " ledger with the financing application are checked."
        ),
        "valid": _l(
            "Valid: the file recorded on the ledger, signed by a card of the holder (and countersigned by"
            " a card of the bank once approved)."
        ),
        "forged": _l(
            "Forged: not the file recorded on the ledger, or not signed by the cards of the parties."
        ),
    },
}
# a signed document's verdict, by its reason_code (signed_documents.REASON_CODES), in the page's language
DOCUMENT_REASONS = {
    "sha256_differs": _l("The file is not the one recorded on the ledger (its SHA-256 differs)."),
    "not_pdf": _l("The file is not a PDF."),
    "signature_count": _l("The PDF does not carry the expected number of signatures."),
    "bytes_changed": _l("The signed bytes were changed."),
    "signature_invalid": _l("A signature does not verify."),
    "not_chained": _l("A signing certificate is not certified by the signing member's organisation."),
    "wrong_signer": _l("The document is not signed by a card of the member who signs it."),
    "bytes_appended": _l("Bytes were added after the signature."),
    "unreadable": _l("The PDF or its signature cannot be read."),
    "ca_not_trusted": _l("The platform does not trust the signing member's organisation."),
}


def document_reason(answer: dict[str, Any]) -> str:
    """A verdict's reason in the page's language, from its ``reason_code`` (the service's own
    English words for a code the page does not know)."""
    code = answer.get("reason_code") or ""
    if code == "too_large":
        return _("The file is larger than %(kb)s KB.", kb=MAX_PDF_BYTES // 1024)
    text = DOCUMENT_REASONS.get(code)
    return str(text) if text is not None else str(answer.get("reason") or "")


def _document_page(kind: str, download_url: str, guard: Any, check: Any) -> Any:
    """The verify page of a signed document: ``guard()`` refuses a member who may not read it
    (403, as the download), ``check(data)`` is the service's verdict on the upload."""
    guard()
    answer, error = None, None
    if request.method == "POST":
        request.max_content_length = MAX_UPLOAD_BYTES
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            error = _("Choose the document's PDF file.")
        else:
            answer = check(upload.read(MAX_UPLOAD_BYTES + 1))
            answer["reason_text"] = document_reason(answer) if answer["verdict"] != "valid" else ""
    return render_template(
        "portal/document_verify.html",
        answer=answer,
        error=error,
        page=DOCUMENT_PAGES[kind],
        kind=kind,
        download_url=download_url,
        limit_kb=MAX_PDF_BYTES // 1024,
    ), (422 if error else 200)


@bp.route("/tickets/<ticket_id>/commitment/verify", methods=["GET", "POST"])
def verify_commitment(ticket_id: str) -> Any:
    """Upload a copy of the ticket's payment commitment: valid (the ledger's file, signed by a
    card of the issuer) or forged, with the reason."""
    p, me = portal(), actor()
    kind = signed_documents.PAYMENT_COMMITMENT
    return _document_page(
        kind,
        url_for("portal.commitment", ticket_id=ticket_id),
        lambda: signed_documents.download(p.platform, me, ticket_id, kind),
        lambda data: signed_documents.verify(p.platform, me, ticket_id, kind, data),
    )


@bp.route("/offers/<offer_id>/<any(agreement, notice):document>/verify", methods=["GET", "POST"])
def verify_offer_document(offer_id: str, document: str) -> Any:
    """Upload a copy of a transfer's assignment agreement or notice to the debtor (#21): valid
    (the ledger's file, signed by the transferor's card, the agreement countersigned by the
    transferee's once accepted) or forged, with the reason. The path's members and the payee."""
    p, me = portal(), actor()
    kind = OFFER_DOCUMENTS[document]
    return _document_page(
        kind,
        url_for("portal.offer_document", offer_id=offer_id, document=document),
        lambda: signed_documents.download_offer_document(p.platform, me, offer_id, kind),
        lambda data: signed_documents.verify_offer_document(p.platform, me, offer_id, kind, data),
    )


@bp.route("/applications/<application_id>/assignment/verify", methods=["GET", "POST"])
def verify_financing_assignment(application_id: str) -> Any:
    """Upload a copy of a financing's assignment to the bank (#21): valid (the ledger's file,
    signed by the holder's card) or forged, with the reason. Its bank and the path's members."""
    p, me = portal(), actor()
    return _document_page(
        signed_documents.FINANCING_ASSIGNMENT,
        url_for("portal.financing_assignment", application_id=application_id),
        lambda: signed_documents.download_financing_assignment(p.platform, me, application_id),
        lambda data: signed_documents.verify_financing_assignment(p.platform, me, application_id, data),
    )


def _signed_in_upload_limit() -> int | None:
    """The room for a certificate's or a document's PDF (MAX_UPLOAD_BYTES, the API's and the page's stated limit:
    the application's 256 KiB answered 413 to a file the page says it takes) for a signed-in
    user only, as the API reads one for any authenticated member: decided before the CSRF check
    parses the form; the view refuses a user outside the document's path (403)."""
    token = session.get("token")
    if not token:
        return None
    try:
        accounts.authenticate(portal(), token)
    except TypedError:
        return None
    return MAX_UPLOAD_BYTES


for _endpoint in ("verify", "verify_commitment", "verify_offer_document", "verify_financing_assignment"):
    UPLOAD_LIMITS[f"portal.{_endpoint}"] = _signed_in_upload_limit

OFFER_DOCUMENTS = {
    "agreement": signed_documents.ASSIGNMENT_AGREEMENT,
    "notice": signed_documents.ASSIGNMENT_NOTICE,
}
DOCUMENT_NAMES = {
    signed_documents.PAYMENT_COMMITMENT: _l("Payment commitment (付款承诺函)"),
    signed_documents.ASSIGNMENT_AGREEMENT: _l("Assignment agreement (债权转让协议)"),
    signed_documents.ASSIGNMENT_NOTICE: _l("Notice to the debtor (债权转让通知)"),
    signed_documents.FINANCING_ASSIGNMENT: _l("Assignment to the bank (融资转让协议)"),
}
DOCUMENT_STATES = {
    "OPEN": _l("Waiting for an answer"),
    "ACCEPTED": _l("Transfer accepted"),
    "APPROVED": _l("Financing approved"),
    "REJECTED": _l("Refused"),
    "CANCELLED": _l("Withdrawn"),
}
DOCUMENT_ROLES = {
    "payer": _l("Payer"),
    "assignor": _l("Assignor"),
    "assignee": _l("Assignee"),
}


def document_url(doc: dict[str, Any], verify: bool = False) -> str:
    """The download (or verify page) of one of worklists.ticket_documents' entries."""
    kind = doc["kind"]
    if kind == signed_documents.PAYMENT_COMMITMENT:
        name, values = "commitment", {"ticket_id": doc["ticket_id"]}
    elif kind == signed_documents.FINANCING_ASSIGNMENT:
        name, values = "financing_assignment", {"application_id": doc["application_id"]}
    else:
        document = "agreement" if kind == signed_documents.ASSIGNMENT_AGREEMENT else "notice"
        name, values = "offer_document", {"offer_id": doc["offer_id"], "document": document}
    return url_for(f"portal.{'verify_' if verify else ''}{name}", **values)


def documents_context(documents: list[dict[str, Any]]) -> dict[str, Any]:
    """What portal/_documents.html needs besides the list."""
    return {
        "documents": documents,
        "document_names": DOCUMENT_NAMES,
        "document_files": {kind: page["name"] for kind, page in DOCUMENT_PAGES.items()},
        "document_states": DOCUMENT_STATES,
        "document_roles": DOCUMENT_ROLES,
        "document_url": document_url,
    }


@bp.get("/offers/<offer_id>/<any(agreement, notice):document>")
def offer_document(offer_id: str, document: str) -> Any:
    """A transfer's assignment agreement (countersigned once accepted) or its notice to the
    debtor (#21), for the members in the ticket's path and the offer's payee."""
    kind = OFFER_DOCUMENTS[document]
    data, filename = signed_documents.download_offer_document(portal().platform, actor(), offer_id, kind)
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/applications/<application_id>/assignment")
def financing_assignment(application_id: str) -> Any:
    """A financing's assignment to the bank with its recourse terms (#21), signed by the
    holder's card: for its bank and the members in the ticket's path."""
    data, filename = signed_documents.download_financing_assignment(
        portal().platform, actor(), application_id
    )
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response
