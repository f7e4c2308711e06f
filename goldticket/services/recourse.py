"""Overdue and recourse (逾期与追索, #21): a piece still unpaid after its root's maturity plus
grace days is marked OVERDUE on the ledger (by its holder or the operator; the chaincode checks
the date against the transaction's own); its holder demands payment (追索) of the issuer, or of
an earlier holder where the ticket was financed with recourse (有追索): each demand is a PDF
(追索通知书) signed by the platform whose SHA-256 the holder's card records on the ledger; the
demand is closed as paid (the bank booked the piece in full, or the holder confirms the obligor
paid) or written off by the holder.

Parties only: the holder, the issuer and the operator read a piece's overdue record; an obligor
reads the demands made of it."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from goldticket import certificates as pdf
from goldticket import domain as d
from goldticket.domain.recourse import ISSUER, RECOURSE

from . import access
from .certificates.documents import document_signer, member_names, name_of, signer_url
from .context import OPERATOR, Actor
from .platform import Platform

BASIS_LABELS = {
    ISSUER: "开立方付款责任 The issuer's duty to pay at maturity",
    RECOURSE: "有追索融资的前手责任 An earlier holder's liability under a financing with recourse",
}
RECOURSE_LABELS = {True: "有追索 With recourse", False: "无追索 Without recourse"}


def _documents_dir(platform: Platform) -> Path:
    directory = platform.settings.data_dir / "demands"
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    return directory


def _shown_to(actor: Actor, detail: dict[str, Any]) -> dict[str, Any]:
    """``detail`` as ``actor`` may read it: the holder, the issuer and the operator all of it;
    an obligor the demands made of it. NotFoundError for anyone else."""
    overdue = detail.get("overdue") or {}
    parties = {OPERATOR, overdue.get("holder_org_id"), overdue.get("issuer_org_id")}
    if actor.member_id in parties:
        return detail
    own = [demand for demand in detail["demands"] if demand["obligor_org_id"] == actor.member_id]
    if not own:
        raise d.NotFoundError(f"no overdue record of ticket {detail['ticket_id']} for you")
    return {**detail, "demands": own, "obligors": {}}


def overdue_detail(platform: Platform, actor: Actor, ticket_id: str) -> dict[str, Any]:
    """A piece's overdue record (``overdue``: None when not marked), its demands, what is unpaid,
    ``overdue_from`` (the first day it may be marked) and ``obligors`` (whom its holder may
    demand payment from). For its holder, its issuer, the operator; an obligor sees the demands
    made of it. Raises NotFoundError."""
    ticket = access.ticket(platform, ticket_id)
    detail = platform.evaluate("GetOverdue", {"ticket_id": ticket["id"]})
    if detail["overdue"] is None:
        if actor.member_id not in (OPERATOR, ticket["holder_org_id"], ticket["issuer_org_id"]):
            raise d.NotFoundError(f"no overdue record of ticket {ticket_id} for you")
        return detail
    return _shown_to(actor, detail)


def list_overdue(platform: Platform, actor: Actor) -> list[dict[str, Any]]:
    """The overdue pieces ``actor``'s member holds or issued, or of which a demand was made of
    it (the operator: all), each with the demands it may see."""
    items = platform.evaluate("ListOverdue", {})["items"]
    shown = []
    for item in items:
        detail = {"ticket_id": item["ticket_id"], "overdue": item, "demands": item["demands"]}
        try:
            visible = _shown_to(actor, detail)
        except d.NotFoundError:
            continue
        shown.append({**item, "demands": visible["demands"]})
    return shown


def mark_overdue(platform: Platform, actor: Actor, ticket_id: str, *, pin: str) -> dict[str, Any]:
    """Record the piece OVERDUE (its holder, or the operator). The chaincode refuses before the
    root's maturity plus grace days, by the transaction's date, and a piece paid in full."""
    ticket = access.ticket(platform, ticket_id)
    if actor.member_id not in (OPERATOR, ticket["holder_org_id"]):
        raise d.ForbiddenError(
            f"only the holder of ticket {ticket['id']} or the operator may mark it overdue"
        )
    return platform.submit(actor, "MarkOverdue", {"ticket_id": ticket["id"]}, pin=pin).result  # type: ignore[no-any-return]


def demand_document(
    platform: Platform, detail: dict[str, Any], obligor_org_id: str, amount_fen: int, dated: str
) -> bytes:
    """The demand (追索通知书) as a PDF signed by the platform."""
    overdue = detail["overdue"]
    names = member_names(platform)
    view = {
        "ticket_id": detail["ticket_id"],
        "root_id": overdue["root_id"],
        "dated": dated,
        "holder": name_of(names, overdue["holder_org_id"]),
        "obligor": name_of(names, obligor_org_id),
        "issuer": name_of(names, overdue["issuer_org_id"]),
        "basis": BASIS_LABELS[detail["obligors"][obligor_org_id]],
        "face": d.format_fen(overdue["amount_fen"]),
        "maturity_date": overdue["maturity_date"],
        "grace_days": str(overdue["grace_days"]),
        "marked_on": overdue["marked_on"],
        "unpaid": d.format_fen(detail["unpaid_fen"]),
        "recourse": RECOURSE_LABELS[bool(detail.get("recourse"))],
        "amount": d.format_fen(amount_fen),
        "amount_capital": d.chinese_capital(amount_fen),
        "platform_name": names.get(OPERATOR, ("", ""))[0],
        "platform_name_en": names.get(OPERATOR, ("", ""))[1],
        "signer_url": signer_url(platform),
    }
    rendered = pdf.render_demand(view)
    return document_signer(platform).sign(
        rendered, reason=f"GoldTicket demand for payment {detail['ticket_id']}"
    )


def demand_payment(
    platform: Platform,
    actor: Actor,
    ticket_id: str,
    *,
    obligor_org_id: str,
    amount_fen: int | None = None,
    pin: str,
) -> dict[str, Any]:
    """The holder of an overdue piece demands ``amount_fen`` (all that is unpaid when None) of
    ``obligor_org_id``: the demand document is rendered and signed by the platform, kept in the
    data directory, and its SHA-256 recorded on the ledger with the demand, signed by the
    holder's card. Returns the demand with ``document_sha256``."""
    ticket = access.ticket(platform, ticket_id)
    access.require_holder(platform, actor, ticket["id"])
    detail = platform.evaluate("GetOverdue", {"ticket_id": ticket["id"]})
    if detail["overdue"] is None:
        raise d.StateConflictError(f"ticket {ticket['id']} is not marked overdue: mark it first")
    obligor = d.require_text(obligor_org_id, "obligor_org_id", 64)
    amount = detail["unpaid_fen"] if amount_fen is None else d.require_fen(amount_fen)
    if obligor not in detail["obligors"]:
        raise d.ForbiddenError(
            f"{obligor} is not liable for ticket {ticket['id']}: demand from the issuer, or from an earlier "
            "holder only where the ticket was financed with recourse (有追索)"
        )
    if detail["unpaid_fen"] <= 0:
        raise d.RuleViolationError(f"ticket {ticket['id']} is paid in full: there is nothing to demand")
    if amount > detail["unpaid_fen"]:
        raise d.RuleViolationError(
            f"ticket {ticket['id']} has {d.format_fen(detail['unpaid_fen'])} unpaid; a demand of "
            f"{d.format_fen(amount)} is more"
        )
    detail["recourse"] = any(basis == RECOURSE for basis in detail["obligors"].values())
    document = demand_document(platform, detail, obligor, amount, platform.today().isoformat())
    sha256 = hashlib.sha256(document).hexdigest()
    path = _documents_dir(platform) / f"{sha256}.pdf"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(document)
    request = {
        "ticket_id": ticket["id"],
        "obligor_org_id": obligor,
        "amount_fen": amount,
        "document_sha256": sha256,
    }
    try:
        return platform.submit(actor, "DemandPayment", request, pin=pin).result  # type: ignore[no-any-return]
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def demand_pdf(platform: Platform, actor: Actor, ticket_id: str, demand_id: str) -> bytes:
    """The signed demand document as recorded: only a document whose SHA-256 is the one on the
    ledger is handed out. For the parties of the overdue record and the obligor."""
    detail = overdue_detail(platform, actor, ticket_id)
    wanted = d.require_text(demand_id, "demand_id", 64)
    demand = next((item for item in detail["demands"] if item["demand_id"] == wanted), None)
    if demand is None:
        raise d.NotFoundError(f"no demand {demand_id} on ticket {ticket_id}")
    path = _documents_dir(platform) / f"{demand['document_sha256']}.pdf"
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise d.NotFoundError(f"the document of demand {demand_id} is not in this data directory") from None
    if hashlib.sha256(data).hexdigest() != demand["document_sha256"]:
        raise d.RuleViolationError(
            f"the stored document of demand {demand_id} does not match the ledger's hash"
        )
    return data


