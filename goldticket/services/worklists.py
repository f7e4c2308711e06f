"""What each role's portal pages list: a user's work waiting, holdings, portfolio, the
outstanding amounts by maturity, the roots due for settlement. Read from the read model with
the same visibility as :mod:`reads` (a member sees the trees it takes part in); each list is
capped (``limit``) and comes with its full count.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import Select, func, select

from goldticket import domain as d
from goldticket.domain import dual_control as dc
from goldticket.store.models import (
    Account,
    ApplicationRow,
    HistoryRow,
    MemberRow,
    OfferRow,
    OperationRow,
    TicketRow,
)

from . import access, accounts, cards, logins
from . import signed_documents as sd
from .context import OPERATOR, Actor
from .portal import Portal
from .reads import _visible, present_ticket, settled_roots, ticket_lineage

LIVE = sorted(status.value for status in d.status.LIVE)
LIMIT = 50


def _tickets(portal: Portal, query: Select[Any], limit: int) -> dict[str, Any]:
    today = portal.platform.today()
    with portal.database.session() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = session.scalars(query.limit(limit)).all()
        items = settled_roots(session, [present_ticket(json.loads(row.doc), today) for row in rows])
    return {"items": items, "total": total}


def held(portal: Portal, actor: Actor, statuses: list[str], limit: int = LIMIT) -> dict[str, Any]:
    """Pieces the actor's member holds in ``statuses``, soonest maturity first."""
    query = (
        select(TicketRow)
        .where(TicketRow.holder_org_id == actor.member_id, TicketRow.status.in_(statuses))
        .order_by(TicketRow.maturity_date, TicketRow.id)
    )
    return _tickets(portal, query, limit)


def issued(portal: Portal, actor: Actor, statuses: list[str], limit: int = LIMIT) -> dict[str, Any]:
    """Root tickets the actor's member issued in ``statuses``, soonest maturity first."""
    query = (
        select(TicketRow)
        .where(
            TicketRow.issuer_org_id == actor.member_id,
            TicketRow.parent_id.is_(None),
            TicketRow.status.in_(statuses),
        )
        .order_by(TicketRow.maturity_date, TicketRow.id)
    )
    return _tickets(portal, query, limit)


def due_for_settlement(portal: Portal, actor: Actor, limit: int = LIMIT) -> dict[str, Any]:
    """Roots the actor's member issued whose maturity has come and that are not settled: the
    root itself is live, or split into pieces of which some are live."""
    today = portal.platform.today().isoformat()
    live_roots = select(TicketRow.root_id).where(
        TicketRow.issuer_org_id == actor.member_id,
        TicketRow.status.in_(LIVE),
        TicketRow.maturity_date <= today,
    )
    query = (
        select(TicketRow)
        .where(TicketRow.parent_id.is_(None), TicketRow.id.in_(live_roots))
        .order_by(TicketRow.maturity_date, TicketRow.id)
    )
    return _tickets(portal, query, limit)


def outstanding_by_maturity(portal: Portal, actor: Actor) -> list[dict[str, Any]]:
    """Live pieces of the actor's member's issued tickets, summed by month of maturity."""
    month = func.substr(TicketRow.maturity_date, 1, 7)
    query = (
        select(month, func.sum(TicketRow.amount_fen), func.count())
        .where(TicketRow.issuer_org_id == actor.member_id, TicketRow.status.in_(LIVE))
        .group_by(month)
        .order_by(month)
    )
    with portal.database.session() as session:
        rows = session.execute(query).all()
    return [{"month": row[0], "amount_fen": int(row[1] or 0), "count": int(row[2])} for row in rows]


def _open_docs(portal: Portal, actor: Actor, status: str, model: Any, field: str) -> list[dict[str, Any]]:
    """Open offers or applications on visible pieces locked for them, addressed to the actor's
    member in ``field``."""
    locked = _visible(select(TicketRow.id).where(TicketRow.status == status), actor)
    with portal.database.session() as session:
        rows = session.scalars(select(model).where(model.ticket_id.in_(locked)).order_by(model.id)).all()
        docs = [json.loads(row.doc) for row in rows]
    return [doc for doc in docs if doc.get("status") == "OPEN" and doc.get(field) == actor.member_id]


def offers_to(portal: Portal, actor: Actor) -> list[dict[str, Any]]:
    """Open transfer offers to the actor's member."""
    return _open_docs(portal, actor, d.TicketStatus.LOCKED_TRANSFER.value, OfferRow, "to_org_id")


def offers_from(portal: Portal, actor: Actor) -> list[dict[str, Any]]:
    """Open transfer offers the actor's member made (it may withdraw them)."""
    return _open_docs(portal, actor, d.TicketStatus.LOCKED_TRANSFER.value, OfferRow, "from_org_id")


def applications_to(portal: Portal, actor: Actor) -> list[dict[str, Any]]:
    """Open financing applications to the actor's member (a bank)."""
    return _open_docs(portal, actor, d.TicketStatus.LOCKED_FINANCING.value, ApplicationRow, "bank_org_id")


