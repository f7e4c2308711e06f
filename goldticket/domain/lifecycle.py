"""Issue, accept, reject, cancel, freeze and unfreeze a ticket."""

from __future__ import annotations

import datetime as dt

from .errors import ForbiddenError, InvalidInputError, StateConflictError
from .kyc import require_sha256
from .money import require_fen
from .recourse import require_grace_days
from .status import TicketStatus, check_transition
from .terms import DEFAULT_MAX_TERM_MONTHS, check_term
from .ticket import Invoice, Ticket

S = TicketStatus


def issue_ticket(
    *,
    ticket_id: str,
    issuer_org_id: str,
    payee_org_id: str,
    amount_fen: int,
    issue_date: dt.date,
    maturity_date: dt.date,
    invoices: tuple[Invoice, ...],
    tx_id: str,
    credit_line_id: str | None = None,
    max_term_months: int = DEFAULT_MAX_TERM_MONTHS,
    term_reason: str | None = None,
    grace_days: int | None = None,
    commitment_sha256: str | None = None,
) -> Ticket:
    """A new root ticket, PENDING_ACCEPTANCE until the payee signs for it. ``commitment_sha256``:
    the SHA-256 of the issuer's payment commitment (付款承诺函, #21), signed by its clerk's card."""
    require_fen(amount_fen)
    if payee_org_id == issuer_org_id:
        raise InvalidInputError("a core enterprise cannot issue a ticket to itself")
    if not invoices:
        raise InvalidInputError("a ticket needs at least one invoice")
    reason = check_term(issue_date, maturity_date, max_term_months, term_reason)
    return Ticket(
        id=ticket_id,
        root_id=ticket_id,
        parent_id=None,
        issuer_org_id=issuer_org_id,
        holder_org_id=payee_org_id,
        amount_fen=amount_fen,
        issue_date=issue_date,
        maturity_date=maturity_date,
        status=S.PENDING_ACCEPTANCE,
        invoices=invoices,
        tx_id=tx_id,
        credit_line_id=credit_line_id,
        term_reason=reason,
        grace_days=require_grace_days(grace_days),
        commitment_sha256=(
            None if commitment_sha256 is None else require_sha256(commitment_sha256, "commitment_sha256")
        ),
    )


def require_holder(ticket: Ticket, org_id: str) -> None:
    if ticket.holder_org_id != org_id:
        raise ForbiddenError(f"only the holder of ticket {ticket.id} may do this")


def require_issuer(ticket: Ticket, org_id: str) -> None:
    if ticket.issuer_org_id != org_id:
        raise ForbiddenError(f"only the issuer of ticket {ticket.id} may do this")


def accept_ticket(ticket: Ticket, *, by_org_id: str) -> Ticket:
    """The payee signs for an issued ticket."""
    require_holder(ticket, by_org_id)
    check_transition(ticket.id, ticket.status, S.ACTIVE)
    if ticket.status is not S.PENDING_ACCEPTANCE:
        raise StateConflictError(f"ticket {ticket.id} is not waiting for acceptance")
    return ticket.with_changes(status=S.ACTIVE)


def reject_ticket(ticket: Ticket, *, by_org_id: str) -> Ticket:
    """The payee refuses an issued ticket; the issuer's credit is released by the caller."""
    require_holder(ticket, by_org_id)
    check_transition(ticket.id, ticket.status, S.REJECTED)
    return ticket.with_changes(status=S.REJECTED)


def cancel_ticket(ticket: Ticket, *, by_org_id: str) -> Ticket:
    """The issuer withdraws a ticket before the payee accepts it."""
    require_issuer(ticket, by_org_id)
    check_transition(ticket.id, ticket.status, S.CANCELLED)
    return ticket.with_changes(status=S.CANCELLED)


def freeze_ticket(ticket: Ticket) -> Ticket:
    """Operator hold: the ticket cannot move until unfrozen; it remembers its state."""
    if ticket.status is S.FROZEN:
        raise StateConflictError(f"ticket {ticket.id} is already frozen")
    check_transition(ticket.id, ticket.status, S.FROZEN)
    return ticket.with_changes(status=S.FROZEN, frozen_from=ticket.status)


def unfreeze_ticket(ticket: Ticket) -> Ticket:
    """Lift an operator hold: the ticket returns to the state it was frozen in."""
    if ticket.status is not S.FROZEN or ticket.frozen_from is None:
        raise StateConflictError(f"ticket {ticket.id} is not frozen")
    return ticket.with_changes(status=ticket.frozen_from, frozen_from=None)


def split_ticket(
    ticket: Ticket,
    *,
    part_fen: int,
    part_holder_org_id: str,
    part_status: TicketStatus,
    part_id: str,
    remainder_id: str,
    tx_id: str,
) -> tuple[Ticket, Ticket, Ticket | None]:
    """Consume ``ticket`` into a piece of ``part_fen`` for a new holder and the remainder.

    Returns (parent now SPLIT, the piece, the holder's remainder or None when the whole
    amount moved). The children add up to the parent exactly.
    """
    require_fen(part_fen, "amount_fen")
    if part_fen > ticket.amount_fen:
        raise InvalidInputError("amount_fen is more than the ticket holds")
    check_transition(ticket.id, ticket.status, S.SPLIT, lock_id=ticket.offer_id or ticket.application_id)
    base = ticket.with_changes(
        parent_id=ticket.id, tx_id=tx_id, offer_id=None, application_id=None, frozen_from=None
    )
    part = base.with_changes(
        id=part_id, holder_org_id=part_holder_org_id, amount_fen=part_fen, status=part_status
    )
    remainder = None
    if part_fen < ticket.amount_fen:
        remainder = base.with_changes(
            id=remainder_id, amount_fen=ticket.amount_fen - part_fen, status=S.ACTIVE
        )
    parent = ticket.with_changes(status=S.SPLIT, offer_id=None, application_id=None)
    return parent, part, remainder
