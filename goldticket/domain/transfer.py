"""Transfer with split: the holder offers part or all of a ticket to another member."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from .errors import ForbiddenError, InvalidInputError, RuleViolationError, StateConflictError
from .kyc import require_sha256
from .lifecycle import require_holder, split_ticket
from .money import format_fen, require_fen
from .status import TicketStatus, check_transition
from .ticket import Ticket

S = TicketStatus
DOCUMENT_FIELDS = ("agreement_sha256", "notice_sha256", "countersigned_sha256", "notice_delivered_on")
OPEN, ACCEPTED, REJECTED, CANCELLED = "OPEN", "ACCEPTED", "REJECTED", "CANCELLED"


@dataclasses.dataclass(frozen=True)
class Offer:
    id: str
    ticket_id: str
    from_org_id: str
    to_org_id: str
    amount_fen: int
    status: str = OPEN
    # #21: the SHA-256 of the assignment agreement (债权转让协议) and of the notice to the debtor
    # (债权转让通知), each signed by the transferor's card at the offer; of the agreement
    # countersigned by the transferee's card at acceptance; the day the notice was delivered to
    # the debtor (the issuer): the acceptance's. None: an offer without documents (before #21).
    agreement_sha256: str | None = None
    notice_sha256: str | None = None
    countersigned_sha256: str | None = None
    notice_delivered_on: str | None = None

    def to_dict(self) -> dict[str, Any]:
        # every field is a str, int or None: no deep copy to make (dataclasses.asdict's)
        data = {field.name: getattr(self, field.name) for field in _OFFER_FIELDS}
        for field in DOCUMENT_FIELDS:  # only when set: offers written before replay unchanged
            if data[field] is None:
                del data[field]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Offer:
        return cls(**data)


_OFFER_FIELDS = dataclasses.fields(Offer)


def require_not_matured(ticket: Ticket, today: dt.date) -> None:
    if today >= ticket.maturity_date:
        raise RuleViolationError(f"ticket {ticket.id} has reached maturity and can only be settled")


def offer_transfer(
    ticket: Ticket,
    *,
    by_org_id: str,
    to_org_id: str,
    amount_fen: int,
    offer_id: str,
    today: dt.date,
    agreement_sha256: Any = None,
    notice_sha256: Any = None,
) -> tuple[Ticket, Offer]:
    """Lock ``ticket`` behind an offer of ``amount_fen`` (1 fen up to the whole) to ``to_org_id``.
    With the transferor's signed assignment agreement and notice (#21): both hashes, or neither."""
    require_fen(amount_fen)
    if (agreement_sha256 is None) != (notice_sha256 is None):
        raise InvalidInputError(
            "an offer states the agreement's and the notice's SHA-256 together, or neither"
        )
    if agreement_sha256 is not None:
        agreement_sha256 = require_sha256(agreement_sha256, "agreement_sha256")
        notice_sha256 = require_sha256(notice_sha256, "notice_sha256")
    require_holder(ticket, by_org_id)
    if to_org_id == by_org_id:
        raise InvalidInputError("cannot transfer a ticket to its own holder")
    if amount_fen > ticket.amount_fen:
        raise RuleViolationError(
            f"amount over balance: ticket {ticket.id} holds {format_fen(ticket.amount_fen)}"
        )
    check_transition(
        ticket.id, ticket.status, S.LOCKED_TRANSFER, lock_id=ticket.offer_id or ticket.application_id
    )
    require_not_matured(ticket, today)
    offer = Offer(
        offer_id,
        ticket.id,
        by_org_id,
        to_org_id,
        amount_fen,
        agreement_sha256=agreement_sha256,
        notice_sha256=notice_sha256,
    )
    return ticket.with_changes(status=S.LOCKED_TRANSFER, offer_id=offer_id), offer


def _require_open(ticket: Ticket, offer: Offer) -> None:
    if offer.status != OPEN:
        raise StateConflictError(f"offer {offer.id} is already {offer.status.lower()}")
    if ticket.id != offer.ticket_id or ticket.offer_id != offer.id:
        raise StateConflictError(f"offer {offer.id} no longer locks ticket {ticket.id}")


def accept_offer(
    ticket: Ticket,
    offer: Offer,
    *,
    by_org_id: str,
    transferred_id: str,
    remainder_id: str,
    tx_id: str,
    today: dt.date | None = None,
    countersigned_sha256: Any = None,
) -> tuple[Ticket, Ticket, Ticket | None, Offer]:
    """The payee accepts: (parent SPLIT, payee's piece, holder's remainder or None, offer).
    With ``today``, an offer can no longer be accepted once the ticket has matured. An offer
    with an assignment agreement (#21) is accepted with the agreement countersigned by the
    payee's card (its SHA-256), and its notice is delivered to the debtor that day."""
    _require_open(ticket, offer)
    if by_org_id != offer.to_org_id:
        raise ForbiddenError(f"only the payee of offer {offer.id} may accept it")
    documents: dict[str, Any] = {}
    if offer.agreement_sha256 is not None:
        if countersigned_sha256 is None:
            raise InvalidInputError(
                f"offer {offer.id} comes with an assignment agreement: accept it with the agreement "
                "countersigned by your card (countersigned_sha256)"
            )
        documents = {
            "countersigned_sha256": require_sha256(countersigned_sha256, "countersigned_sha256"),
            "notice_delivered_on": (today or ticket.issue_date).isoformat(),
        }
    elif countersigned_sha256 is not None:
        raise InvalidInputError(f"offer {offer.id} has no assignment agreement to countersign")
    if today is not None:
        require_not_matured(ticket, today)
    parent, part, remainder = split_ticket(
        ticket,
        part_fen=offer.amount_fen,
        part_holder_org_id=offer.to_org_id,
        part_status=S.ACTIVE,
        part_id=transferred_id,
        remainder_id=remainder_id,
        tx_id=tx_id,
    )
    return parent, part, remainder, dataclasses.replace(offer, status=ACCEPTED, **documents)


def close_offer(ticket: Ticket, offer: Offer, *, by_org_id: str, outcome: str) -> tuple[Ticket, Offer]:
    """The payee rejects (REJECTED) or the holder cancels (CANCELLED): the ticket unlocks."""
    _require_open(ticket, offer)
    party = offer.to_org_id if outcome == REJECTED else offer.from_org_id
    if outcome not in (REJECTED, CANCELLED):
        raise InvalidInputError("an offer closes as REJECTED or CANCELLED")
    if by_org_id != party:
        who = "payee" if outcome == REJECTED else "holder"
        raise ForbiddenError(f"only the {who} of offer {offer.id} may do this")
    check_transition(ticket.id, ticket.status, S.ACTIVE)
    return ticket.with_changes(status=S.ACTIVE, offer_id=None), dataclasses.replace(offer, status=outcome)