DUE_DAYS = 7
TODO_KINDS = (
    "tickets_to_accept",
    "offers_to_accept",
    "applications_to_review",
    "operations_to_review",
    "pieces_due_soon",
)


def _count(session: Any, query: Select[Any]) -> int:
    return int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)


def todo_counts(portal: Portal, actor: Actor) -> dict[str, Any]:
    """What waits for the actor's member, counted (the navigation's badges, GET /todo):
    tickets issued to it to accept, open transfer offers to it, open financing applications to
    it (a bank), and live pieces it holds or issued that mature within ``DUE_DAYS`` days or
    have matured unpaid (``due_by`` is the last day counted). Counts in the database where the
    columns allow; offers and applications keep their payee in their document, so those are
    the few open ones on the locked pieces it may see, as :func:`offers_to` lists them. And
    the maker-checker operations waiting for this user's review (:func:`operations_to_review`)."""
    today = portal.platform.today()
    due_by = (today + dt.timedelta(days=DUE_DAYS)).isoformat()
    me = actor.member_id
    to_accept = select(TicketRow.id).where(
        TicketRow.holder_org_id == me, TicketRow.status == d.TicketStatus.PENDING_ACCEPTANCE.value
    )
    due = select(TicketRow.id).where(
        (TicketRow.holder_org_id == me) | (TicketRow.issuer_org_id == me),
        TicketRow.status.in_(LIVE),
        TicketRow.maturity_date <= due_by,
    )
    with portal.database.session() as session:
        counts = {"tickets_to_accept": _count(session, to_accept), "pieces_due_soon": _count(session, due)}
    payee = me != OPERATOR  # the operator is never offered a piece nor asked to finance one
    counts["offers_to_accept"] = len(offers_to(portal, actor)) if payee else 0
    counts["applications_to_review"] = len(applications_to(portal, actor)) if payee else 0
    counts["operations_to_review"] = operations_to_review(portal, actor)
    return {**{kind: counts[kind] for kind in TODO_KINDS}, "due_by": due_by}


def operations_to_review(portal: Portal, actor: Actor) -> int:
    """Pending operations of the actor's member this user may approve, counted in the read
    model: prepared by another user, not expired, and only for an admin of the member or a
    reviewer its setting names (as the ledger's ApproveOperation decides; 0 for anyone else)."""
    today = portal.platform.today().isoformat()
    with portal.database.session() as session:
        member = session.get(MemberRow, actor.member_id)
        setting = dc.DualControl.from_dict(
            json.loads(member.doc).get("dual_control") if member else None, actor.member_id
        )
        if not setting.may_review(actor.username, actor.role):
            return 0
        waiting = select(OperationRow.id).where(
            OperationRow.member_id == actor.member_id,
            OperationRow.status == "PENDING",
            OperationRow.expires_on >= today,
            OperationRow.maker_user != actor.username,
        )
        return _count(session, waiting)


PENDING_ACTIONS = ("issue", "offer_transfer", "apply_financing")


def pending_since(portal: Portal, ticket_ids: list[str]) -> dict[str, str]:
    """When each ticket's pending item was opened (its latest issue, transfer offer or financing
    application on the ledger): offers, applications and unaccepted tickets have no expiry in
    the domain, so the pages say since when they wait."""
    if not ticket_ids:
        return {}
    with portal.database.session() as session:
        rows = session.execute(
            select(HistoryRow.ticket_id, HistoryRow.timestamp)
            .where(HistoryRow.ticket_id.in_(ticket_ids), HistoryRow.action.in_(PENDING_ACTIONS))
            .order_by(HistoryRow.block, HistoryRow.txnum)
        ).all()
    return {str(row[0]): str(row[1]) for row in rows}  # ordered by block: the latest wins


def offer(portal: Portal, actor: Actor, offer_id: str) -> dict[str, Any]:
    """One offer the actor's member is a party to. Raises NotFoundError."""
    return _one(portal, OfferRow, offer_id, actor, ("from_org_id", "to_org_id"), "offer")


def application(portal: Portal, actor: Actor, application_id: str) -> dict[str, Any]:
    """One financing application the actor's member is a party to. Raises NotFoundError."""
    return _one(
        portal, ApplicationRow, application_id, actor, ("holder_org_id", "bank_org_id"), "application"
    )


def _one(
    portal: Portal, model: Any, key: str, actor: Actor, parties: tuple[str, ...], what: str
) -> dict[str, Any]:
    with portal.database.session() as session:
        row = session.get(model, d.require_text(key, f"{what}_id", 64))
        doc = json.loads(row.doc) if row is not None else None
    if doc is None or (actor.member_id != "operator" and actor.member_id not in {doc[p] for p in parties}):
        raise d.NotFoundError(f"no {what} {key}")
    return doc  # type: ignore[no-any-return]


