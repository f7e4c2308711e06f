"""Overdue and recourse (逾期与追索, #21). Pure: no I/O, money in integer fen.

A piece is *unpaid* while the issuer owes its holder money for it: it is still live (the issuer
never settled it) or it was settled and its bank has not booked all of it (PAYMENT_PENDING,
PARTIALLY_PAID). Once its root's grace days (宽限期, set at issue, 0..30, 3 when not stated)
have passed after maturity, the business date is after ``maturity + grace`` and the piece may be
marked OVERDUE on the ledger. Its holder may then demand payment (追索) of at most what is still
unpaid: from the issuer always, and from the earlier holders of its path only where a financing
in the path was made with recourse (有追索). A demand is closed as PAID (the bank booked the
piece in full, or the holder confirms the obligor paid the demanded amount) or WRITTEN_OFF (by
the holder). Payments recorded by the bank plus those the holder confirmed never exceed the
piece.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from .errors import ForbiddenError, InvalidInputError, RuleViolationError, StateConflictError
from .kyc import require_sha256
from .money import format_fen, require_fen
from .status import TicketStatus
from .ticket import Ticket, require_text

DEFAULT_GRACE_DAYS = 3
MAX_GRACE_DAYS = 30
OVERDUE = "OVERDUE"
OPEN, PAID, WRITTEN_OFF = "OPEN", "PAID", "WRITTEN_OFF"
ISSUER, RECOURSE = "issuer", "recourse"
S = TicketStatus
# Pieces the issuer still owes and has not settled; a frozen piece waits for the operator.
_UNSETTLED = frozenset({S.ACTIVE, S.FINANCED, S.LOCKED_TRANSFER, S.LOCKED_FINANCING})


def require_grace_days(value: Any) -> int | None:
    """Grace days as stated at issue: None (not stated: the default applies) or an integer
    from 0 to MAX_GRACE_DAYS."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_GRACE_DAYS:
        raise InvalidInputError(f"grace_days must be a whole number of days from 0 to {MAX_GRACE_DAYS}")
    return value


def grace_days_of(root: Ticket) -> int:
    return DEFAULT_GRACE_DAYS if root.grace_days is None else root.grace_days


def overdue_on(root: Ticket) -> dt.date:
    """The first business date on which an unpaid piece of ``root`` is overdue."""
    return root.maturity_date + dt.timedelta(days=grace_days_of(root) + 1)


def require_recourse(value: Any) -> bool | None:
    """With recourse (True), without (False), or not stated (None: without, as before)."""
    if value is not None and not isinstance(value, bool):
        raise InvalidInputError("recourse must be true (有追索) or false (无追索)")
    return value


def unpaid_fen(piece: Ticket, bank_paid_fen: int, recovered_fen: int) -> int:
    """What the issuer still owes on ``piece``: nothing once it is neither live nor settled."""
    if piece.status not in _UNSETTLED and piece.status is not S.SETTLED:
        return 0
    if bank_paid_fen < 0 or recovered_fen < 0 or bank_paid_fen + recovered_fen > piece.amount_fen:
        raise RuleViolationError(f"ledger inconsistent: piece {piece.id} is paid more than its amount")
    return piece.amount_fen - bank_paid_fen - recovered_fen


