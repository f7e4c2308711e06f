"""What a member's card signs when it signs a document (#21): the checks the gateway makes
before a card's PAdES signature.

The caller sends the prepared PDF (its signature placeholder allocated, its ``/ByteRange``
set) and the DER of the CMS signed attributes to sign. The gateway computes the SHA-256 over
the document's signed byte ranges itself, reads the terms the document carries
(``/GoldTicketTerms`` in its catalog, inside those ranges), and signs only when:

- the intent is ``SignDocument`` and states exactly the terms the document carries (kind,
  parties, amount...) and the digest the gateway computed (what the user was shown);
- the card's member is the document's signer (``signer_org_id``);
- the signed attributes are well formed, of content type data, with one messageDigest, and
  that digest is the one computed: a card never signs attributes over a document it was not
  shown.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from typing import Any

from asn1crypto import cms

from goldticket.messages import Identity

from .errors import RefusedError

SIGN_DOCUMENT = "SignDocument"
TERMS_KEY = "/GoldTicketTerms"
MAX_DOCUMENT_BYTES = 2 * 1024 * 1024
# the documents a member's card signs, and the party whose card signs each
KINDS = frozenset({"payment_commitment", "assignment_agreement", "assignment_notice", "financing_assignment"})
REQUIRED = ("kind", "document_id", "signer_org_id", "parties", "amount_fen")
_BYTE_RANGE = re.compile(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]")
_PLACEHOLDER = re.compile(rb"<0*>")


def byte_range_digest(document: bytes) -> bytes:
    """The SHA-256 over the signed byte ranges of the signature being made: the one
    ``/ByteRange [0 a b c]`` that spans the whole file around a placeholder of zeros.
    RefusedError for anything else."""
    spans = []
    for match in _BYTE_RANGE.finditer(document):
        start, first, second, length = (int(value) for value in match.groups())
        if start == 0 and 0 < first < second and second + length == len(document):
            spans.append((first, second))
    if len(spans) != 1:
        raise RefusedError("the document has no single signature placeholder spanning the file")
    first, second = spans[0]
    if not _PLACEHOLDER.fullmatch(document[first:second]):
        raise RefusedError("the document's signature placeholder is not empty")
    return hashlib.sha256(document[:first] + document[second:]).digest()


def read_terms(document: bytes) -> dict[str, Any]:
    """The terms the prepared document carries in its catalog. RefusedError if it has none."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        reader = PdfFileReader(io.BytesIO(document), strict=False)
        terms = json.loads(str(reader.root[TERMS_KEY]))
    except Exception as error:  # any malformed PDF: pyHanko raises many kinds
        raise RefusedError("the document carries no terms the gateway can read") from error
    if not isinstance(terms, dict):
        raise RefusedError("the document's terms are not an object")
    return terms


def signed_digest(signed_attributes: bytes) -> bytes:
    """The messageDigest of well-formed CMS signed attributes of content type data. RefusedError."""
    try:
        attributes = cms.CMSAttributes.load(signed_attributes, strict=True)
        found: dict[str, list[Any]] = {}
        for attribute in attributes:
            name = attribute["type"].native
            if name in found:
                raise RefusedError(f"the signed attributes name {name} twice")
            found[name] = list(attribute["values"])
    except RefusedError:
        raise
    except Exception as error:  # asn1crypto raises ValueError, TypeError and its own
        raise RefusedError("the signed attributes cannot be read") from error
    content_types = found.get("content_type", [])
    if len(content_types) != 1 or content_types[0].native != "data":
        raise RefusedError("the signed attributes must state the content type data")
    digests = found.get("message_digest", [])
    if len(digests) != 1:
        raise RefusedError("the signed attributes must carry exactly one messageDigest")
    return bytes(digests[0].native)


def check_document(
    signed_attributes: bytes, document: bytes | None, request: dict[str, Any], member: str | None
) -> dict[str, Any]:
    """The terms the card is about to sign, when signing ``signed_attributes`` over ``document``
    does exactly what ``request`` (the intent's) shows for the card's ``member``. RefusedError."""
    if not isinstance(document, bytes) or not document.startswith(b"%PDF-"):
        raise RefusedError("a document signature needs the prepared PDF")
    if len(document) > MAX_DOCUMENT_BYTES:
        raise RefusedError(f"the document is larger than {MAX_DOCUMENT_BYTES // 1024} KB")
    digest = byte_range_digest(document)
    if request.get("digest") != digest.hex():
        raise RefusedError("the document's signed bytes are not the ones the intent shows (digest differs)")
    terms = read_terms(document)
    shown = {key: value for key, value in request.items() if key != "digest"}
    if terms != shown:
        raise RefusedError("the document says otherwise than the intent shows")
    missing = [field for field in REQUIRED if terms.get(field) is None]
    if missing:
        raise RefusedError(f"the document states no {', '.join(missing)}")
    if terms["kind"] not in KINDS:
        raise RefusedError(f"the gateway does not sign documents of kind {terms['kind']!r}")
    if member is None or terms["signer_org_id"] != member:
        raise RefusedError("the card's member is not the document's signer")
    if signed_digest(signed_attributes) != digest:
        raise RefusedError("the signed attributes are not over the document shown (messageDigest differs)")
    return terms


def identity_member(identity: Identity) -> str | None:
    from .intents import _member_of

    return _member_of(identity)
