"""What a signed-in user may read, from the read model (the projection of ledger blocks).

A member reads, of the ticket trees it takes part in, the pieces goldticket.domain.visibility
lets it see: its own pieces and the path from the root to them (the issuer: every piece), not
its siblings' holders or their financing; the chaincode's queries decide with the same rule.
Another member's ticket reads as absent. The operator reads everything. Lists page with ``page``/``per_page`` and return ``{"items", "total"}``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

from sqlalchemy import Select, func, or_, select

from goldticket import domain as d
from goldticket.domain.money import MAX_FEN
from goldticket.domain.visibility import visible_pieces
from goldticket.store.models import (
    ApplicationRow,
    CreditLineRow,
    HistoryRow,
    MemberRow,
    OfferRow,
    ParticipantRow,
    TicketRow,
)

from . import tickets
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


def settled_roots(session: Any, tickets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``tickets`` with each fully settled root shown SETTLED (its pieces were paid at
    maturity, none live or withheld), not SPLIT: the root was what the issuer paid."""
    roots = {
        t["id"] for t in tickets if t["id"] == t["root_id"] and t["status"] == d.TicketStatus.SPLIT.value
    }
    if not roots:
        return tickets
    pieces: dict[str, set[str]] = {}
    rows = session.execute(
        select(TicketRow.root_id, TicketRow.status).where(
            TicketRow.root_id.in_(roots), TicketRow.id != TicketRow.root_id
        )
    ).all()
    for root_id, status in rows:
        pieces.setdefault(root_id, set()).add(status)
    done = {d.TicketStatus.SETTLED.value, d.TicketStatus.SPLIT.value}
    for ticket in tickets:
        statuses = pieces.get(ticket["id"])
        if (
            ticket["id"] in roots
            and statuses
            and statuses <= done
            and d.TicketStatus.SETTLED.value in statuses
        ):
            ticket["display_status"] = d.TicketStatus.SETTLED.value
    return tickets


def _sees_everything(actor: Actor) -> bool:
    return actor.member_id == OPERATOR


def _visible(query: Select[Any], actor: Actor) -> Select[Any]:
    if _sees_everything(actor):
        return query
    roots = select(ParticipantRow.root_id).where(ParticipantRow.org_id == actor.member_id)
    return query.where(TicketRow.root_id.in_(roots))


def _visible_ids(session: Any, actor: Actor, rows: list[TicketRow]) -> set[str]:
    """Of the pieces of one tree (``rows``), those ``actor``'s member may see."""
    if _sees_everything(actor):
        return {row.id for row in rows}
    docs = {row.id: json.loads(row.doc) for row in rows}
    asked = []
    for ticket_id, doc in docs.items():
        offer = session.get(OfferRow, doc["offer_id"]) if doc.get("offer_id") else None
        if offer is not None and json.loads(offer.doc).get("to_org_id") == actor.member_id:
            asked.append(ticket_id)
        application = (
            session.get(ApplicationRow, doc["application_id"]) if doc.get("application_id") else None
        )
        if application is not None and json.loads(application.doc).get("bank_org_id") == actor.member_id:
            asked.append(ticket_id)
    return visible_pieces(actor.member_id, docs, asked)


def _tree_rows(session: Any, root_id: str) -> list[TicketRow]:
    return list(session.scalars(select(TicketRow).where(TicketRow.root_id == root_id)).all())


def _ticket_row(portal: Portal, actor: Actor, ticket_id: str) -> TicketRow:
    with portal.database.session() as session:
        row = session.get(TicketRow, d.require_text(ticket_id, "ticket_id", 64))
        if row is not None and not _sees_everything(actor):
            allowed = session.get(ParticipantRow, (actor.member_id, row.root_id))
            if allowed is None or row.id not in _visible_ids(
                session, actor, _tree_rows(session, row.root_id)
            ):
                row = None
    if row is None:  # another member's ticket reads as absent: its existence is not disclosed
        raise d.NotFoundError(f"no ticket {ticket_id}")
    return row


def get_ticket(portal: Portal, actor: Actor, ticket_id: str) -> dict[str, Any]:
    shown = present_ticket(json.loads(_ticket_row(portal, actor, ticket_id).doc), portal.platform.today())
    with portal.database.session() as session:
        return settled_roots(session, [shown])[0]


SORTS = {
    "id": TicketRow.id,
    "maturity_date": TicketRow.maturity_date,
    "amount_fen": TicketRow.amount_fen,
    "status": TicketRow.status,
}
"""What a ticket list sorts on (then by ticket id, so that pages never overlap)."""

MAX_EXPORT = 10_000
"""The most rows one export writes: a larger list asks for narrower filters."""