def mark_overdue(
    piece: Ticket,
    root: Ticket,
    *,
    today: dt.date,
    bank_paid_fen: int,
    already: Mapping[str, Any] | None,
    by_org_id: str,
    operator: bool,
    tx_id: str,
) -> dict[str, Any]:
    """The overdue record of ``piece``. The holder or the operator marks it, only after
    ``maturity + grace`` (``today`` is the transaction's business date) and only while unpaid.
    Raises ForbiddenError, RuleViolationError (not yet overdue, paid), StateConflictError
    (already marked, frozen, never accepted)."""
    if piece.root_id != root.id or root.parent_id is not None:
        raise RuleViolationError(f"ticket {root.id} is not the root of piece {piece.id}")
    if not operator and piece.holder_org_id != by_org_id:
        raise ForbiddenError(f"only the holder of ticket {piece.id} or the operator may mark it overdue")
    if already is not None:
        raise StateConflictError(f"ticket {piece.id} is already marked overdue on {already['marked_on']}")
    if piece.status is S.FROZEN:
        raise StateConflictError(f"ticket {piece.id} is frozen: the operator unfreezes it first")
    if piece.status not in _UNSETTLED and piece.status is not S.SETTLED:
        raise StateConflictError(f"ticket {piece.id} is {piece.status.value}: nothing is owed on it")
    first = overdue_on(root)
    if today < first:
        raise RuleViolationError(
            f"not overdue: ticket {piece.id} matures on {root.maturity_date.isoformat()} with "
            f"{grace_days_of(root)} grace days; it can be marked overdue from {first.isoformat()}"
        )
    unpaid = unpaid_fen(piece, bank_paid_fen, 0)
    if unpaid <= 0:
        raise RuleViolationError(f"ticket {piece.id} is paid in full: it is not overdue")
    return {
        "ticket_id": piece.id,
        "root_id": root.id,
        "issuer_org_id": piece.issuer_org_id,
        "holder_org_id": piece.holder_org_id,
        "amount_fen": piece.amount_fen,
        "unpaid_fen": unpaid,
        "recovered_fen": 0,
        "maturity_date": root.maturity_date.isoformat(),
        "grace_days": grace_days_of(root),
        "marked_on": today.isoformat(),
        "marked_by_org_id": by_org_id,
        "status": OVERDUE,
        "tx_id": tx_id,
    }


def obligors(path: Sequence[Ticket], recourse: Mapping[str, bool]) -> dict[str, str]:
    """Who the holder of ``path[-1]`` may demand payment from: org id -> basis. ``path`` runs
    from the root to the piece (each the parent of the next); ``recourse`` says, for the pieces
    created by a financing, whether it was with recourse. The issuer always; where a piece of
    the path was financed with recourse, every holder of the path before it (the applicant and
    those it came from). Never the current holder."""
    if not path:
        raise InvalidInputError("a piece has at least its root in its path")
    for parent, child in zip(path, path[1:], strict=False):
        if child.parent_id != parent.id:
            raise RuleViolationError(f"ticket {child.id} does not descend from {parent.id}")
    piece = path[-1]
    allowed = {piece.issuer_org_id: ISSUER}
    for index, ticket in enumerate(path):
        if recourse.get(ticket.id):
            for earlier in path[:index]:
                allowed.setdefault(earlier.holder_org_id, RECOURSE)
    allowed.pop(piece.holder_org_id, None)
    return allowed


def demand_payment(
    overdue: Mapping[str, Any],
    piece: Ticket,
    *,
    by_org_id: str,
    obligor_org_id: str,
    allowed: Mapping[str, str],
    amount_fen: Any,
    document_sha256: Any,
    unpaid: int,
    open_demands: Sequence[Mapping[str, Any]],
    demand_id: str,
    today: dt.date,
    tx_id: str,
) -> dict[str, Any]:
    """A demand (追索通知) by the holder of an overdue piece to one allowed obligor, for at
    most what is unpaid, its signed document named by SHA-256. One open demand per obligor."""
    if piece.holder_org_id != by_org_id:
        raise ForbiddenError(f"only the holder of ticket {piece.id} may demand payment on it")
    amount = require_fen(amount_fen)
    sha256 = require_sha256(document_sha256, "document_sha256")
    obligor = require_text(obligor_org_id, "obligor_org_id", 64)
    if overdue.get("ticket_id") != piece.id:
        raise StateConflictError(f"ticket {piece.id} is not marked overdue")
    if unpaid <= 0:
        raise RuleViolationError(f"ticket {piece.id} is paid in full: there is nothing to demand")
    if obligor not in allowed:
        if obligor == piece.holder_org_id:
            raise InvalidInputError("a holder does not demand payment from itself")
        raise ForbiddenError(
            f"{obligor} is not liable for ticket {piece.id}: demand from the issuer, or from an earlier "
            "holder only where the ticket was financed with recourse (有追索)"
        )
    if amount > unpaid:
        raise RuleViolationError(
            f"ticket {piece.id} has {format_fen(unpaid)} unpaid; a demand of {format_fen(amount)} is more"
        )
    if any(d.get("obligor_org_id") == obligor and d.get("status") == OPEN for d in open_demands):
        raise StateConflictError(f"a demand to {obligor} on ticket {piece.id} is already open")
    return {
        "demand_id": demand_id,
        "ticket_id": piece.id,
        "root_id": piece.root_id,
        "holder_org_id": piece.holder_org_id,
        "obligor_org_id": obligor,
        "basis": allowed[obligor],
        "amount_fen": amount,
        "document_sha256": sha256,
        "demanded_on": today.isoformat(),
        "status": OPEN,
        "tx_id": tx_id,
    }


