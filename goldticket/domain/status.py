"""Ticket states and the transitions the rules allow."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from .errors import StateConflictError


class TicketStatus(StrEnum):
    PENDING_ACCEPTANCE = "PENDING_ACCEPTANCE"
    ACTIVE = "ACTIVE"
    LOCKED_TRANSFER = "LOCKED_TRANSFER"
    LOCKED_FINANCING = "LOCKED_FINANCING"
    SPLIT = "SPLIT"
    FINANCED = "FINANCED"
    SETTLED = "SETTLED"
    REJECTED = "REJECTED"
    CANCELLED = "CANCELLED"
    FROZEN = "FROZEN"

    def __str__(self) -> str:
        return self.value


# Shown, never stored: a live piece whose maturity date has passed unpaid.
OVERDUE = "OVERDUE"

TERMINAL = frozenset(
    {TicketStatus.SPLIT, TicketStatus.SETTLED, TicketStatus.REJECTED, TicketStatus.CANCELLED}
)
# Pieces that carry value today and will be paid at settlement.
LIVE = frozenset(
    {
        TicketStatus.ACTIVE,
        TicketStatus.LOCKED_TRANSFER,
        TicketStatus.LOCKED_FINANCING,
        TicketStatus.FINANCED,
        TicketStatus.FROZEN,
    }
)

_S = TicketStatus
TRANSITIONS: dict[TicketStatus, frozenset[TicketStatus]] = {
    _S.PENDING_ACCEPTANCE: frozenset({_S.ACTIVE, _S.REJECTED, _S.CANCELLED, _S.FROZEN}),
    _S.ACTIVE: frozenset({_S.LOCKED_TRANSFER, _S.LOCKED_FINANCING, _S.SPLIT, _S.SETTLED, _S.FROZEN}),
    _S.LOCKED_TRANSFER: frozenset({_S.ACTIVE, _S.SPLIT, _S.FROZEN}),
    _S.LOCKED_FINANCING: frozenset({_S.ACTIVE, _S.SPLIT, _S.FINANCED, _S.FROZEN}),
    _S.FINANCED: frozenset({_S.SETTLED, _S.FROZEN}),
    # A frozen ticket does not move at all; only unfreeze_ticket returns it to its state.
    _S.FROZEN: frozenset(),
    _S.SPLIT: frozenset(),
    _S.SETTLED: frozenset(),
    _S.REJECTED: frozenset(),
    _S.CANCELLED: frozenset(),
}


def check_transition(ticket_id: str, current: TicketStatus, target: TicketStatus) -> None:
    """Raise StateConflictError unless ``current -> target`` is an allowed transition."""
    if current is TicketStatus.FROZEN:
        raise StateConflictError(f"ticket {ticket_id} is frozen")
    if target not in TRANSITIONS[current]:
        raise StateConflictError(f"ticket {ticket_id} is {current.value} and cannot become {target.value}")


_SHOWN_OVERDUE = frozenset(
    {TicketStatus.ACTIVE, TicketStatus.FINANCED, TicketStatus.LOCKED_TRANSFER, TicketStatus.LOCKED_FINANCING}
)


def display_status(status: TicketStatus, maturity_date: dt.date, today: dt.date) -> str:
    """The status a person sees: OVERDUE for an unpaid live piece past its maturity date."""
    if status in _SHOWN_OVERDUE and today > maturity_date:
        return OVERDUE
    return status.value
