"""A dashboard per role (#20): the figures a finance clerk, a supplier or a credit officer looks
at first, from the read model, exact to the fen.

- Supplier (and any holder): what it holds (live pieces), what it may finance today (ACTIVE
  pieces not yet due), what falls due this week and this month, and what it has financed:
  the amounts, the proceeds received and their cost (interest and fees).
- Core enterprise: what it owes (live pieces of the tickets it issued), what falls due this
  week and this month, what waits for acceptance, and each credit line's limit and use.
- Bank: its portfolio (pieces it financed and holds), what falls due this week and this
  month, what it paid and earns, and its exposure per core enterprise against the lines it
  granted that core.
- Operator: the platform's live amount and the count and amount of pieces in each state.

"This week" runs from today to Sunday, "this month" from today to the month's last day; both
count live pieces whose maturity falls in the range (overdue pieces are counted apart).
Every figure is computed by SQL over the member's own rows (holder or issuer columns are
indexed); the financing figures read the approved applications on the member's visible trees.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
from collections import defaultdict
from typing import Any

from sqlalchemy import func, select

from goldticket import domain as d
from goldticket.store.models import ApplicationRow, CreditLineRow, MemberRow, TicketRow

from .context import OPERATOR, Actor
from .portal import Portal
from .reads import _visible

LIVE = sorted(status.value for status in d.status.LIVE)
ACTIVE = d.TicketStatus.ACTIVE.value
FINANCED = d.TicketStatus.FINANCED.value
PENDING = d.TicketStatus.PENDING_ACCEPTANCE.value


def _ranges(today: dt.date) -> dict[str, tuple[str, str]]:
    week_end = today + dt.timedelta(days=6 - today.weekday())
    month_end = today.replace(day=calendar.monthrange(today.year, today.month)[1])
    return {
        "week": (today.isoformat(), week_end.isoformat()),
        "month": (today.isoformat(), month_end.isoformat()),
    }


def _sum(session: Any, *where: Any) -> dict[str, int]:
    count, total = session.execute(
        select(func.count(), func.coalesce(func.sum(TicketRow.amount_fen), 0)).where(*where)
    ).one()
    return {"count": int(count), "amount_fen": int(total)}


def _due(session: Any, today: dt.date, *where: Any) -> dict[str, Any]:
    """Live pieces matching ``where`` falling due this week, this month, and already overdue."""
    live = TicketRow.status.in_(LIVE)
    due = {
        name: _sum(session, live, TicketRow.maturity_date >= start, TicketRow.maturity_date <= end, *where)
        for name, (start, end) in _ranges(today).items()
    }
    due["overdue"] = _sum(session, live, TicketRow.maturity_date < today.isoformat(), *where)
    return due


def _approved(portal: Portal, actor: Actor, field: str) -> dict[str, int]:
    """Approved financings where ``field`` (holder_org_id or bank_org_id) is the actor's member:
    count, amounts, proceeds and cost (discount interest + fees)."""
    visible = _visible(select(TicketRow.id), actor)
    with portal.database.session() as session:
        docs = [
            json.loads(doc)
            for doc in session.scalars(
                select(ApplicationRow.doc).where(ApplicationRow.ticket_id.in_(visible))
            )
        ]
    figures = {"count": 0, "amount_fen": 0, "proceeds_fen": 0, "interest_fen": 0, "fee_fen": 0}
    for doc in docs:
        if doc.get("status") != "APPROVED" or doc.get(field) != actor.member_id:
            continue
        quote = doc.get("quote") or (_private_terms(portal, doc) if doc.get("terms") else {})
        figures["count"] += 1
        figures["amount_fen"] += int(doc["amount_fen"])
        figures["proceeds_fen"] += int(quote.get("proceeds_fen", 0))
        figures["interest_fen"] += int(quote.get("discount_interest_fen", 0))
        figures["fee_fen"] += int(quote.get("fee_fen", 0))
    figures["cost_fen"] = figures["interest_fen"] + figures["fee_fen"]
    return figures


def _private_terms(portal: Portal, doc: dict[str, Any]) -> dict[str, Any]:
    """The figures of terms kept private between the holder and the bank (#19): the read model
    has only that they exist; the ledger's collection (the operator's organisation is a member)
    answers them, shown here only to the party whose dashboard it is (the caller's check)."""
    found = portal.platform.ledger.record("terms", doc["id"])
    return dict((found or {}).get("terms") or {})


def _lines(session: Any, column: Any, member_id: str) -> list[dict[str, Any]]:
    rows = session.scalars(select(CreditLineRow.doc).where(column == member_id).order_by(CreditLineRow.id))
    return [json.loads(doc) for doc in rows]


def _holder(portal: Portal, actor: Actor, today: dt.date) -> dict[str, Any]:
    mine = TicketRow.holder_org_id == actor.member_id
    with portal.database.session() as session:
        figures = {
            "held": _sum(session, mine, TicketRow.status.in_(LIVE)),
            "available_to_finance": _sum(
                session, mine, TicketRow.status == ACTIVE, TicketRow.maturity_date > today.isoformat()
            ),
            "to_accept": _sum(session, mine, TicketRow.status == PENDING),
            "due": _due(session, today, mine),
        }
    figures["financed"] = _approved(portal, actor, "holder_org_id")
    return figures


def _core(portal: Portal, actor: Actor, today: dt.date) -> dict[str, Any]:
    issued = TicketRow.issuer_org_id == actor.member_id
    with portal.database.session() as session:
        lines = _lines(session, CreditLineRow.core_org_id, actor.member_id)
        return {
            "owed": _sum(session, issued, TicketRow.status.in_(LIVE)),
            "waiting_acceptance": _sum(session, issued, TicketRow.status == PENDING),
            "due": _due(session, today, issued),
            "credit_lines": [
                {key: line[key] for key in ("id", "bank_org_id", "limit_fen", "used_fen", "status")}
                for line in lines
            ],
        }


def _bank(portal: Portal, actor: Actor, today: dt.date) -> dict[str, Any]:
    held = TicketRow.holder_org_id == actor.member_id
    with portal.database.session() as session:
        portfolio = _sum(session, held, TicketRow.status == FINANCED)
        due = _due(session, today, held)
        by_core = dict(
            session.execute(
                select(TicketRow.issuer_org_id, func.sum(TicketRow.amount_fen))
                .where(held, TicketRow.status.in_(LIVE))
                .group_by(TicketRow.issuer_org_id)
            ).all()
        )
        lines = _lines(session, CreditLineRow.bank_org_id, actor.member_id)
    limits: dict[str, dict[str, int]] = defaultdict(lambda: {"limit_fen": 0, "used_fen": 0})
    for line in lines:
        if line.get("status") == "active":
            limits[line["core_org_id"]]["limit_fen"] += int(line["limit_fen"])
            limits[line["core_org_id"]]["used_fen"] += int(line["used_fen"])
    exposure = [
        {
            "core_org_id": core,
            "held_fen": int(by_core.get(core, 0) or 0),
            "limit_fen": limits[core]["limit_fen"] if core in limits else 0,
            "used_fen": limits[core]["used_fen"] if core in limits else 0,
        }
        for core in sorted(set(by_core) | set(limits))
    ]
    return {
        "portfolio": portfolio,
        "due": due,
        "financed": _approved(portal, actor, "bank_org_id"),
        "exposure": exposure,
    }


def _operator(portal: Portal) -> dict[str, Any]:
    with portal.database.session() as session:
        rows = session.execute(
            select(TicketRow.status, func.count(), func.coalesce(func.sum(TicketRow.amount_fen), 0)).group_by(
                TicketRow.status
            )
        ).all()
        members = int(session.scalar(select(func.count()).select_from(MemberRow)) or 0)
    states = {str(status): {"count": int(count), "amount_fen": int(total)} for status, count, total in rows}
    live = {"count": 0, "amount_fen": 0}
    for status in LIVE:
        for key in live:
            live[key] += states.get(status, {}).get(key, 0)
    return {"live": live, "states": states, "members": members}


def dashboard(portal: Portal, actor: Actor) -> dict[str, Any]:
    """The actor's member's dashboard (see the module's docstring); ``role`` says which."""
    today = portal.platform.today()
    if actor.member_id == OPERATOR:
        role = "operator"
    else:
        with portal.database.session() as session:
            row = session.get(MemberRow, actor.member_id)
        if row is None:
            raise d.NotFoundError(f"member {actor.member_id} is not in the read model yet")
        role = row.role
    answer: dict[str, Any] = {"role": role, "today": today.isoformat()}
    if role == "operator":
        answer.update(_operator(portal))
    elif role == "core":
        answer.update(_core(portal, actor, today))
        answer["holder"] = _holder(portal, actor, today)
    elif role == "bank":
        answer.update(_bank(portal, actor, today))
    else:
        answer.update(_holder(portal, actor, today))
    return answer
