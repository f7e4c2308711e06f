"""Certificates: a holder's (or issuer's) signed PDF of a ticket, anchored on the ledger before
it is handed out (``issue``); the verdict on an uploaded file and the public look-up by
certificate id (``verdicts``); a settlement's clearing statements as signed PDFs
(``statements``); the platform's document key (``documents``) and what a certificate shows
(``content``)."""

from .content import STATUS_LABELS, certificate_view
from .documents import (
    SIGNING_CERTIFICATE_PATH,
    document_signer,
    make_document_signer,
    signing_certificates_pem,
    verify_url,
    warm_up,
)
from .issue import IssuedCertificate, issue_certificate
from .statements import get_statement, list_statements, statement_pdf
from .verdicts import ACTIONS, lookup_certificate, verify_certificate

__all__ = [
    "ACTIONS",
    "SIGNING_CERTIFICATE_PATH",
    "STATUS_LABELS",
    "IssuedCertificate",
    "certificate_view",
    "document_signer",
    "get_statement",
    "issue_certificate",
    "list_statements",
    "lookup_certificate",
    "make_document_signer",
    "signing_certificates_pem",
    "statement_pdf",
    "verify_certificate",
    "verify_url",
    "warm_up",
]
