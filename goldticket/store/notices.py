"""What a ledger transaction tells whom: the members' notifications the follower writes as it
projects a block (the in-app inbox, #20).

Each transaction's ticket writes name the move (their ``last_action``); offers and financing
applications name the counterparties. A notice goes to the member the move concerns and never
to the member that made it:

- issue: the payee (``ticket_issued``); accept or reject: the issuer (``ticket_accepted``,
  ``ticket_rejected``); cancel: the payee (``ticket_cancelled``)
- a transfer offer: its payee (``offer_received``); accepted or rejected: its sender
  (``offer_accepted``, ``offer_rejected``); withdrawn (by its sender or by settlement): its
  payee (``offer_withdrawn``)
- a financing application: its bank (``financing_requested``); approved or declined (by the
  bank or by settlement): the holder (``financing_approved``, ``financing_rejected``)
- settlement: each paid piece's holder (``ticket_settled``); freeze and unfreeze: the holder
  (``ticket_frozen``, ``ticket_unfrozen``)
- a change of a member's settlement account confirmed by the operator (#21): each member that
  shares a ticket tree with it (the read model's participants: issued, held, been offered or
  asked to finance a piece) (``account_changed``, no ticket, the member as the counterparty)

A notice is keyed by (member, transaction, kind, ticket): projecting a block again (a rebuild
of the read model, a second follower) finds it written and leaves it, read or not.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import outbox
from .models import MemberRow, Notification, ParticipantRow

KINDS = (
    "ticket_issued",
    "ticket_accepted",
    "ticket_rejected",
    "ticket_cancelled",
    "ticket_settled",
    "ticket_frozen",
    "ticket_unfrozen",
    "offer_received",
    "offer_accepted",
    "offer_rejected",
    "offer_withdrawn",
    "assignment_notified",
    "financing_requested",
    "financing_approved",
    "financing_rejected",
    "account_changed",
)

# ticket move -> (kind, whom: "holder" or "issuer", the counterparty)
_TICKET_MOVES = {
    "issue": ("ticket_issued", "holder_org_id", "issuer_org_id"),
    "accept": ("ticket_accepted", "issuer_org_id", "holder_org_id"),
    "reject": ("ticket_rejected", "issuer_org_id", "holder_org_id"),
    "cancel": ("ticket_cancelled", "holder_org_id", "issuer_org_id"),
    "settle": ("ticket_settled", "holder_org_id", "issuer_org_id"),
    "freeze": ("ticket_frozen", "holder_org_id", ""),
    "unfreeze": ("ticket_unfrozen", "holder_org_id", ""),
}
# offer status, with the move that gave it -> (kind, whom, the counterparty)
_OFFER_MOVES = {
    ("OPEN", "offer_transfer"): ("offer_received", "to_org_id", "from_org_id"),
    ("ACCEPTED", "accept_transfer"): ("offer_accepted", "from_org_id", "to_org_id"),
    ("REJECTED", "rejected_transfer"): ("offer_rejected", "from_org_id", "to_org_id"),
    ("CANCELLED", "cancelled_transfer"): ("offer_withdrawn", "to_org_id", "from_org_id"),
    ("CANCELLED", "settle"): ("offer_withdrawn", "to_org_id", "from_org_id"),
}
_APPLICATION_MOVES = {
    ("OPEN", "apply_financing"): ("financing_requested", "bank_org_id", "holder_org_id"),
    ("APPROVED", "approve_financing"): ("financing_approved", "holder_org_id", "bank_org_id"),
    ("REJECTED", "reject_financing"): ("financing_rejected", "holder_org_id", "bank_org_id"),
    ("REJECTED", "settle"): ("financing_rejected", "holder_org_id", "bank_org_id"),
}


@dataclasses.dataclass(frozen=True)
class Notice:
    member_id: str
    kind: str
    ticket_id: str
    subject_id: str
    other_org_id: str
    amount_fen: int


def notice_id(member_id: str, tx_id: str, kind: str, ticket_id: str) -> str:
    """The notification's id: a digest of its key, so that the same event has the same id."""
    digest = hashlib.sha256("\x00".join((member_id, tx_id, kind, ticket_id)).encode()).hexdigest()
    return "NT" + digest[:20]


