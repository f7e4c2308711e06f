"""A settlement's clearing statements: read by the parties to them, and as a PDF signed by the
platform."""

from __future__ import annotations

from typing import Any

from goldticket import certificates as pdf
from goldticket import domain as d

from .. import pending
from ..context import OPERATOR, Actor
from ..platform import Platform
from .documents import document_signer, member_names, name_of, recourse_terms, signer_url


def _is_party(actor: Actor, root: dict[str, Any], statement: dict[str, Any]) -> bool:
    """The issuer, a payee or holder named in the statement, or the operator."""
    parties = {root["issuer_org_id"], OPERATOR}
    parties |= {item["holder_org_id"] for item in statement["paid"] + statement["withheld"]}
    return actor.member_id in parties


def _shown_to(actor: Actor, root: dict[str, Any], statement: dict[str, Any]) -> dict[str, Any]:
    """The statement as ``actor`` may read it: the issuer and the operator every line; a holder
    its own lines only (need to know: not its siblings' holders or what they were paid)."""
    if actor.member_id in (root["issuer_org_id"], OPERATOR):
        return statement
    own = actor.member_id
    return {
        **statement,
        "paid": [item for item in statement["paid"] if item["holder_org_id"] == own],
        "withheld": [item for item in statement["withheld"] if item["holder_org_id"] == own],
    }


def get_statement(platform: Platform, actor: Actor, root_id: str, statement_id: str) -> dict[str, Any]:
    """A settlement's clearing statement (with its ``root_id``), for a party to it. Raises
    NotFoundError, ForbiddenError."""
    request = {
        "root_id": d.require_text(root_id, "root_id", 64),
        "statement_id": d.require_text(statement_id, "statement_id", 64),
    }
    statement = platform.evaluate("GetStatement", request)
    root = platform.evaluate("GetTicket", {"ticket_id": root_id})
    if not _is_party(actor, root, statement):
        raise d.ForbiddenError(f"only a party to statement {statement_id} may read it")
    return {**_shown_to(actor, root, statement), "root_id": root_id}


def list_statements(platform: Platform, actor: Actor, root_id: str) -> list[dict[str, Any]]:
    """The clearing statements of ``root_id`` the actor is a party to (none before settlement)."""
    root = platform.evaluate("GetTicket", {"ticket_id": d.require_text(root_id, "root_id", 64)})
    items = pending.statements(platform, root["id"])
    return [
        {**_shown_to(actor, root, item), "root_id": root["id"]}
        for item in items
        if _is_party(actor, root, item)
    ]


def statement_pdf(platform: Platform, actor: Actor, root_id: str, statement_id: str) -> bytes:
    """The clearing statement of a settlement, signed by the platform. For the issuer, a payee
    or holder named in it, or the operator. Raises NotFoundError, ForbiddenError."""
    statement = get_statement(platform, actor, root_id, statement_id)
    root = platform.evaluate("GetTicket", {"ticket_id": root_id})
    names = member_names(platform)

    def payments(items: list[dict[str, Any]]) -> list[dict[str, str]]:
        return [
            {
                "ticket_id": item["ticket_id"],
                "holder": name_of(names, item["holder_org_id"]),
                "amount": d.format_fen(item["amount_fen"]),
                "recourse": " ".join(recourse_terms(platform, item["ticket_id"]) or ("—",)),
            }
            for item in items
        ]

    view = {
        "statement_id": statement["statement_id"],
        "settled_on": statement["settled_on"],
        "root_id": root_id,
        "issuer": name_of(names, root["issuer_org_id"]),
        "total_paid": d.format_fen(statement["total_paid_fen"]),
        "total_paid_capital": d.chinese_capital(statement["total_paid_fen"]),
        "total_withheld": d.format_fen(statement["total_withheld_fen"]),
        "previously_settled": d.format_fen(statement["previously_settled_fen"]),
        "paid": payments(statement["paid"]),
        "withheld": payments(statement["withheld"]),
        "platform_name": names.get(OPERATOR, ("", ""))[0],
        "platform_name_en": names.get(OPERATOR, ("", ""))[1],
        "signer_url": signer_url(platform),
    }
    rendered = pdf.render_statement(view)
    return document_signer(platform).sign(rendered, reason=f"GoldTicket clearing statement {statement_id}")
