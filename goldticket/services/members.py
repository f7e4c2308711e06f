"""Operator desk: members (organisations) and their users."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from goldticket import domain as d
from goldticket.settings import ROLE_MSP

from . import cards
from .context import Actor, Desk
from .platform import Platform


def register_member(
    platform: Platform,
    desk: Desk,
    *,
    member_id: str,
    name: str,
    role: str,
    name_en: str = "",
    day_basis: int = 360,
    fee_bp: int = 0,
    kyc_sha256: str | None = None,
    msp_id: str | None = None,
) -> dict[str, Any]:
    """Register a core enterprise, supplier or bank, signed by the operator desk. Its MSP
    follows from its role, unless ``msp_id`` names the organisation of a bank or core
    enterprise that runs its own node (#19: its users' cards are certified by its own CA);
    ``kyc_sha256`` is the SHA-256 of its KYC record (kept off the ledger: services.desk)."""
    if role not in ("core", "supplier", "bank"):
        raise d.InvalidInputError("role must be core, supplier or bank")
    request = {
        "id": member_id,
        "name": name,
        "name_en": name_en,
        "role": role,
        "msp_id": member_msp(platform, role, msp_id),
        "day_basis": day_basis,
        "fee_bp": fee_bp,
    }
    if kyc_sha256 is not None:
        request["kyc_sha256"] = d.require_sha256(kyc_sha256, "kyc_sha256")
    member: dict[str, Any] = platform.submit(desk.actor, "RegisterMember", request, pin=desk.pin).result
    platform.audit_desk(desk, "member add", member=member_id)
    return member


def member_msp(platform: Platform, role: str, msp_id: str | None) -> str:
    """The organisation (MSP id) a new member's identities come from: its role's, or for a bank
    or core enterprise with a node of its own, that organisation's, whose CA the platform must
    trust (its public file imported: :func:`trust_organisation`). A supplier runs no node: its
    identities are the operator's organisation's. Raises InvalidInputError."""
    if msp_id is None or msp_id == ROLE_MSP[role]:
        return ROLE_MSP[role]
    msp = d.require_text(msp_id, "msp_id", 64)
    if role == "supplier":
        raise d.InvalidInputError(
            f"a supplier runs no node: its identities are issued under {ROLE_MSP['supplier']}, not {msp}"
        )
    if msp not in platform.keystore.trusted() and msp not in platform.keystore.cas():
        raise d.InvalidInputError(
            f"the platform does not trust {msp}'s CA: import the organisation's public file first "
            "(goldticket member trust-org)"
        )
    return msp


def trust_organisation(
    platform: Platform, desk: Desk, public: dict[str, Any], folder: Path | None = None
) -> dict[str, Any]:
    """The operator desk trusts an organisation that joined the channel (#19) by its public
    file (``network.py org export``: MSP id and CA certificate; never a key), so that members
    registered under it have cards its own CA certifies, from ``folder`` (the organisation's
    own folder on this machine: the file-based issuing adapter) or its own issuing service.
    On the embedded ledger the organisations are fixed when the ledger is made: refused. A
    trusted CA is never replaced by another: StateConflictError. Returns what is trusted."""
    if platform.ledger.kind == "local":
        raise d.InvalidInputError(
            "the embedded ledger's organisations are fixed when it is made; an organisation joins a "
            "Fabric channel (docs/fabric.md, a majority-signed configuration update)"
        )
    if not isinstance(public, dict):
        raise d.InvalidInputError("the public file must be a JSON object (network.py org export)")
    msp = d.require_text(public.get("msp_id"), "msp_id", 64)
    pem = public.get("ca_pem")
    if not isinstance(pem, str):
        raise d.InvalidInputError("the public file has no ca_pem")
    certificate = check_ca_certificate(pem.encode("ascii", "replace"), msp)
    known = platform.keystore.trusted().get(msp) or (
        held.certificate_pem if (held := platform.keystore.cas().get(msp)) is not None else None
    )
    if known is not None and check_ca_certificate(known, msp) != certificate:
        raise d.StateConflictError(f"the platform already trusts another CA for {msp}; it is never replaced")
    if folder is not None and not Path(folder).is_dir():
        raise d.InvalidInputError(f"{folder} is not a folder")
    platform.keystore.save_trusted(msp, certificate, Path(folder) if folder is not None else None)
    platform.audit_desk(desk, "trust organisation", msp_id=msp)
    return {"msp_id": msp, "ca_sha256": hashlib.sha256(certificate).hexdigest(), "folder": str(folder or "")}


def check_ca_certificate(pem: bytes, msp_id: str) -> bytes:
    """``pem`` as a self-signed ECDSA CA certificate (its PEM, normalised); InvalidInputError."""
    try:
        certificate = x509.load_pem_x509_certificate(pem)
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
        if not constraints.ca or certificate.issuer != certificate.subject:
            raise ValueError("not a self-signed CA")
        if not isinstance(certificate.public_key(), ec.EllipticCurvePublicKey):
            raise ValueError("not an ECDSA key")
        certificate.verify_directly_issued_by(certificate)
    except (ValueError, TypeError, x509.ExtensionNotFound, InvalidSignature) as error:
        raise d.InvalidInputError(
            f"{msp_id}'s CA certificate is not a self-signed ECDSA CA: {error}"
        ) from error
    return certificate.public_bytes(serialization.Encoding.PEM)


def update_member(platform: Platform, desk: Desk, member_id: str, **details: Any) -> dict[str, Any]:
    """The operator desk corrects a member's details (``name``, ``name_en``, ``day_basis``,
    ``fee_bp``; those given only), signed by the desk's card on the ledger."""
    request = {"id": d.require_text(member_id, "id", 64), **details}
    member: dict[str, Any] = platform.submit(desk.actor, "UpdateMember", request, pin=desk.pin).result
    platform.audit_desk(desk, "member update", member=member_id, fields=sorted(details))
    return member


def require_documents(platform: Platform, desk: Desk) -> dict[str, Any]:
    """The operator desk turns the ledger's documents rule on (#21; once, for good): every later
    issue, transfer offer and financing application must record its signed document."""
    rules: dict[str, Any] = platform.submit(desk.actor, "RequireDocuments", {}, pin=desk.pin).result
    platform.audit_desk(desk, "require documents")
    return rules


def ledger_rules(platform: Platform) -> dict[str, Any]:
    """The ledger's rules (longest payment term, documents rule, environment)."""
    return platform.evaluate("GetLedgerRules", {})  # type: ignore[no-any-return]


def get_member(platform: Platform, member_id: str) -> dict[str, Any]:
    return platform.evaluate("GetMember", {"id": member_id})  # type: ignore[no-any-return]


def list_members(platform: Platform) -> list[dict[str, Any]]:
    return platform.evaluate("ListMembers", {})["items"]  # type: ignore[no-any-return]


def add_user(
    platform: Platform,
    desk: Desk,
    *,
    member_id: str,
    username: str,
    role: str = "clerk",
    pin: str | None = None,
) -> Actor:
    """A new user of ``member_id``; with ``pin``, their card is opened and issued too."""
    get_member(platform, member_id)
    if pin is not None:
        cards.check_pin(pin, strict=platform.settings.env == "prod")
    actor = platform.add_user(username=username, member_id=member_id, user_role=role)
    platform.audit_desk(desk, "user add", for_user=username, member=member_id, role=role)
    if pin is not None:
        cards.enrol(platform, desk, username, pin)
    return actor


def list_users(platform: Platform, member_id: str | None = None) -> list[dict[str, str]]:
    """The user directory (of one member when given), by username."""
    return [user for user in platform.users.users() if member_id is None or user["member_id"] == member_id]


def revoke_user(platform: Platform, desk: Desk, username: str) -> list[dict[str, Any]]:
    """Eliminate every live card of the user: the identity is revoked on the ledger."""
    return [
        cards.eliminate_card(platform, desk, card["serial"])
        for card in cards.cards_of(platform, username)
        if card["status"] in ("ACTIVE", "SUSPENDED", "OPENED")
    ]


def set_term_cap(platform: Platform, desk: Desk, max_term_months: int) -> dict[str, Any]:
    """The operator desk sets the longest payment term of new tickets (1 to 12 months;
    Chinese rules since 2025-06: in principle at most 6, never over 12)."""
    request = {"max_term_months": max_term_months}
    config: dict[str, Any] = platform.submit(desk.actor, "SetTermCap", request, pin=desk.pin).result
    platform.audit_desk(desk, "term cap", max_term_months=max_term_months)
    return config
