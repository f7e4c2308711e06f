"""Is this PDF signed by the platform, and is nothing added or changed since?

:func:`check_signature` reads any bytes at all and answers with a :class:`SignatureCheck`,
never an exception: an upload is untrusted input, and "not a PDF", "no signature", "a changed
byte" and "another key" are all answers, not failures. Checked in this order: a PDF with
exactly one signature; the signed bytes' digest (pyHanko says *intact*); the signature over
them (*valid*); the signer is the platform's certificate; it chains to the operator's CA
(*trusted*); the signature covers the whole file (bytes appended after it, an incremental
update, are refused).

Each refusal carries a stable ``code`` (snake_case, :data:`REASON_CODES`) decided where the
check refuses, beside its English ``reason``: the API returns it as ``reason_code`` and the
portal translates by it, never by the English words.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import logging

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko.sign.validation.status import PdfSignatureStatus, SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

log = logging.getLogger(__name__)
MAX_PDF_BYTES = 2 * 1024 * 1024

# Why a check refuses, as the answers name it (a stable code beside the English reason).
TOO_LARGE = "too_large"  # over MAX_PDF_BYTES
NOT_PDF = "not_pdf"  # does not start with %PDF-
SIGNATURE_COUNT = "signature_count"  # not the number of signatures expected
UNREADABLE = "unreadable"  # the PDF or its signature cannot be read
BYTES_CHANGED = "bytes_changed"  # the signed bytes' digest is not the signed one
SIGNATURE_INVALID = "signature_invalid"  # the signature over that digest does not verify
WRONG_SIGNER = "wrong_signer"  # another key (the platform's check), another member's card
NOT_CHAINED = "not_chained"  # the signing certificate does not chain to the expected CA
BYTES_APPENDED = "bytes_appended"  # the signature does not cover the whole file
CA_NOT_TRUSTED = "ca_not_trusted"  # the platform holds no trusted CA for a signing member
REASON_CODES = (
    TOO_LARGE,
    NOT_PDF,
    SIGNATURE_COUNT,
    UNREADABLE,
    BYTES_CHANGED,
    SIGNATURE_INVALID,
    WRONG_SIGNER,
    NOT_CHAINED,
    BYTES_APPENDED,
    CA_NOT_TRUSTED,
)


@dataclasses.dataclass(frozen=True)
class SignatureCheck:
    """``genuine`` when signed by the platform over the whole file; ``reason`` says why not,
    ``code`` (one of REASON_CODES, "" when genuine) says it for machines."""

    sha256: str
    genuine: bool
    reason: str = ""
    code: str = ""
    signed_reason: str = ""  # the signature's own /Reason (covered by the signature)


def _certificate(pem: bytes) -> asn1_x509.Certificate:
    der = x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)
    return asn1_x509.Certificate.load(der)


def check_signature(data: bytes, signer_pem: bytes, ca_pem: bytes) -> SignatureCheck:
    """Check ``data`` against the platform's signing certificate ``signer_pem`` and the
    operator CA ``ca_pem``. Never raises for any ``data``."""
    digest = hashlib.sha256(data).hexdigest()

    def forged(code: str, reason: str) -> SignatureCheck:
        return SignatureCheck(digest, False, reason, code)

    if len(data) > MAX_PDF_BYTES:
        return forged(TOO_LARGE, f"the file is larger than {MAX_PDF_BYTES // 1024} KB")
    if not data.startswith(b"%PDF-"):
        return forged(NOT_PDF, "the file is not a PDF")
    platform = _certificate(signer_pem)
    try:
        reader = PdfFileReader(io.BytesIO(data))
        signatures = reader.embedded_signatures
        if len(signatures) != 1:
            return forged(
                SIGNATURE_COUNT, f"the PDF carries {len(signatures)} signatures, not the platform's one"
            )
        context = ValidationContext(trust_roots=[_certificate(ca_pem)], allow_fetching=False)
        status = validate_pdf_signature(signatures[0], signer_validation_context=context)
    except Exception as error:  # any malformed PDF: pyHanko raises many kinds, none ours
        log.info("an uploaded PDF could not be read: %s", type(error).__name__)
        return forged(UNREADABLE, "the PDF or its signature cannot be read")
    refusal = _refusal(status, platform)
    if refusal:
        return forged(*refusal)
    try:
        signed_reason = str(signatures[0].sig_object.get("/Reason", ""))
    except Exception:  # a reason that cannot be read is no reason
        signed_reason = ""
    return SignatureCheck(digest, True, signed_reason=signed_reason)


def _refusal(status: PdfSignatureStatus, platform: asn1_x509.Certificate) -> tuple[str, str] | None:
    """Why a readable signature is not the platform's over the whole file (its code and
    reason); None if it is."""
    if not status.intact:
        return BYTES_CHANGED, "the signed bytes were changed (digest mismatch)"
    if not status.valid:
        return SIGNATURE_INVALID, "the signature does not verify"
    if status.signing_cert.dump() != platform.dump():
        return WRONG_SIGNER, "the PDF is signed by another key, not the platform's"
    if not status.trusted:
        return NOT_CHAINED, "the signing certificate does not chain to the operator's CA"
    if getattr(status, "coverage", None) != SignatureCoverageLevel.ENTIRE_FILE:
        return BYTES_APPENDED, "bytes were added after the signature"
    return None


ATTRIBUTES_OID = x509.ObjectIdentifier("1.2.3.4.5.6.7.8.1")  # a member certificate's attributes
# a card's certificate (a Fabric member certificate) has no key usage extension, which allows
# any use (RFC 5280); pyHanko's default asks for nonRepudiation (docs/documents.md)
CARD_KEY_USAGE = KeyUsageConstraints(key_usage=set())


def signer_member(certificate: asn1_x509.Certificate) -> str | None:
    """The member a card's certificate names (its Fabric attributes), or None."""
    import json

    try:
        parsed = x509.load_der_x509_certificate(certificate.dump())
        value = parsed.extensions.get_extension_for_oid(ATTRIBUTES_OID).value
        return str(json.loads(value.value)["attrs"]["member"])  # type: ignore[attr-defined]
    except (ValueError, KeyError, TypeError, x509.ExtensionNotFound):
        return None


