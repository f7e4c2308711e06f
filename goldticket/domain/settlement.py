"""Settlement at maturity (到期兑付/清分): pay every live piece of a root ticket to its holder."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from .errors import RuleViolationError, StateConflictError
from .lifecycle import require_issuer
from .status import LIVE, TicketStatus, check_transition
from .ticket import Ticket

S = TicketStatus
_LOCKED = (S.LOCKED_TRANSFER, S.LOCKED_FINANCING)


@dataclasses.dataclass(frozen=True)
class Payment:
    ticket_id: str
    holder_org_id: str
    amount_fen: int

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class SettlementPlan:
    root_id: str
    paid: tuple[Payment, ...]
    withheld: tuple[Payment, ...]
    previously_settled_fen: int
    cancelled_offer_ids: tuple[str, ...]
    cancelled_application_ids: tuple[str, ...]

    @property
    def total_paid_fen(self) -> int:
        return sum(payment.amount_fen for payment in self.paid)

    @property
    def total_withheld_fen(self) -> int:
        return sum(payment.amount_fen for payment in self.withheld)

    def to_dict(self) -> dict[str, Any]:
        return {
            "root_id": self.root_id,
            "paid": [payment.to_dict() for payment in self.paid],
            "withheld": [payment.to_dict() for payment in self.withheld],
            "total_paid_fen": self.total_paid_fen,
            "total_withheld_fen": self.total_withheld_fen,
            "previously_settled_fen": self.previously_settled_fen,
            "cancelled_offer_ids": list(self.cancelled_offer_ids),
            "cancelled_application_ids": list(self.cancelled_application_ids),
        }


def plan_settlement(root: Ticket, pieces: list[Ticket], *, by_org_id: str, today: dt.date) -> SettlementPlan:
    """Who is paid what for ``root``, given every ticket that descends from it.

    Open offers and applications are cancelled, frozen pieces withheld. Paid plus withheld
    plus what earlier settlements paid equals the root amount, always.
    Raises ForbiddenError (not the issuer), RuleViolationError (not yet mature),
    StateConflictError (never accepted, or nothing left to pay).
    """
    if root.parent_id is not None:
        raise RuleViolationError(f"ticket {root.id} is a piece; settle its root {root.root_id}")
    require_issuer(root, by_org_id)
    if root.status in (S.PENDING_ACCEPTANCE, S.REJECTED, S.CANCELLED):
        raise StateConflictError(f"ticket {root.id} is {root.status.value} and has nothing to settle")
    if today < root.maturity_date:
        raise RuleViolationError(
            f"not yet mature: ticket {root.id} matures on {root.maturity_date.isoformat()}"
        )
    if any(piece.root_id != root.id for piece in pieces):
        raise RuleViolationError("a piece of another ticket was given to this settlement")
    ordered = sorted(pieces, key=lambda piece: piece.id)
    live = [piece for piece in ordered if piece.status in LIVE]
    settled_fen = sum(piece.amount_fen for piece in ordered if piece.status is S.SETTLED)
    live_fen = sum(piece.amount_fen for piece in live)
    if live_fen + settled_fen != root.amount_fen:
        raise RuleViolationError(
            f"ledger inconsistent: the pieces of {root.id} add up to {live_fen + settled_fen}, not {root.amount_fen}"
        )
    paid = tuple(_payment(p) for p in live if p.status is not S.FROZEN)
    withheld = tuple(_payment(p) for p in live if p.status is S.FROZEN)
    if not paid:
        raise StateConflictError(f"ticket {root.id} has no piece left to pay")
    return SettlementPlan(
        root_id=root.id,
        paid=paid,
        withheld=withheld,
        previously_settled_fen=settled_fen,
        cancelled_offer_ids=tuple(p.offer_id for p in live if p.status is S.LOCKED_TRANSFER and p.offer_id),
        cancelled_application_ids=tuple(
            p.application_id for p in live if p.status is S.LOCKED_FINANCING and p.application_id
        ),
    )


def _payment(piece: Ticket) -> Payment:
    return Payment(piece.id, piece.holder_org_id, piece.amount_fen)


def settle_piece(piece: Ticket) -> Ticket:
    """The piece after its holder is paid: SETTLED, any lock released first."""
    if piece.status in _LOCKED:
        piece = piece.with_changes(status=S.ACTIVE, offer_id=None, application_id=None)
    check_transition(piece.id, piece.status, S.SETTLED)
    return piece.with_changes(status=S.SETTLED)
