"""Financing (discount) with a bank, and the quote that shows its figures beforehand."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from goldticket import domain as d

from . import access, dual_control, signed_documents
from .context import Actor
from .platform import Platform


def quote(
    *,
    amount_fen: int,
    annual_rate_bp: int,
    value_date: dt.date | str,
    maturity_date: dt.date | str,
    day_basis: int = 360,
    fee_bp: int = 0,
) -> d.DiscountQuote:
    """The same computation as approval: days, discount interest, fee and proceeds."""
    return d.quote_discount(
        amount_fen=amount_fen,
        annual_rate_bp=annual_rate_bp,
        value_date=d.parse_date(value_date, "value_date"),
        maturity_date=d.parse_date(maturity_date, "maturity_date"),
        day_basis=day_basis,
        fee_bp=fee_bp,
    )


def apply_financing(
    platform: Platform,
    holder: Actor,
    *,
    ticket_id: str,
    bank_org_id: str,
    amount_fen: int,
    max_annual_rate_bp: int,
    pin: str,
    recourse: bool | None = None,
    documents: bool = True,
) -> dict[str, Any]:
    """Returns ``{"application_id", "ticket"}`` with the ticket LOCKED_FINANCING. With
    ``documents`` (#21) the assignment to the bank with its recourse terms is signed by the
    holder's card first and its SHA-256 recorded with the application. The holder
    signs ``max_annual_rate_bp``, the highest annual rate it accepts: the bank cannot approve
    above it. ``recourse``: with recourse (有追索: the bank may demand payment of the holder and
    those before it if the issuer does not pay) or without (无追索); None states nothing
    (without, as before #21)."""
    d.require_fen(amount_fen)
    d.require_rate_bp(max_annual_rate_bp, "max_annual_rate_bp")
    access.require_holder(platform, holder, ticket_id)
    request: dict[str, Any] = {
        "ticket_id": ticket_id,
        "bank_org_id": bank_org_id,
        "amount_fen": amount_fen,
        "max_annual_rate_bp": max_annual_rate_bp,
    }
    if d.require_recourse(recourse) is not None:
        request["recourse"] = recourse
    if documents:
        request["assignment_sha256"] = signed_documents.financing_assignment(
            platform,
            holder,
            pin=pin,
            ticket=access.ticket(platform, ticket_id),
            bank_org_id=d.require_text(bank_org_id, "bank_org_id", 64),
            amount_fen=amount_fen,
            max_annual_rate_bp=max_annual_rate_bp,
            recourse=recourse,
        )
    return platform.submit(holder, "ApplyFinancing", request, pin=pin).result  # type: ignore[no-any-return]


def approve_financing(
    platform: Platform,
    banker: Actor,
    *,
    application_id: str,
    annual_rate_bp: int,
    value_date: dt.date | str,
    pin: str,
) -> dict[str, Any]:
    """Returns the quote figures plus ``financed`` and ``remainder`` tickets. The request
    states the holder's signed bound, so the signing gateway checks the rate against it. The
    bound is read with the access check, without a signed query: a stale one is refused by
    the chaincode, which compares it with the application on the ledger. An application with
    the holder's signed assignment (#21) is approved with it countersigned by ``banker``'s card;
    under maker-checker the approval is only prepared here, and the reviewer who commits it
    countersigns (``dual_control.approve``)."""
    application = d.FinancingApplication.from_dict(
        access.require_application_bank(platform, banker, application_id)
    )
    d.require_rate_bp(annual_rate_bp)
    d.check_rate_bound(application, annual_rate_bp)
    request: dict[str, Any] = {
        "application_id": application_id,
        "annual_rate_bp": annual_rate_bp,
        "value_date": d.parse_date(value_date, "value_date").isoformat(),
    }
    if application.max_annual_rate_bp is not None:
        request["max_annual_rate_bp"] = application.max_annual_rate_bp
    if application.assignment_sha256 and not dual_control.needs_review(
        platform, banker, "ApproveFinancing", application.amount_fen
    ):
        request["countersigned_assignment_sha256"] = signed_documents.countersign_financing_assignment(
            platform, banker, pin=pin, application=application.to_dict()
        )
    # the salt of the private terms, drawn here, kept with them in the collection only: the
    # channel's hash of the terms then says nothing of the rate (#19)
    request[d.TERMS_SALT] = secrets.token_hex(16)
    # the rate travels in the proposal's transient map (goldticket/ledger/contract.py,
    # PRIVATE_FIELDS): the block records only the hash of the terms (#19)
    # or, under maker-checker above the member's threshold, prepared for a reviewer (#20)
    result: dict[str, Any] = dual_control.submit(
        platform, banker, "ApproveFinancing", request, amount_fen=application.amount_fen, pin=pin
    )
    if result.get("terms"):  # private: the figures from the bank's and the holder's collection
        terms = _terms(platform, application_id)["terms"] or {}
        result.update({k: v for k, v in terms.items() if k not in ("application_id", "salt")})
        result.pop("terms")
        result.pop("application_id", None)
    return result


def financing_terms(platform: Platform, actor: Actor, application_id: str) -> dict[str, Any]:
    """The discount terms of an approved application, for its holder and its bank only
    (ForbiddenError for anyone else): rate, days, interest, fee, proceeds, value date, the
    ``salt`` kept with them (absent for terms approved before they were salted) and the SHA-256
    the channel records of them (None for terms approved before they were private); a party
    checks the two with ``domain.financing_terms_sha256``."""
    record = platform.lookup("application", application_id)
    if actor.member_id not in (record.get("holder_org_id"), record.get("bank_org_id")):
        raise d.ForbiddenError("discount terms are private to the holder and the bank")
    found = _terms(platform, application_id)
    if not found["terms"]:
        raise d.NotFoundError(f"the terms of application {application_id} are not held here")
    terms = {k: v for k, v in found["terms"].items() if k != "application_id"}
    terms["sha256"] = found["sha256"]
    return terms


def _terms(platform: Platform, application_id: str) -> dict[str, Any]:
    """GetFinancingTerms' answer as the operator's read identity reads it (the embedded ledger's
    private store, or the query on Fabric); NotFoundError for no approved terms."""
    found = platform.ledger.record("terms", application_id)
    if found is None:
        raise d.NotFoundError(f"application {application_id} has no approved terms")
    return found


def reject_financing(
    platform: Platform, banker: Actor, *, application_id: str, reason: str, pin: str
) -> dict[str, Any]:
    access.require_application_bank(platform, banker, application_id)
    request = {"application_id": application_id, "reason": reason}
    return platform.submit(banker, "RejectFinancing", request, pin=pin).result  # type: ignore[no-any-return]
