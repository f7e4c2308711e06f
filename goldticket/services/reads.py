"""What a signed-in user may read, from the read model (the projection of ledger blocks).

A member reads the ticket trees it takes part in: as issuer, as a holder of any piece, as the
payee of an offer or the bank of a financing application on any piece. The operator reads
everything. Lists page with ``page``/``per_page`` and return ``{"items", "total"}``.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import Select, func, select

from goldticket import domain as d
from goldticket.store.models import (
    CreditLineRow,
    HistoryRow,
    MemberRow,
    ParticipantRow,
    TicketRow,
)

from .context import OPERATOR, Actor
from .portal import Portal

MAX_PER_PAGE = 500


def page_args(page: Any, per_page: Any) -> tuple[int, int]:
    """Validated ``page`` (from 1) and ``per_page`` (1..500, default 50)."""
    try:
        number = int(page) if page not in (None, "") else 1
        size = int(per_page) if per_page not in (None, "") else 50
    except (TypeError, ValueError) as error:
        raise d.InvalidInputError("page and per_page must be whole numbers") from error
    if number < 1 or number > 1_000_000 or not 1 <= size <= MAX_PER_PAGE:
        raise d.InvalidInputError(f"page must be at least 1 and per_page from 1 to {MAX_PER_PAGE}")
    return number, size


def present_ticket(doc: dict[str, Any], today: dt.date) -> dict[str, Any]:
    """The API's ticket object: the ledger document without bookkeeping, plus display_status."""
    shown = {key: value for key, value in doc.items() if key != "last_action"}
    for key in ("offer_id", "application_id"):
        if shown.get(key) is None:
            shown.pop(key, None)
    status = d.TicketStatus(shown["status"])
    maturity = dt.date.fromisoformat(shown["maturity_date"])
    shown["display_status"] = d.display_status(status, maturity, today)
    return shown


def _sees_everything(actor: Actor) -> bool:
    return actor.member_id == OPERATOR


def _visible(query: Select[Any], actor: Actor) -> Select[Any]:
    if _sees_everything(actor):
        return query
    roots = select(ParticipantRow.root_id).where(ParticipantRow.org_id == actor.member_id)
    return query.where(TicketRow.root_id.in_(roots))


def _ticket_row(portal: Portal, actor: Actor, ticket_id: str) -> TicketRow:
    with portal.database.session() as session:
        row = session.get(TicketRow, d.require_text(ticket_id, "ticket_id", 64))
        if row is not None and not _sees_everything(actor):
            allowed = session.get(ParticipantRow, (actor.member_id, row.root_id))
            if allowed is None:
                row = None
    if row is None:  # another member's ticket reads as absent: its existence is not disclosed
        raise d.NotFoundError(f"no ticket {ticket_id}")
    return row


def get_ticket(portal: Portal, actor: Actor, ticket_id: str) -> dict[str, Any]:
    return present_ticket(json.loads(_ticket_row(portal, actor, ticket_id).doc), portal.platform.today())


def list_tickets(
    portal: Portal,
    actor: Actor,
    *,
    holder_org_id: str | None = None,
    status: str | None = None,
    root_id: str | None = None,
    page: Any = None,
    per_page: Any = None,
) -> dict[str, Any]:
    number, size = page_args(page, per_page)
    # a holder always takes part in its ticket's tree: its own holdings need no visibility join
    own = holder_org_id is not None and holder_org_id == actor.member_id
    query = select(TicketRow) if own else _visible(select(TicketRow), actor)
    if holder_org_id:
        query = query.where(TicketRow.holder_org_id == holder_org_id)
    if status:
        if status not in {s.value for s in d.TicketStatus}:
            raise d.InvalidInputError(f"unknown status {status}")
        query = query.where(TicketRow.status == status)
    if root_id:
        query = query.where(TicketRow.root_id == root_id)
    today = portal.platform.today()
    with portal.database.session() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = session.scalars(query.order_by(TicketRow.id).offset((number - 1) * size).limit(size)).all()
        items = [present_ticket(json.loads(row.doc), today) for row in rows]
    return {"items": items, "total": total}


def ticket_history(portal: Portal, actor: Actor, ticket_id: str) -> list[dict[str, Any]]:
    row = _ticket_row(portal, actor, ticket_id)
    with portal.database.session() as session:
        entries = session.scalars(
            select(HistoryRow)
            .where(HistoryRow.ticket_id == row.id)
            .order_by(HistoryRow.block, HistoryRow.txnum)
        ).all()
        return [
            {
                "tx_id": entry.tx_id,
                "action": entry.action,
                "status": entry.status,
                "by_org_id": entry.by_org_id,
                "by_user": entry.by_user,
                "card_serial": entry.card_serial,
                "timestamp": entry.timestamp,
                "block": entry.block,
            }
            for entry in entries
        ]


def ticket_lineage(portal: Portal, actor: Actor, ticket_id: str) -> dict[str, Any]:
    row = _ticket_row(portal, actor, ticket_id)
    today = portal.platform.today()
    with portal.database.session() as session:
        pieces = session.scalars(select(TicketRow).where(TicketRow.root_id == row.root_id)).all()
    docs = {piece.id: json.loads(piece.doc) for piece in pieces}
    children: dict[str | None, list[str]] = {}
    for doc in docs.values():
        children.setdefault(doc.get("parent_id"), []).append(doc["id"])

    def tree(node_id: str) -> dict[str, Any]:
        kids = sorted(children.get(node_id, []))
        return {"ticket": present_ticket(docs[node_id], today), "children": [tree(kid) for kid in kids]}

    return tree(row.root_id)


def list_credit_lines(
    portal: Portal, actor: Actor, *, core_org_id: str | None = None, page: Any = None, per_page: Any = None
) -> dict[str, Any]:
    """The operator sees every line; a bank the lines it granted; a core enterprise its own."""
    number, size = page_args(page, per_page)
    query = select(CreditLineRow)
    if not _sees_everything(actor):
        query = query.where(
            (CreditLineRow.bank_org_id == actor.member_id) | (CreditLineRow.core_org_id == actor.member_id)
        )
    if core_org_id:
        query = query.where(CreditLineRow.core_org_id == core_org_id)
    with portal.database.session() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = session.scalars(query.order_by(CreditLineRow.id).offset((number - 1) * size).limit(size)).all()
        return {"items": [json.loads(row.doc) for row in rows], "total": total}


def list_members(portal: Portal, actor: Actor) -> dict[str, Any]:
    """Every member's public record (names, roles): members need them to address each other."""
    with portal.database.session() as session:
        rows = session.scalars(select(MemberRow).order_by(MemberRow.id)).all()
        items = [json.loads(row.doc) for row in rows]
    return {"items": items, "total": len(items)}