def directory(portal: Portal, actor: Actor) -> list[dict[str, Any]]:
    """The operator desk's users: each login with its member, role and cards."""
    access.require_operator_admin(actor)
    with portal.database.session() as session:
        rows = session.scalars(select(Account).order_by(Account.org_id, Account.username)).all()
        users: list[dict[str, Any]] = [
            {"username": r.username, "org_id": r.org_id, "role": r.role, "login": accounts.login_state(r)}
            for r in rows
        ]
    for user in users:
        user["cards"] = (
            cards.cards_of(portal.platform, user["username"])
            if portal.platform.users.has_user(user["username"])
            else []
        )
        # what the desk may do: no action on its own card, one live card per user (replace
        # instead), and whether the login went with the last card
        user["is_desk"] = user["username"] == actor.username
        user["has_live_card"] = any(card["status"] in logins.LIVE for card in user["cards"])
        user["login_disabled"] = not logins.usable(portal.platform, user["username"])
    return users


def ticket_documents(portal: Portal, actor: Actor, ticket_id: str) -> list[dict[str, Any]]:
    """Every signed document of the pieces of ``ticket_id``'s tree that ``actor`` sees (the
    lineage of :func:`reads.ticket_lineage`): the root's payment commitment, each offer's
    assignment agreement and notice, each application's assignment to the bank; only those the
    downloads above hand to ``actor`` (the ticket's path, an offer's payee, an application's
    bank). Each: ``kind``, ``ticket_id``, ``offer_id`` or ``application_id``, ``sha256``, the
    signing ``signers`` and the offer's or application's ``status``. NotFoundError for a ticket
    the actor does not see."""
    lineage = ticket_lineage(portal, actor, ticket_id)
    ids: list[str] = []

    def walk(node: dict[str, Any]) -> None:
        ids.append(node["ticket"]["id"])
        for child in node["children"]:
            walk(child)

    walk(lineage)
    root = lineage["ticket"]
    found: list[dict[str, Any]] = []
    with portal.database.session() as session:
        offers = [
            json.loads(row.doc)
            for row in session.scalars(
                select(OfferRow).where(OfferRow.ticket_id.in_(ids)).order_by(OfferRow.id)
            )
        ]
        applications = [
            json.loads(row.doc)
            for row in session.scalars(
                select(ApplicationRow).where(ApplicationRow.ticket_id.in_(ids)).order_by(ApplicationRow.id)
            )
        ]
    signed = (
        root.get("commitment_sha256")
        or any(offer.get("agreement_sha256") for offer in offers)
        or any(application.get("assignment_sha256") for application in applications)
    )
    # the downloads' own check (a query of the ledger's lineage), only when there is a document
    in_path = bool(signed) and sd.may_read_tree(portal.platform, actor, root["id"])
    if in_path and root.get("commitment_sha256"):
        found.append(
            {
                "kind": sd.PAYMENT_COMMITMENT,
                "ticket_id": root["id"],
                "sha256": root["commitment_sha256"],
                "signers": [root["issuer_org_id"]],
                "parties": {"payer": root["issuer_org_id"]},
                "amount_fen": root["amount_fen"],
                "status": "",
            }
        )
    for offer in offers:
        if not offer.get("agreement_sha256") or not (in_path or actor.member_id == offer["to_org_id"]):
            continue
        countersigned = offer.get("countersigned_sha256")
        common = {
            "ticket_id": offer["ticket_id"],
            "offer_id": offer["id"],
            "parties": {"assignor": offer["from_org_id"], "assignee": offer["to_org_id"]},
            "amount_fen": offer["amount_fen"],
            "status": offer.get("status", ""),
        }
        signers = [offer["from_org_id"], *([offer["to_org_id"]] if countersigned else [])]
        found.append(
            {
                **common,
                "kind": sd.ASSIGNMENT_AGREEMENT,
                "sha256": countersigned or offer["agreement_sha256"],
                "signers": signers,
            }
        )
        found.append(
            {
                **common,
                "kind": sd.ASSIGNMENT_NOTICE,
                "sha256": offer.get("notice_sha256") or "",
                "signers": [offer["from_org_id"]],
                "delivered_on": offer.get("notice_delivered_on") or "",
            }
        )
    for application in applications:
        if not application.get("assignment_sha256") or not (
            in_path or actor.member_id == application["bank_org_id"]
        ):
            continue
        found.append(
            {
                "kind": sd.FINANCING_ASSIGNMENT,
                "ticket_id": application["ticket_id"],
                "application_id": application["id"],
                "sha256": application.get("countersigned_assignment_sha256")
                or application["assignment_sha256"],
                "signers": [
                    application["holder_org_id"],
                    *(
                        [application["bank_org_id"]]
                        if application.get("countersigned_assignment_sha256")
                        else []
                    ),
                ],
                "parties": {"assignor": application["holder_org_id"], "assignee": application["bank_org_id"]},
                "amount_fen": application["amount_fen"],
                "recourse": application.get("recourse"),
                "status": application.get("status", ""),
            }
        )
    return found
