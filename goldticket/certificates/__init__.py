"""PDF certificates and clearing statements: render (WeasyPrint, an HTML template and CSS),
QR code (segno), PAdES signature with the platform's key (pyHanko), and the signature check of
an upload. Anchoring on the ledger and the verdicts are use cases: goldticket.services.certificates.
"""

from .card import sign_with_card
from .errors import CertificateError
from .qr import qr_data_uri
from .render import (
    is_warm,
    render_assignment,
    render_certificate,
    render_commitment,
    render_demand,
    render_filing,
    render_statement,
    warm,
)
from .signer import DocumentSigner, open_document_signer
from .verify import MAX_PDF_BYTES, REASON_CODES, SignatureCheck, check_member_signatures, check_signature

__all__ = [
    "CertificateError",
    "DocumentSigner",
    "MAX_PDF_BYTES",
    "REASON_CODES",
    "SignatureCheck",
    "check_member_signatures",
    "check_signature",
    "is_warm",
    "open_document_signer",
    "qr_data_uri",
    "render_assignment",
    "render_certificate",
    "render_commitment",
    "render_demand",
    "render_filing",
    "render_statement",
    "sign_with_card",
    "warm",
]