def close_demand(
    platform: Platform,
    actor: Actor,
    ticket_id: str,
    demand_id: str,
    *,
    outcome: str,
    payment_reference: str | None = None,
    pin: str,
) -> dict[str, Any]:
    """Close a demand: ``outcome`` "paid" (with ``payment_reference``: the holder confirms the
    obligor paid the demanded amount; without: the bank booked the piece in full) or
    "written_off" (the holder)."""
    if outcome not in ("paid", "written_off"):
        raise d.InvalidInputError('outcome must be "paid" or "written_off"')
    ticket = access.ticket(platform, ticket_id)
    detail = platform.evaluate("GetOverdue", {"ticket_id": ticket["id"]})
    wanted = d.require_text(demand_id, "demand_id", 64)
    demand = next((item for item in detail["demands"] if item["demand_id"] == wanted), None)
    if demand is None or actor.member_id not in (demand["holder_org_id"], demand["obligor_org_id"]):
        raise d.NotFoundError(f"no demand {demand_id} on ticket {ticket_id} for you")
    request: dict[str, Any] = {"ticket_id": ticket["id"], "demand_id": wanted, "outcome": outcome}
    if payment_reference:
        request["payment_reference"] = d.require_text(payment_reference, "payment_reference", 64)
    return platform.submit(actor, "CloseDemand", request, pin=pin).result  # type: ignore[no-any-return]