def close_demand(
    demand: Mapping[str, Any],
    overdue: Mapping[str, Any],
    *,
    by_org_id: str,
    outcome: Any,
    unpaid: int,
    payment_reference: Any,
    today: dt.date,
    tx_id: str,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(The closed demand, the overdue record after it). ``outcome``:

    - ``"paid"`` with no payment reference: the bank booked the piece in full (``unpaid`` is
      0); the holder or the obligor closes it;
    - ``"paid"`` with a payment reference: the holder confirms the obligor paid the demanded
      amount outside the settlement (recorded as recovered; never more than is unpaid);
    - ``"written_off"``: the holder gives up the claim on this obligor.
    """
    if demand.get("status") != OPEN:
        raise StateConflictError(
            f"demand {demand.get('demand_id')} is already {str(demand.get('status')).lower()}"
        )
    holder, obligor = demand["holder_org_id"], demand["obligor_org_id"]
    if by_org_id not in (holder, obligor):
        raise ForbiddenError(f"only the holder or the obligor of demand {demand['demand_id']} may close it")
    closed: dict[str, Any] = {**demand, "closed_on": today.isoformat(), "closed_by_org_id": by_org_id}
    after = dict(overdue)
    if outcome == "written_off":
        if by_org_id != holder:
            raise ForbiddenError("only the holder writes off its claim")
        closed.update(status=WRITTEN_OFF, close_tx_id=tx_id)
        return closed, after
    if outcome != "paid":
        raise InvalidInputError('outcome must be "paid" or "written_off"')
    if payment_reference is None:
        if unpaid > 0:
            raise RuleViolationError(
                f"ticket {demand['ticket_id']} still has {format_fen(unpaid)} unpaid by the bank: the holder "
                "confirms a payment (with its reference) or writes the claim off"
            )
        closed.update(status=PAID, paid_by="bank", close_tx_id=tx_id)
        return closed, after
    reference = require_text(payment_reference, "payment_reference", 64)
    if by_org_id != holder:
        raise ForbiddenError(
            "only the holder confirms it was paid: an obligor's own word does not close a claim"
        )
    amount = int(demand["amount_fen"])
    if amount > unpaid:
        raise RuleViolationError(
            f"ticket {demand['ticket_id']} has {format_fen(unpaid)} unpaid, less than the {format_fen(amount)} "
            "demanded: write this demand off and demand what is left"
        )
    closed.update(status=PAID, paid_by="obligor", payment_reference=reference, close_tx_id=tx_id)
    after["recovered_fen"] = int(overdue.get("recovered_fen", 0)) + amount
    return closed, after


def check_bank_payment(
    ticket_id: str, due_fen: int, bank_paid_fen: int, overdue: Mapping[str, Any] | None
) -> None:
    """A bank payment recorded after the holder confirmed recoveries on demands: together they
    never exceed the piece (RuleViolationError)."""
    recovered = int(overdue.get("recovered_fen", 0)) if overdue else 0
    if bank_paid_fen + recovered > due_fen:
        raise RuleViolationError(
            f"piece {ticket_id} is due {format_fen(due_fen)}; its holder confirmed {format_fen(recovered)} "
            f"paid on demands, and the bank would bring it to {format_fen(bank_paid_fen + recovered)}"
        )
