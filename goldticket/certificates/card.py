"""A member's signed document (#21): a PDF signed as PAdES B-B by the member's own card, through
the signing gateway, not by the platform's key.

The document's terms (kind, parties, amount, ticket...) go into the PDF's catalog as
``/GoldTicketTerms`` (canonical JSON) in the incremental update that carries the signature field,
so they are inside the signed byte ranges. pyHanko prepares the document (placeholder, byte
ranges) and builds the CMS signed attributes; ``sign(signed_attributes, prepared_pdf)`` (the
gateway call) returns the card's DER ECDSA signature over them; the gateway computes the byte
ranges' digest of ``prepared_pdf`` itself, shows the terms it reads from it, and signs only
signed attributes whose messageDigest is that digest (goldticket.signing.documents).
"""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Callable
from typing import Any

from asn1crypto import algos
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError as PyhankoSigningError
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
from pyhanko_certvalidator.registry import SimpleCertificateStore

from .errors import CertificateError
from .signer import _asn1_certificate, outside_event_loop

TERMS_KEY = "/GoldTicketTerms"
# the card's DER ECDSA P-256 signature is at most 72 bytes; a placeholder of that size
_PLACEHOLDER = bytes(72)

# (DER of the CMS signed attributes, the prepared PDF) -> the card's DER signature over them
CardSign = Callable[[bytes, bytes], bytes]


def terms_json(terms: dict[str, Any]) -> str:
    """The canonical JSON of a document's terms, as the PDF carries it and the gateway reads it."""
    return json.dumps(terms, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class _CardSigner(signers.Signer):
    """pyHanko's view of a card behind the gateway: the CMS is built here, the raw signature
    over the signed attributes is made by the card."""

    def __init__(self, certificate_pem: bytes, ca_pem: bytes, sign: CardSign) -> None:
        super().__init__(
            signing_cert=_asn1_certificate(certificate_pem),
            cert_registry=SimpleCertificateStore.from_certs([_asn1_certificate(ca_pem)]),
            signature_mechanism=algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"}),
        )
        self._sign = sign
        self.prepared: bytes | None = None

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run: bool = False) -> bytes:
        if dry_run:
            return _PLACEHOLDER
        if self.prepared is None or digest_algorithm != "sha256":
            raise CertificateError("the document is not prepared for the card's signature")
        return self._sign(data, self.prepared)


def sign_with_card(
    pdf: bytes,
    terms: dict[str, Any],
    *,
    certificate_pem: bytes,
    ca_pem: bytes,
    sign: CardSign,
    field_name: str,
    reason: str,
) -> bytes:
    """``pdf`` with ``terms`` in its catalog, signed (PAdES B-B, field ``field_name``) by the card
    whose certificate is ``certificate_pem`` (its organisation's CA ``ca_pem``) through
    ``sign``. A document already signed gets a further signature (an incremental update).
    Raises CertificateError, or what ``sign`` raises (a refusal, a wrong PIN)."""
    signer = _CardSigner(certificate_pem, ca_pem, sign)
    metadata = signers.PdfSignatureMetadata(
        field_name=field_name,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
        location="GoldTicket",
    )

    async def run() -> bytes:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
        writer.root[TERMS_KEY] = generic.TextStringObject(terms_json(terms))
        writer.update_root()
        pdf_signer = signers.PdfSigner(metadata, signer)
        prepared_digest, tbs, output = await pdf_signer.async_digest_doc_for_signing(writer)
        assert isinstance(output, io.BytesIO)
        signer.prepared = output.getvalue()
        await tbs.perform_signature(prepared_digest.document_digest, PdfCMSSignedAttributes())
        return output.getvalue()

    try:
        return outside_event_loop(lambda: asyncio.run(run()))
    except (PdfError, PyhankoSigningError) as error:
        raise CertificateError(f"the PDF could not be signed: {error}") from error
