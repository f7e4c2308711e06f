"""Certificates: a holder's or issuer's signed PDF of a ticket, a bank's verdict on an uploaded
PDF, the public look-up the QR code opens, the platform's signing certificate, and the
clearing statement of a settlement as a signed PDF."""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Blueprint, Response, request

from goldticket.certificates import MAX_PDF_BYTES
from goldticket.services import access, certificates, exports, payments, reconciliation, signed_documents
from goldticket.services.context import Actor

from ..errors import ApiError
from ._endpoint import Write, endpoint, portal
from .schemas import BankStatementImport, PaymentFileQuery, StatementExportQuery

bp = Blueprint("certificates", __name__)
# The whole request: the PDF plus a multipart envelope. Larger uploads answer 413.
MAX_UPLOAD_BYTES = MAX_PDF_BYTES + 64 * 1024


def _pdf(data: bytes, filename: str) -> Response:
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@endpoint(
    bp,
    "/tickets/<ticket_id>/certificate",
    "GET",
    summary="A signed PDF certificate (holder or issuer)",
    produces="application/pdf",
)
def download(actor: Actor, ticket_id: str) -> Response:
    issued = certificates.issue_certificate(portal().platform, actor, ticket_id)
    response = _pdf(issued.pdf, issued.filename)
    response.headers["X-Certificate-Id"] = issued.certificate_id
    response.headers["X-Certificate-SHA256"] = issued.sha256
    return response


@endpoint(
    bp,
    "/tickets/<ticket_id>/commitment",
    "GET",
    summary="The issuer's payment commitment (付款承诺函), signed by its clerk's card (the ticket's path)",
    produces="application/pdf",
)
def commitment(actor: Actor, ticket_id: str) -> Response:
    data, filename = signed_documents.download(
        portal().platform, actor, ticket_id, signed_documents.PAYMENT_COMMITMENT
    )
    response = _pdf(data, filename)
    response.headers["X-Document-SHA256"] = hashlib.sha256(data).hexdigest()
    return response


@endpoint(
    bp,
    "/tickets/<ticket_id>/commitment/verify",
    "POST",
    summary="Verify an uploaded payment commitment against the ledger (the ticket's path)",
    upload=True,
)
def verify_commitment(actor: Actor, ticket_id: str) -> dict[str, Any]:
    return signed_documents.verify(
        portal().platform, actor, ticket_id, signed_documents.PAYMENT_COMMITMENT, _upload()
    )


def _offer_pdf(actor: Actor, offer_id: str, kind: str) -> Response:
    data, filename = signed_documents.download_offer_document(portal().platform, actor, offer_id, kind)
    response = _pdf(data, filename)
    response.headers["X-Document-SHA256"] = hashlib.sha256(data).hexdigest()
    return response


@endpoint(
    bp,
    "/offers/<offer_id>/agreement",
    "GET",
    summary="A transfer's assignment agreement (债权转让协议): the transferor's card, countersigned by the transferee's",
    produces="application/pdf",
)
def offer_agreement(actor: Actor, offer_id: str) -> Response:
    return _offer_pdf(actor, offer_id, signed_documents.ASSIGNMENT_AGREEMENT)


@endpoint(
    bp,
    "/offers/<offer_id>/notice",
    "GET",
    summary="A transfer's notice to the debtor (债权转让通知), signed by the transferor's card",
    produces="application/pdf",
)
def offer_notice(actor: Actor, offer_id: str) -> Response:
    return _offer_pdf(actor, offer_id, signed_documents.ASSIGNMENT_NOTICE)


@endpoint(
    bp,
    "/offers/<offer_id>/agreement/verify",
    "POST",
    summary="Verify an uploaded assignment agreement against the ledger",
    upload=True,
)
def verify_offer_agreement(actor: Actor, offer_id: str) -> dict[str, Any]:
    kind = signed_documents.ASSIGNMENT_AGREEMENT
    return signed_documents.verify_offer_document(portal().platform, actor, offer_id, kind, _upload())


@endpoint(
    bp,
    "/offers/<offer_id>/notice/verify",
    "POST",
    summary="Verify an uploaded notice of assignment against the ledger",
    upload=True,
)
def verify_offer_notice(actor: Actor, offer_id: str) -> dict[str, Any]:
    kind = signed_documents.ASSIGNMENT_NOTICE
    return signed_documents.verify_offer_document(portal().platform, actor, offer_id, kind, _upload())


@endpoint(
    bp,
    "/applications/<application_id>/assignment",
    "GET",
    summary="A financing's assignment to the bank with its recourse terms: the holder's card, countersigned by the bank's",
    produces="application/pdf",
)
def financing_assignment(actor: Actor, application_id: str) -> Response:
    data, filename = signed_documents.download_financing_assignment(portal().platform, actor, application_id)
    response = _pdf(data, filename)
    response.headers["X-Document-SHA256"] = hashlib.sha256(data).hexdigest()
    return response