@dataclasses.dataclass(frozen=True)
class TicketFilter:
    """Find in a ticket list: ``q`` (ticket id, invoice number or counterparty name, any part,
    case-insensitive), status, maturity from/to (inclusive), amount from/to in fen (inclusive),
    sort and order. A range whose start is after its end is a RuleViolationError (422)."""

    q: str | None = None
    status: str | None = None
    maturity_from: dt.date | None = None
    maturity_to: dt.date | None = None
    amount_min_fen: int | None = None
    amount_max_fen: int | None = None
    sort: str = "id"
    order: str = "asc"

    def __post_init__(self) -> None:
        if self.status and self.status not in {s.value for s in d.TicketStatus}:
            raise d.InvalidInputError(f"unknown status {self.status}")
        if self.q is not None and len(self.q) > 100:
            raise d.InvalidInputError("q must be at most 100 characters")
        if self.q is not None and any(ord(char) < 32 for char in self.q):
            raise d.InvalidInputError("q must not contain control characters")
        if self.sort not in SORTS:
            raise d.InvalidInputError(f"sort must be one of {', '.join(SORTS)}")
        if self.order not in ("asc", "desc"):
            raise d.InvalidInputError("order must be asc or desc")
        for low, high, name in (
            (self.maturity_from, self.maturity_to, "maturity"),
            (self.amount_min_fen, self.amount_max_fen, "amount"),
        ):
            if low is not None and high is not None and low > high:  # type: ignore[operator]
                raise d.RuleViolationError(f"the {name} range is empty: its start is after its end")
        for amount in (self.amount_min_fen, self.amount_max_fen):
            if amount is not None and not 0 <= amount <= MAX_FEN:
                raise d.InvalidInputError("amounts must be from 0 to the largest ticket amount")


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _filtered(session: Any, query: Select[Any], found: TicketFilter) -> Select[Any]:
    if found.status:
        query = query.where(TicketRow.status == found.status)
    if found.maturity_from is not None:
        query = query.where(TicketRow.maturity_date >= found.maturity_from.isoformat())
    if found.maturity_to is not None:
        query = query.where(TicketRow.maturity_date <= found.maturity_to.isoformat())
    if found.amount_min_fen is not None:
        query = query.where(TicketRow.amount_fen >= found.amount_min_fen)
    if found.amount_max_fen is not None:
        query = query.where(TicketRow.amount_fen <= found.amount_max_fen)
    text = (found.q or "").strip()
    if text:
        pattern = _like(text)
        needle = text.casefold()
        members = [
            row.id
            for row in session.scalars(select(MemberRow)).all()
            if needle in str(json.loads(row.doc).get("name", "")).casefold() or needle in row.id.casefold()
        ]
        matches = [
            func.upper(TicketRow.id).like(pattern.upper(), escape="\\"),
            func.upper(TicketRow.invoice_numbers).like(pattern.upper(), escape="\\"),
        ]
        if members:
            matches += [TicketRow.issuer_org_id.in_(members), TicketRow.holder_org_id.in_(members)]
        query = query.where(or_(*matches))
    column = SORTS[found.sort]
    if found.order == "desc":
        return query.order_by(column.desc(), TicketRow.id.desc())
    return query.order_by(column, TicketRow.id)


def list_tickets(
    portal: Portal,
    actor: Actor,
    *,
    holder_org_id: str | None = None,
    status: str | None = None,
    root_id: str | None = None,
    page: Any = None,
    per_page: Any = None,
    find: TicketFilter | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    """One page of the tickets ``actor`` may see; ``limit`` (an export) takes the first
    ``limit`` rows in one page instead of ``page``/``per_page``."""
    if limit is None:
        number, size = page_args(page, per_page)
    else:
        number, size = 1, limit
    find = find or TicketFilter()
    if status:
        find = dataclasses.replace(find, status=status)
    # a holder always takes part in its ticket's tree: its own holdings need no visibility join
    own = holder_org_id is not None and holder_org_id == actor.member_id
    query = select(TicketRow) if own else _visible(select(TicketRow), actor)
    if holder_org_id:
        query = query.where(TicketRow.holder_org_id == holder_org_id)
    if root_id:
        query = query.where(TicketRow.root_id == root_id)
    today = portal.platform.today()
    with portal.database.session() as session:
        query = _filtered(session, query, find)
        if own or _sees_everything(actor):
            total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
            rows = session.scalars(query.offset((number - 1) * size).limit(size)).all()
        else:  # of each tree, only the pieces the member may see
            found = session.scalars(query).all()
            seen: dict[str, set[str]] = {}
            for row in found:
                if row.root_id not in seen:
                    seen[row.root_id] = _visible_ids(session, actor, _tree_rows(session, row.root_id))
            shown = [row for row in found if row.id in seen[row.root_id]]
            total, rows = len(shown), shown[(number - 1) * size : number * size]
        items = settled_roots(session, [present_ticket(json.loads(row.doc), today) for row in rows])
    return {"items": items, "total": total}


def ticket_history(portal: Portal, actor: Actor, ticket_id: str) -> list[dict[str, Any]]:
    """The ticket's transactions from the read model; ``card`` is the serial of the card the
    desk knows the signer's certificate by (BS...; None for a certificate of no card here)."""
    row = _ticket_row(portal, actor, ticket_id)
    cards = tickets.cards_by_certificate(portal.platform)
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
                "maker_user": entry.maker_user,
                "card_serial": entry.card_serial,
                "card": cards.get(str(entry.card_serial)),
                "timestamp": entry.timestamp,
                "block": entry.block,
            }
            for entry in entries
        ]


def ticket_lineage(portal: Portal, actor: Actor, ticket_id: str) -> dict[str, Any]:
    row = _ticket_row(portal, actor, ticket_id)
    today = portal.platform.today()
    with portal.database.session() as session:
        pieces = _tree_rows(session, row.root_id)
        seen = _visible_ids(session, actor, pieces)
    docs = {piece.id: json.loads(piece.doc) for piece in pieces if piece.id in seen}
    children: dict[str | None, list[str]] = {}
    for doc in docs.values():
        children.setdefault(doc.get("parent_id"), []).append(doc["id"])

    def tree(node_id: str) -> dict[str, Any]:
        kids = sorted(children.get(node_id, []))
        return {"ticket": present_ticket(docs[node_id], today), "children": [tree(kid) for kid in kids]}

    lineage = tree(row.root_id)
    with portal.database.session() as session:
        settled_roots(session, [lineage["ticket"]])
    return lineage


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