def check_member_signatures(data: bytes, signers: list[tuple[str, bytes]]) -> SignatureCheck:
    """Check ``data`` as a member-signed document (#21): exactly ``len(signers)`` signatures, in
    order, the i-th made by a card of member ``signers[i][0]`` certified by that member's
    organisation CA ``signers[i][1]`` (PEM; empty when the platform trusts none: refused as
    ``ca_not_trusted``), each intact and valid, the last covering the whole file (an earlier one
    may be followed only by the later signatures' own updates). Never raises for any ``data``."""
    digest = hashlib.sha256(data).hexdigest()

    def forged(code: str, reason: str) -> SignatureCheck:
        return SignatureCheck(digest, False, reason, code)

    if len(data) > MAX_PDF_BYTES:
        return forged(TOO_LARGE, f"the file is larger than {MAX_PDF_BYTES // 1024} KB")
    if not data.startswith(b"%PDF-"):
        return forged(NOT_PDF, "the file is not a PDF")
    try:
        reader = PdfFileReader(io.BytesIO(data))
        signatures = reader.embedded_signatures
        if len(signatures) != len(signers):
            return forged(
                SIGNATURE_COUNT, f"the PDF carries {len(signatures)} signatures, not {len(signers)}"
            )
        for index, (signature, (member, ca_pem)) in enumerate(zip(signatures, signers, strict=True)):
            if not ca_pem:
                return forged(CA_NOT_TRUSTED, f"the platform does not trust {member}'s organisation CA")
            context = ValidationContext(trust_roots=[_certificate(ca_pem)], allow_fetching=False)
            status = validate_pdf_signature(
                signature, signer_validation_context=context, key_usage_settings=CARD_KEY_USAGE
            )
            if not status.intact:
                return forged(BYTES_CHANGED, "the signed bytes were changed (digest mismatch)")
            if not status.valid:
                return forged(SIGNATURE_INVALID, "a signature does not verify")
            if not status.trusted:
                return forged(
                    NOT_CHAINED, f"a signing certificate does not chain to {member}'s organisation CA"
                )
            if signer_member(status.signing_cert) != member:
                return forged(WRONG_SIGNER, f"the document is not signed by a card of {member}")
            last = index == len(signers) - 1
            if last and getattr(status, "coverage", None) != SignatureCoverageLevel.ENTIRE_FILE:
                return forged(BYTES_APPENDED, "bytes were added after the signature")
    except Exception as error:  # any malformed PDF: pyHanko raises many kinds, none ours
        log.info("an uploaded PDF could not be read: %s", type(error).__name__)
        return forged(UNREADABLE, "the PDF or its signature cannot be read")
    return SignatureCheck(digest, True)