@endpoint(
    bp,
    "/applications/<application_id>/assignment/verify",
    "POST",
    summary="Verify an uploaded financing assignment against the ledger",
    upload=True,
)
def verify_financing_assignment(actor: Actor, application_id: str) -> dict[str, Any]:
    return signed_documents.verify_financing_assignment(portal().platform, actor, application_id, _upload())


def _upload() -> bytes:
    """The uploaded file: the multipart field ``file``, or a body sent as application/pdf."""
    request.max_content_length = MAX_UPLOAD_BYTES
    if request.mimetype in ("application/pdf", "application/octet-stream"):
        return request.get_data(cache=False)
    if request.mimetype != "multipart/form-data":
        raise ApiError("unsupported_media_type", "upload the PDF as the multipart field file")
    upload = request.files.get("file")
    if upload is None:
        raise ApiError("invalid_input", "upload the PDF as the multipart field file")
    return upload.read(MAX_UPLOAD_BYTES + 1)


@endpoint(
    bp, "/certificates/verify", "POST", summary="Verify an uploaded certificate PDF (bank users)", upload=True
)
def verify(actor: Actor) -> dict[str, Any]:
    platform = portal().platform
    access.require_member_role(platform, actor, "bank", "operator")
    return certificates.verify_certificate(platform, _upload())


@endpoint(
    bp,
    "/verify/<certificate_id>",
    "GET",
    summary="Public: was this certificate issued, is it current",
    auth=False,
)
def lookup(certificate_id: str) -> dict[str, Any]:
    return certificates.lookup_certificate(portal().platform, certificate_id)


@endpoint(
    bp,
    "/certificates/signing-certificate",
    "GET",
    summary="Public: the platform's document-signing certificate and the operator CA (PEM)",
    auth=False,
    produces="application/x-pem-file",
)
def signing_certificate() -> Response:
    pem = certificates.signing_certificates_pem(portal().platform)
    return Response(pem, mimetype="application/x-pem-file")


@endpoint(
    bp,
    "/tickets/<root_id>/statements/<statement_id>",
    "GET",
    summary="A settlement's clearing statement as a signed PDF (its parties)",
    produces="application/pdf",
)
def statement(actor: Actor, root_id: str, statement_id: str) -> Response:
    data = certificates.statement_pdf(portal().platform, actor, root_id, statement_id)
    return _pdf(data, f"statement-{statement_id}.pdf")


@endpoint(
    bp,
    "/tickets/<root_id>/statements/<statement_id>/export",
    "GET",
    summary="A clearing statement as CSV (UTF-8 with BOM) or XLSX: the lines the caller may read",
    query=StatementExportQuery,
    produces=",".join(exports.FORMATS[kind].split(";")[0] for kind in ("csv", "xlsx")),
)
def statement_export(actor: Actor, root_id: str, statement_id: str, query: StatementExportQuery) -> Response:
    made = exports.export_statement(portal(), actor, root_id, statement_id, query.format, language=query.lang)
    response = Response(made.data, mimetype=made.mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{made.filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@endpoint(
    bp,
    "/tickets/<root_id>/statements/<statement_id>/bank-statement",
    "POST",
    summary="The issuer imports its bank's camt.053.001.08 statement or camt.054.001.08 debit notification:"
    " each booked payment of a piece is"
    " recorded on the ledger (PAID, PARTIALLY_PAID), the rest reported (the issuer only)",
    body=BankStatementImport,
    write=True,
    file_field="statement_xml",  # API.md: the multipart field file; the JSON body stays
)
def import_bank_statement(
    actor: Actor, body: BankStatementImport, write: Write, root_id: str, statement_id: str
) -> Any:
    xml = body.statement_xml.encode("utf-8")
    return write.run(
        lambda: reconciliation.import_bank_statement(
            portal(), actor, root_id, statement_id, xml, pin=body.pin
        )
    )


@endpoint(
    bp,
    "/tickets/<root_id>/statements/<statement_id>/reconciliation",
    "GET",
    summary="Each piece the statement pays with what the issuer's bank booked for it (its parties)",
)
def bank_reconciliation(actor: Actor, root_id: str, statement_id: str) -> dict[str, Any]:
    return reconciliation.reconciliation(portal(), actor, root_id, statement_id)


@endpoint(
    bp,
    "/tickets/<root_id>/statements/<statement_id>/payment-file",
    "GET",
    summary="The settlement's ISO 20022 pain.001.001.09 payment file for the issuer's bank, or its"
    " transfers as CSV (UTF-8 with BOM) or XLSX (the issuer only)",
    query=PaymentFileQuery,
    produces=",".join(
        ["application/xml", *(exports.FORMATS[kind].split(";")[0] for kind in ("csv", "xlsx"))]
    ),
)
def payment_file(actor: Actor, root_id: str, statement_id: str, query: PaymentFileQuery) -> Response:
    if query.format == "xml":
        name, data = payments.statement_payment_file(portal(), actor, root_id, statement_id)
        return Response(
            data,
            mimetype="application/xml",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    made = exports.export_payment_file(
        portal(), actor, root_id, statement_id, query.format, language=query.lang
    )
    response = Response(made.data, mimetype=made.mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{made.filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response
