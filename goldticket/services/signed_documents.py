"""Documents signed by a member's own card (#21): the issuer's payment commitment (付款承诺函) at
issue. The platform renders the PDF (the certificate machinery), the acting user's card signs it
as PAdES through the signing gateway (which reads the document's terms and its signed bytes'
digest itself and shows them before signing), and the SHA-256 of the signed PDF goes into the
very transaction that moves the ticket, signed by the same card. The signed PDF is kept in the
data directory under its SHA-256; the ledger's record is what names it.

Anyone in the ticket's path (the members goldticket.domain.visibility lets see a piece of its
tree, and the operator) downloads it and verifies an upload: valid only when its SHA-256 is
the ledger's and its one signature is intact, valid, covers the whole file and is made by a card
of the signing member, certified by that member's organisation CA.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path
from typing import Any

from goldticket import certificates as pdf
from goldticket import domain as d
from goldticket.domain.visibility import visible_pieces
from goldticket.signing.documents import SIGN_DOCUMENT, byte_range_digest, read_terms

from . import access
from .context import OPERATOR, Actor
from .platform import Platform

PAYMENT_COMMITMENT = "payment_commitment"
# the document kinds a ticket names, by the field of its root that holds the SHA-256
DOCUMENT_FIELDS = {PAYMENT_COMMITMENT: "commitment_sha256"}
FIELD_NAMES = {PAYMENT_COMMITMENT: "GoldTicketIssuer"}
FILENAMES = {PAYMENT_COMMITMENT: "commitment"}


def _names(platform: Platform) -> dict[str, tuple[str, str]]:
    # (services.certificates.documents.member_names: that package reads the tickets service,
    # which signs commitments here)
    members = platform.evaluate("ListMembers", {})["items"]
    return {member["id"]: (member["name"], member.get("name_en") or "") for member in members}


def _name_of(names: dict[str, tuple[str, str]], member_id: str) -> str:
    zh, en = names.get(member_id, (member_id, ""))
    return f"{zh} {en} ({member_id})".replace("  ", " ")


def documents_dir(platform: Platform) -> Path:
    directory = platform.settings.data_dir / "documents"
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    return directory


def _keep(platform: Platform, data: bytes) -> str:
    """Keep a signed document under its SHA-256 (written whole, then renamed)."""
    digest = hashlib.sha256(data).hexdigest()
    path = documents_dir(platform) / f"{digest}.pdf"
    temporary = path.with_name(f".{digest}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    return digest


def card_sign(
    platform: Platform,
    actor: Actor,
    *,
    pin: str,
    rendered: bytes,
    terms: dict[str, Any],
    reason: str,
) -> tuple[bytes, str]:
    """``rendered`` signed by ``actor``'s card through the signing gateway, stating ``terms``
    (the intent the gateway shows: the terms and the signed bytes' digest); kept, and returned
    with its SHA-256. Raises a SigningError (a refusal, a wrong PIN, a locked card)."""
    serial = platform.cards.registry.active_card(actor.username).serial
    identity = platform.signing.identity(serial)
    ca_pem = platform.keystore.trusted().get(identity.msp_id)
    if ca_pem is None:
        raise d.StateConflictError(f"the platform does not trust {identity.msp_id}'s CA")

    def sign(signed_attributes: bytes, prepared: bytes) -> bytes:
        # what the user is shown and the card signs: the document's own terms and digest
        shown = {**read_terms(prepared), "digest": byte_range_digest(prepared).hex()}
        return platform.signer(actor, pin, SIGN_DOCUMENT, shown).sign_document(signed_attributes, prepared)

    signed = pdf.sign_with_card(
        rendered,
        terms,
        certificate_pem=identity.certificate_pem,
        ca_pem=ca_pem,
        sign=sign,
        field_name=FIELD_NAMES[terms["kind"]],
        reason=reason,
    )
    return signed, _keep(platform, signed)


def payment_commitment(
    platform: Platform,
    clerk: Actor,
    *,
    pin: str,
    payee_org_id: str,
    amount_fen: int,
    maturity_date: str,
    invoices: list[dict[str, Any]],
) -> str:
    """The issuer's payment commitment (付款承诺函) for a ticket about to be issued, signed by
    ``clerk``'s card; its SHA-256, which the issue's transaction records with the ticket."""
    names = _names(platform)
    numbers = [str(invoice.get("number")) for invoice in invoices]
    dated = platform.today().isoformat()
    terms = {
        "kind": PAYMENT_COMMITMENT,
        "document_id": "PC" + secrets.token_hex(8).upper(),
        "signer_org_id": clerk.member_id,
        "parties": {"payer": clerk.member_id, "payee": payee_org_id},
        "amount_fen": amount_fen,
        "maturity_date": maturity_date,
        "invoices": numbers,
        "dated": dated,
    }
    view = {
        "document_id": terms["document_id"],
        "dated": dated,
        "payer": _name_of(names, clerk.member_id),
        "payee": _name_of(names, payee_org_id),
        "amount": d.format_fen(amount_fen),
        "amount_capital": d.chinese_capital(amount_fen),
        "maturity_date": maturity_date,
        "invoices": ", ".join(numbers),
        "platform_name": names.get(OPERATOR, ("", ""))[0],
        "platform_name_en": names.get(OPERATOR, ("", ""))[1],
    }
    _, digest = card_sign(
        platform,
        clerk,
        pin=pin,
        rendered=pdf.render_commitment(view),
        terms=terms,
        reason=f"GoldTicket payment commitment {terms['document_id']}",
    )
    return digest


def _in_path(platform: Platform, actor: Actor, root_id: str) -> None:
    """ForbiddenError unless ``actor``'s member may see a piece of the tree under ``root_id``
    (the issuer, every holder of its path, the banks that financed a piece) or is the operator."""
    if actor.member_id == OPERATOR:
        return
    docs: dict[str, dict[str, Any]] = {}

    def walk(node: dict[str, Any]) -> None:
        docs[node["ticket"]["id"]] = node["ticket"]
        for child in node["children"]:
            walk(child)

    walk(platform.evaluate("GetLineage", {"ticket_id": root_id}))
    if not visible_pieces(actor.member_id, docs):
        raise d.ForbiddenError(f"ticket {root_id}'s documents are for the members in its path only")


def _recorded(platform: Platform, actor: Actor, ticket_id: str, kind: str) -> tuple[dict[str, Any], str]:
    if kind not in DOCUMENT_FIELDS:
        raise d.InvalidInputError(f"no document kind {kind!r}; one of {', '.join(sorted(DOCUMENT_FIELDS))}")
    ticket = access.ticket(platform, ticket_id)
    root = access.ticket(platform, ticket["root_id"])
    _in_path(platform, actor, root["id"])
    digest = root.get(DOCUMENT_FIELDS[kind])
    if not digest:
        raise d.NotFoundError(f"ticket {root['id']} was issued without a signed {kind}")
    return root, str(digest)


def download(platform: Platform, actor: Actor, ticket_id: str, kind: str) -> tuple[bytes, str]:
    """The signed document ``kind`` of the ticket's tree and a file name, for a member in its
    path. Raises ForbiddenError, NotFoundError."""
    root, digest = _recorded(platform, actor, ticket_id, kind)
    path = documents_dir(platform) / f"{digest}.pdf"
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise d.NotFoundError(f"the signed {kind} of ticket {root['id']} is not kept here") from None
    return data, f"{FILENAMES[kind]}-{root['id']}.pdf"


def verify(platform: Platform, actor: Actor, ticket_id: str, kind: str, data: bytes) -> dict[str, Any]:
    """The verdict on an uploaded copy of the ticket's document ``kind``: ``valid`` when it is the
    very file the ledger names, signed by a card of the member who signs that kind (the issuer
    for a commitment) under its organisation's CA; else ``forged`` with the reason."""
    root, recorded = _recorded(platform, actor, ticket_id, kind)
    signer = root["issuer_org_id"]
    member = platform.evaluate("GetMember", {"id": signer})
    ca_pem = platform.keystore.trusted().get(member.get("msp_id", ""))
    check = pdf.check_member_signatures(data, [(signer, ca_pem or b"")])
    reason = check.reason
    if check.sha256 != recorded:
        reason = "the file is not the one recorded on the ledger (SHA-256 differs)"
    elif ca_pem is None:
        reason = f"the platform does not trust {signer}'s organisation CA"
    valid = check.genuine and check.sha256 == recorded and ca_pem is not None
    return {
        "ticket_id": root["id"],
        "kind": kind,
        "verdict": "valid" if valid else "forged",
        "reason": reason,
        "sha256": check.sha256,
        "recorded_sha256": recorded,
        "signer_org_id": signer,
    }
