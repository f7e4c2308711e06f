"""What a certificate shows: the ticket, its lineage from the root with each move's
transaction and block, its invoices and the ledger's facts, every value already formatted for
the template (goldticket.certificates renders it)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from goldticket import certificates as pdf
from goldticket import domain as d

from ..context import CHINA, OPERATOR
from ..platform import Platform
from .documents import member_names, name_of, recourse_terms, signer_url, verify_url

STATUS_LABELS = {
    "PENDING_ACCEPTANCE": ("待签收", "Pending acceptance"),
    "ACTIVE": ("持有中", "Active"),
    "LOCKED_TRANSFER": ("转让中", "Transfer pending"),
    "LOCKED_FINANCING": ("融资申请中", "Financing pending"),
    "SPLIT": ("已拆分", "Split"),
    "FINANCED": ("已融资", "Financed"),
    "SETTLED": ("已兑付", "Settled"),
    "REJECTED": ("已拒收", "Rejected"),
    "CANCELLED": ("已撤销", "Cancelled"),
    "FROZEN": ("已冻结", "Frozen"),
}


def certificate_view(
    platform: Platform, ticket: dict[str, Any], certificate_id: str, state_sha256: str
) -> dict[str, Any]:
    """What the certificate template shows, every value already formatted."""
    names = member_names(platform)
    history = platform.evaluate("GetHistory", {"ticket_id": ticket["id"]})["items"]
    last_tx = history[-1]["tx_id"] if history else ticket["tx_id"]
    zh, en = STATUS_LABELS.get(ticket["status"], (ticket["status"], ticket["status"]))
    url = verify_url(platform, certificate_id)
    return {
        "certificate_id": certificate_id,
        "issued_at": dt.datetime.now(CHINA).strftime("%Y-%m-%d %H:%M:%S (UTC+8)"),
        "platform_name": names.get(OPERATOR, ("", ""))[0],
        "platform_name_en": names.get(OPERATOR, ("", ""))[1],
        "qr": pdf.qr_data_uri(url),
        "verify_url": url,
        "signer_url": signer_url(platform),
        "ticket": {
            "id": ticket["id"],
            "root_id": ticket["root_id"],
            "issuer": name_of(names, ticket["issuer_org_id"]),
            "holder": name_of(names, ticket["holder_org_id"]),
            "amount": d.format_fen(ticket["amount_fen"]),
            "amount_capital": d.chinese_capital(ticket["amount_fen"]),
            "issue_date": ticket["issue_date"],
            "maturity_date": ticket["maturity_date"],
            "status": ticket["status"],
            "status_zh": zh,
            "status_en": en,
            "recourse": recourse_terms(platform, ticket["id"]),
        },
        "lineage": _moves(platform, ticket, names),
        "invoices": [
            {"number": item["number"], "amount": d.format_fen(item["amount_fen"]), "sha256": item["sha256"]}
            for item in ticket["invoices"]
        ],
        "ledger": {
            "channel": platform.ledger.channel_id,
            "kind": platform.ledger.kind,
            "tx_id": last_tx,
            "block": _block(platform, last_tx),
            "height": platform.ledger.height(),
            "state_sha256": state_sha256,
        },
    }


def _block(platform: Platform, tx_id: str) -> int:
    return platform.ledger.commit_status(tx_id, platform.reader).block_number


def _path(tree: dict[str, Any], ticket_id: str) -> list[dict[str, Any]]:
    """The ticket documents from the root down to ``ticket_id``."""
    if tree["ticket"]["id"] == ticket_id:
        return [tree["ticket"]]
    for child in tree["children"]:
        below = _path(child, ticket_id)
        if below:
            return [tree["ticket"], *below]
    return []


def _moves(
    platform: Platform, ticket: dict[str, Any], names: dict[str, tuple[str, str]]
) -> list[dict[str, Any]]:
    tree = platform.evaluate("GetLineage", {"ticket_id": ticket["id"]})
    moves = []
    parent: dict[str, Any] | None = None
    for piece in _path(tree, ticket["id"]) or [ticket]:
        history = platform.evaluate("GetHistory", {"ticket_id": piece["id"]})["items"]
        created = history[0] if history else {"timestamp": "", "action": "issue"}
        if parent is None:
            kind = ("开立", "Issue")
            source = piece["issuer_org_id"]
        elif piece["holder_org_id"] == parent["holder_org_id"]:
            kind = ("拆分留存", "Remainder kept")
            source = parent["holder_org_id"]
        elif created.get("action") == "approve_financing":
            kind = ("融资", "Financing")
            source = parent["holder_org_id"]
        else:
            kind = ("转让", "Transfer")
            source = parent["holder_org_id"]
        moves.append(
            {
                "kind_zh": kind[0],
                "kind_en": kind[1],
                "from": name_of(names, source),
                "to": name_of(names, piece["holder_org_id"]),
                "amount": d.format_fen(piece["amount_fen"]),
                "date": _china_date(created["timestamp"]),
                "ticket_id": piece["id"],
                "tx_id": piece["tx_id"],
                "block": _block(platform, piece["tx_id"]),
            }
        )
        parent = piece
    return moves


def _china_date(timestamp: str) -> str:
    if not timestamp:
        return ""
    return dt.datetime.fromisoformat(timestamp).astimezone(CHINA).date().isoformat()
