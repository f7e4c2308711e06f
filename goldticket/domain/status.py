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


# What to do next when a ticket in this status cannot make the move asked for.
NEXT_STEP = {
    TicketStatus.PENDING_ACCEPTANCE: "its payee accepts it first (goldticket ticket accept)",
    TicketStatus.ACTIVE: "it is live; nothing is waiting on it",
    TicketStatus.LOCKED_TRANSFER: (
        "a transfer offer is open on it: cancel it (goldticket offer cancel) or wait for the payee"
        " (goldticket offer list shows it)"
    ),
    TicketStatus.LOCKED_FINANCING: (
        "a financing application is open on it: wait for the bank's answer (goldticket financing list shows it)"
    ),
    TicketStatus.SPLIT: "it was split; its pieces carry on (goldticket ticket lineage shows them)",
    TicketStatus.FINANCED: "it is financed; the bank holds it until maturity",
    TicketStatus.SETTLED: "it is settled (goldticket statement show on its root)",
    TicketStatus.REJECTED: "it was rejected by its payee and is closed",
    TicketStatus.CANCELLED: "it was cancelled by its issuer and is closed",
    TicketStatus.FROZEN: "the operator unfreezes it (goldticket ticket unfreeze)",
}


def check_transition(
    ticket_id: str, current: TicketStatus, target: TicketStatus, *, lock_id: str | None = None
) -> None:
    """Raise StateConflictError unless ``current -> target`` is an allowed transition; the
    message says what to do next (``lock_id``: the offer or application locking the ticket)."""
    if current is TicketStatus.FROZEN:
        raise StateConflictError(f"ticket {ticket_id} is frozen: {NEXT_STEP[current]}")
    if target not in TRANSITIONS[current]:
        if current is TicketStatus.LOCKED_TRANSFER and lock_id:
            raise StateConflictError(
                f"offer {lock_id} is open on ticket {ticket_id}: cancel it (goldticket offer cancel"
                f" {lock_id}) or wait for the payee's answer"
            )
        if current is TicketStatus.LOCKED_FINANCING and lock_id:
            raise StateConflictError(
                f"financing application {lock_id} is open on ticket {ticket_id}: wait for the bank's answer"
            )
        raise StateConflictError(
            f"ticket {ticket_id} is {current.value} and cannot become {target.value}: {NEXT_STEP[current]}"
        )


_SHOWN_OVERDUE = frozenset(
    {TicketStatus.ACTIVE, TicketStatus.FINANCED, TicketStatus.LOCKED_TRANSFER, TicketStatus.LOCKED_FINANCING}
)


def display_status(status: TicketStatus, maturity_date: dt.date, today: dt.date) -> str:
    """The status a person sees: OVERDUE for an unpaid live piece past its maturity date."""
    if status in _SHOWN_OVERDUE and today > maturity_date:
        return OVERDUE
    return status.value