def _rule(
    table: dict[tuple[str, str], tuple[str, str, str]], doc: dict[str, Any], moves: set[str]
) -> tuple[str, str, str] | None:
    """An offer's or an application's rule: its status and the move of the transaction."""
    status = str(doc.get("status", ""))
    return next((table[(status, move)] for move in sorted(moves) if (status, move) in table), None)


def notices(writes: list[tuple[str, dict[str, Any]]]) -> list[Notice]:
    """The notices of one transaction's writes, ``(kind, document)`` in the order applied."""
    tickets = [doc for kind, doc in writes if kind == "ticket"]
    moves = {str((doc.get("last_action") or {}).get("action", "")) for doc in tickets}
    movers = {str((doc.get("last_action") or {}).get("by_org_id", "")) for doc in tickets}
    found: list[Notice] = []
    for kind, doc in writes:
        if kind == "ticket":
            move = str((doc.get("last_action") or {}).get("action", ""))
            rule = _TICKET_MOVES.get(move)
            subject = ""
        elif kind == "offer":
            rule = _rule(_OFFER_MOVES, doc, moves)
            subject = str(doc["id"])
        elif kind == "application":
            rule = _rule(_APPLICATION_MOVES, doc, moves)
            subject = str(doc["id"])
        else:
            continue
        if rule is None:
            continue
        notice_kind, whom, other = rule
        member = str(doc.get(whom) or "")
        if not member or member in movers:
            continue
        ticket_id = str(doc["id"] if kind == "ticket" else doc["ticket_id"])
        found.append(
            Notice(member, notice_kind, ticket_id, subject, str(doc.get(other) or ""), int(doc["amount_fen"]))
        )
        if notice_kind == "offer_accepted" and doc.get("notice_delivered_on"):
            # #21: the transfer's signed notice (债权转让通知) is delivered to the debtor, the issuer
            debtor = next((str(t.get("issuer_org_id") or "") for t in tickets), "")
            if debtor and debtor not in movers:
                found.append(
                    Notice(debtor, "assignment_notified", ticket_id, subject, str(doc.get("from_org_id") or ""),
                           int(doc["amount_fen"]))
                )  # fmt: skip
    return found


def accounts_changed(session: Session, members: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Of one transaction's member writes, read before they are projected: those that confirm a
    change of settlement account (an ``account_change_id`` the projected record lacks)."""
    changed = []
    for doc in members:
        change_id = doc.get("account_change_id")
        if not change_id:
            continue
        row = session.get(MemberRow, doc["id"])
        before = json.loads(row.doc).get("account_change_id") if row is not None else None
        if before != change_id:
            changed.append(doc)
    return changed


def account_notices(session: Session, changed: list[dict[str, Any]]) -> list[Notice]:
    """``account_changed`` for each counterparty of each member in ``changed``: the members that
    share a ticket tree with it, as projected so far."""
    found: list[Notice] = []
    for doc in changed:
        roots = select(ParticipantRow.root_id).where(ParticipantRow.org_id == doc["id"])
        others = session.scalars(
            select(ParticipantRow.org_id)
            .where(ParticipantRow.root_id.in_(roots), ParticipantRow.org_id != doc["id"])
            .distinct()
        ).all()
        for member_id in sorted(set(others)):
            found.append(
                Notice(member_id, "account_changed", "", str(doc["account_change_id"]), doc["id"], 0)
            )
    return found


def record(session: Session, found: list[Notice], tx_id: str, block: int, txnum: int, timestamp: str) -> None:
    """Write each notice not written yet (see the module's docstring: idempotent), and queue
    it for the e-mail and webhook its member chose (:mod:`.outbox`)."""
    now = dt.datetime.now(dt.UTC)
    for notice in found:
        key = notice_id(notice.member_id, tx_id, notice.kind, notice.ticket_id)
        if session.get(Notification, key) is not None:
            continue
        session.add(
            Notification(
                id=key,
                member_id=notice.member_id,
                tx_id=tx_id,
                kind=notice.kind,
                ticket_id=notice.ticket_id,
                subject_id=notice.subject_id,
                other_org_id=notice.other_org_id,
                amount_fen=notice.amount_fen,
                block=block,
                txnum=txnum,
                timestamp=timestamp,
                read_at=None,
            )
        )
        outbox.enqueue(session, key, notice.member_id, notice.kind, now)
        session.flush()
