"""The platform's document key and what every certificate and statement names: the signer
(made on first use, in a SoftHSM2 token with the PKCS#11 card backend), its published
certificate, the public verify page, and members by name."""

from __future__ import annotations

import threading
from pathlib import Path

from goldticket import certificates as pdf

from ..platform import Platform

SIGNING_CERTIFICATE_PATH = "/api/v1/certificates/signing-certificate"
_SIGNERS: dict[Path, pdf.DocumentSigner] = {}
_SIGNERS_LOCK = threading.Lock()


def document_signer(platform: Platform) -> pdf.DocumentSigner:
    """The platform's document signer (made on first use): in a SoftHSM2 token with the
    PKCS#11 card backend, a software key with the software backend only."""
    directory = (platform.settings.data_dir / "certificates").resolve()
    with _SIGNERS_LOCK:
        if directory not in _SIGNERS:
            cards = platform.cards
            factory = cards.factories.get("pkcs11") if cards.default_backend == "pkcs11" else None
            ca = platform.keystore.cas()["OperatorMSP"]
            _SIGNERS[directory] = pdf.open_document_signer(directory, ca, factory)
        return _SIGNERS[directory]


def make_document_signer(platform: Platform) -> None:
    """Make the platform's document signer if it is missing (``goldticket init``, and
    ``goldticket serve`` before its workers start, for a directory made by an older version),
    so that no request makes it: the first certificates asked for at once under load once broke
    its token for good (docs/operations.md, Reliability drills, defect 6)."""
    directory = (platform.settings.data_dir / "certificates").resolve()
    cards = platform.cards
    factory = cards.factories.get("pkcs11") if cards.default_backend == "pkcs11" else None
    pdf.open_document_signer(directory, platform.keystore.cas()["OperatorMSP"], factory)


def warm_up(platform: Platform) -> None:
    """Load what every certificate and statement of this process reuses (WeasyPrint and its
    fonts, the stylesheet, the document signer and pyHanko's first signature) before a user
    asks for one: a cold worker paid ~1.5-3 s on its first PDF (#20 point 15)."""
    document_signer(platform).sign(pdf.warm(), reason="warm-up")


def signing_certificates_pem(platform: Platform) -> bytes:
    """The platform's document-signing certificate, then the operator CA's: what anyone needs
    to check a certificate PDF's signature (published at SIGNING_CERTIFICATE_PATH)."""
    signer = document_signer(platform)
    return signer.certificate_pem + signer.ca_pem


def verify_url(platform: Platform, certificate_id: str) -> str:
    """The public page the certificate's QR code opens."""
    return f"{platform.settings.public_url.rstrip('/')}/verify/{certificate_id}"


def member_names(platform: Platform) -> dict[str, tuple[str, str]]:
    """Every member's Chinese and English name, by member id."""
    members = platform.evaluate("ListMembers", {})["items"]
    return {member["id"]: (member["name"], member.get("name_en") or "") for member in members}


def name_of(names: dict[str, tuple[str, str]], member_id: str) -> str:
    """A member as a document names it: Chinese name, English name, (id)."""
    zh, en = names.get(member_id, (member_id, ""))
    return f"{zh} {en} ({member_id})".replace("  ", " ")


def signer_url(platform: Platform) -> str:
    """Where the certificate and statement PDFs say the platform's signing certificate is."""
    return platform.settings.public_url.rstrip("/") + SIGNING_CERTIFICATE_PATH


RECOURSE_TERMS = {True: ("有追索", "With recourse"), False: ("无追索", "Without recourse")}


def recourse_terms(platform: Platform, ticket_id: str) -> tuple[str, str] | None:
    """How the financing in the ticket's path was made (#21): with recourse if any financing of
    its path was, without if each stated none; None where no financing of its path stated it
    (not financed, or financed before the choice existed)."""
    financings = platform.evaluate("GetOverdue", {"ticket_id": ticket_id})["financings"]
    if not financings:
        return None
    return RECOURSE_TERMS[any(bool(item["recourse"]) for item in financings)]
