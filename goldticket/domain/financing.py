"""Financing (discount): a bank buys a piece of a ticket before maturity, less interest and fee."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from typing import Any

from .errors import ForbiddenError, InvalidInputError, RuleViolationError, StateConflictError
from .kyc import require_sha256
from .lifecycle import require_holder, split_ticket
from .money import format_fen, half_up_div, require_fen
from .recourse import require_recourse
from .status import TicketStatus, check_transition
from .ticket import Ticket
from .transfer import require_not_matured

S = TicketStatus
DAY_BASES = (360, 365)
BP_PER_UNIT = 10_000
MAX_RATE_BP = 10_000  # 100 % a year
OPEN, APPROVED, REJECTED = "OPEN", "APPROVED", "REJECTED"


def require_rate_bp(value: Any, field: str = "annual_rate_bp") -> int:
    """An annual rate: an integer number of basis points from 0 to MAX_RATE_BP."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError(f"{field} must be an integer number of basis points")
    if not 0 <= value <= MAX_RATE_BP:
        raise InvalidInputError(f"{field} must lie between 0 and {MAX_RATE_BP}")
    return value


def format_rate(rate_bp: int) -> str:
    """Basis points as a percentage with two decimals: 350 -> "3.50 %"."""
    return f"{rate_bp // 100}.{rate_bp % 100:02d} %"


# A financing's private terms (#19) carry a random salt the bank's client draws (the request's
# private field ``terms_salt``, in the transient map): the channel records the SHA-256 of the terms
# and a rate has few plausible values, so without it anyone with a block finds the rate by hashing
# each candidate with the public figures (tests/scenario/test_terms_salt_attack.py).
TERMS_SALT = "terms_salt"
SALT_FIELD = "salt"  # the salt's name inside the terms the collection keeps


def require_terms_salt(value: Any) -> str:
    """A terms salt: 32 to 128 lowercase hex digits (128 to 512 bits); InvalidInputError otherwise."""
    if (
        not isinstance(value, str)
        or not 32 <= len(value) <= 128
        or any(char not in "0123456789abcdef" for char in value)
    ):
        raise InvalidInputError(f"{TERMS_SALT} must be 32 to 128 lowercase hex digits")
    return value


def terms_bytes(terms: dict[str, Any]) -> bytes:
    """The canonical encoding of private terms (sorted compact JSON, UTF-8): the value the
    collection keeps, whose SHA-256 the channel records."""
    return json.dumps(terms, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def private_terms(application_id: str, quote: DiscountQuote, salt: str) -> dict[str, Any]:
    """What an approval with a private rate writes to the bank's collection: the application, the
    quote's figures and the salt."""
    return {
        "application_id": application_id,
        **quote.to_dict(),
        SALT_FIELD: require_terms_salt(salt),
    }


def financing_terms_sha256(application_id: str, terms: dict[str, Any]) -> str:
    """A party's check of the terms it reads (their figures and salt, as the services give them,
    with or without ``application_id`` and ``sha256``): the SHA-256 (hex) the channel must record."""
    whole = {k: v for k, v in terms.items() if k != "sha256"}
    whole["application_id"] = application_id
    return hashlib.sha256(terms_bytes(whole)).hexdigest()


@dataclasses.dataclass(frozen=True)
class DiscountQuote:
    amount_fen: int
    annual_rate_bp: int
    value_date: dt.date
    maturity_date: dt.date
    day_basis: int
    fee_bp: int
    days: int
    discount_interest_fen: int
    fee_fen: int
    proceeds_fen: int

    @property
    def annualised_cost_bp(self) -> int | None:
        """The holder's total cost (discount interest and fee) over the proceeds it receives, per
        year of 365 days, in basis points rounded half up: what the fee-transparency rules ask to
        show before the holder signs. None when nothing would be paid out."""
        if self.proceeds_fen <= 0:
            return None
        cost = self.discount_interest_fen + self.fee_fen
        return half_up_div(cost * 365 * BP_PER_UNIT, self.proceeds_fen * self.days)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["value_date"] = self.value_date.isoformat()
        data["maturity_date"] = self.maturity_date.isoformat()
        return data


def quote_discount(
    *,
    amount_fen: int,
    annual_rate_bp: int,
    value_date: dt.date,
    maturity_date: dt.date,
    day_basis: int = 360,
    fee_bp: int = 0,
) -> DiscountQuote:
    """Discount interest = amount x rate x days / basis, days = maturity - value date (the
    first day counted, the last not); interest and fee each rounded half up to the fen."""
    require_fen(amount_fen)
    require_rate_bp(annual_rate_bp)
    if isinstance(day_basis, bool) or not isinstance(day_basis, int) or day_basis not in DAY_BASES:
        raise InvalidInputError("day_basis must be 360 or 365")
    if isinstance(fee_bp, bool) or not isinstance(fee_bp, int) or not 0 <= fee_bp <= BP_PER_UNIT:
        raise InvalidInputError("fee_bp must be an integer between 0 and 10000")
    days = (maturity_date - value_date).days
    if days < 1:
        raise RuleViolationError("value date must be before the maturity date")
    interest = half_up_div(amount_fen * annual_rate_bp * days, BP_PER_UNIT * day_basis)
    fee = half_up_div(amount_fen * fee_bp, BP_PER_UNIT)
    proceeds = amount_fen - interest - fee
    if proceeds < 0:
        raise RuleViolationError("interest and fee exceed the amount")
    return DiscountQuote(
        amount_fen,
        annual_rate_bp,
        value_date,
        maturity_date,
        day_basis,
        fee_bp,
        days,
        interest,
        fee,
        proceeds,
    )


@dataclasses.dataclass(frozen=True)
class FinancingApplication:
    id: str
    ticket_id: str
    holder_org_id: str
    bank_org_id: str
    amount_fen: int
    status: str = OPEN
    reason: str | None = None
    quote: dict[str, Any] | None = None
    # The highest annual rate the holder accepts, signed with its application. None only on
    # applications made before the bound existed (old ledgers replay; docs/decisions.md).
    max_annual_rate_bp: int | None = None
    # With recourse (有追索) or without (无追索), as the holder chose in its application; None on
    # applications that did not state it (without recourse), and then not written at all.
    recourse: bool | None = None
    # The private data collection holding the approved terms (#19), which ``quote`` then does
    # not show; None on applications approved with public terms (before #19), not written.
    terms: str | None = None
    # #21: the SHA-256 of the assignment to the bank with its recourse terms (应收账款融资转让
    # 协议), signed by the holder's card with the application; None: not written (before #21).
    assignment_sha256: str | None = None
    # #21: the SHA-256 of that assignment countersigned by the approving bank user's card (a second
    # PAdES signature), written by the approval; None: not written (no assignment, or before).
    countersigned_assignment_sha256: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        if self.recourse is None:  # applications written before it replay unchanged
            data.pop("recourse")
        if self.terms is None:
            data.pop("terms")
        if self.assignment_sha256 is None:
            data.pop("assignment_sha256")
        if self.countersigned_assignment_sha256 is None:
            data.pop("countersigned_assignment_sha256")
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FinancingApplication:
        return cls(**data)


def apply_financing(
    ticket: Ticket,
    *,
    by_org_id: str,
    bank_org_id: str,
    amount_fen: int,
    max_annual_rate_bp: int,
    application_id: str,
    today: dt.date,
    recourse: bool | None = None,
    assignment_sha256: Any = None,
) -> tuple[Ticket, FinancingApplication]:
    """The holder asks a bank to discount ``amount_fen`` of ``ticket`` at an annual rate of at
    most ``max_annual_rate_bp``; the ticket locks. ``assignment_sha256`` (#21): the assignment
    to the bank with its recourse terms, signed by the holder's card."""
    require_fen(amount_fen)
    require_rate_bp(max_annual_rate_bp, "max_annual_rate_bp")
    require_holder(ticket, by_org_id)
    if bank_org_id == by_org_id:
        raise InvalidInputError("a member cannot apply to itself for financing")
    if amount_fen > ticket.amount_fen:
        raise RuleViolationError(
            f"amount over balance: ticket {ticket.id} holds {format_fen(ticket.amount_fen)}"
        )
    check_transition(
        ticket.id, ticket.status, S.LOCKED_FINANCING, lock_id=ticket.offer_id or ticket.application_id
    )
    require_not_matured(ticket, today)
    application = FinancingApplication(
        application_id,
        ticket.id,
        by_org_id,
        bank_org_id,
        amount_fen,
        max_annual_rate_bp=max_annual_rate_bp,
        recourse=require_recourse(recourse),
        assignment_sha256=(
            None if assignment_sha256 is None else require_sha256(assignment_sha256, "assignment_sha256")
        ),
    )
    return ticket.with_changes(status=S.LOCKED_FINANCING, application_id=application_id), application


def _require_open(ticket: Ticket, application: FinancingApplication, by_org_id: str) -> None:
    if application.status != OPEN:
        raise StateConflictError(
            f"financing application {application.id} is already {application.status.lower()}"
        )
    if ticket.application_id != application.id:
        raise StateConflictError(f"application {application.id} no longer locks ticket {ticket.id}")
    if by_org_id != application.bank_org_id:
        raise ForbiddenError(f"only the bank of application {application.id} may decide it")


def approve_financing(
    ticket: Ticket,
    application: FinancingApplication,
    *,
    by_org_id: str,
    annual_rate_bp: int,
    value_date: dt.date,
    day_basis: int,
    fee_bp: int,
    financed_id: str,
    remainder_id: str,
    tx_id: str,
    today: dt.date | None = None,
    countersigned_assignment_sha256: Any = None,
) -> tuple[Ticket, Ticket, Ticket | None, FinancingApplication, DiscountQuote]:
    """The bank approves: the financed piece moves to the bank as FINANCED. With ``today``,
    the value date may not lie in the past (no backdating the interest) and a matured ticket
    cannot be financed. The rate may not exceed the bound the holder signed with its
    application. ``countersigned_assignment_sha256`` (#21): the holder's assignment
    countersigned by the approving bank user's card (see :func:`require_countersignature`)."""
    _require_open(ticket, application, by_org_id)
    countersigned = check_countersignature(application, countersigned_assignment_sha256)
    require_rate_bp(annual_rate_bp)
    check_rate_bound(application, annual_rate_bp)
    if value_date < ticket.issue_date:
        raise RuleViolationError("value date is before the ticket was issued")
    if today is not None:
        require_not_matured(ticket, today)
        if value_date < today:
            raise RuleViolationError("value date is in the past")
    quote = quote_discount(
        amount_fen=application.amount_fen,
        annual_rate_bp=annual_rate_bp,
        value_date=value_date,
        maturity_date=ticket.maturity_date,
        day_basis=day_basis,
        fee_bp=fee_bp,
    )
    parent, financed, remainder = split_ticket(
        ticket,
        part_fen=application.amount_fen,
        part_holder_org_id=application.bank_org_id,
        part_status=S.FINANCED,
        part_id=financed_id,
        remainder_id=remainder_id,
        tx_id=tx_id,
    )
    approved = dataclasses.replace(
        application,
        status=APPROVED,
        quote=quote.to_dict(),
        countersigned_assignment_sha256=countersigned,
    )
    return parent, financed, remainder, approved, quote


def check_countersignature(application: FinancingApplication, countersigned_sha256: Any) -> str | None:
    """The countersigned assignment an approval records (#21), as a SHA-256, or None. Only an
    application with the holder's assignment has one to countersign (InvalidInputError). Whether
    one is required is :func:`require_countersignature`'s question; whether the file it names is
    the holder's signed by the bank's card is the verification's (services.signed_documents)."""
    if countersigned_sha256 is None:
        return None
    if application.assignment_sha256 is None:
        raise InvalidInputError(
            f"application {application.id} has no assignment to countersign (countersigned_assignment_sha256)"
        )
    return require_sha256(countersigned_sha256, "countersigned_assignment_sha256")


def require_countersignature(application: FinancingApplication, countersigned_sha256: Any) -> None:
    """An application made with the holder's signed assignment is approved only with that
    assignment countersigned by the approving bank user's card (StateConflictError), as an
    agreement is accepted only countersigned (domain.transfer)."""
    if application.assignment_sha256 is not None and countersigned_sha256 is None:
        raise StateConflictError(
            f"application {application.id} comes with the holder's signed assignment: the approval must "
            "record it countersigned by the approving bank user's card (countersigned_assignment_sha256)"
        )


def check_rate_bound(application: FinancingApplication, annual_rate_bp: int) -> None:
    """Raise RuleViolationError when ``annual_rate_bp`` exceeds the holder's signed bound."""
    bound = application.max_annual_rate_bp
    if bound is not None and annual_rate_bp > bound:
        raise RuleViolationError(
            f"rate above the holder's bound: {format_rate(annual_rate_bp)} a year asked, the holder "
            f"accepts at most {format_rate(bound)}"
        )


def reject_financing(
    ticket: Ticket, application: FinancingApplication, *, by_org_id: str, reason: str
) -> tuple[Ticket, FinancingApplication]:
    """The bank declines: the ticket unlocks."""
    _require_open(ticket, application, by_org_id)
    check_transition(ticket.id, ticket.status, S.ACTIVE)
    unlocked = ticket.with_changes(status=S.ACTIVE, application_id=None)
    return unlocked, dataclasses.replace(application, status=REJECTED, reason=reason)


def private_endorsers(
    parties: frozenset[str] | set[str],
    organisations: frozenset[str] | set[str],
    banks: frozenset[str] | set[str],
) -> tuple[str, ...]:
    """The organisations (MSP ids) whose peers endorse a write carrying a financing's private
    terms (#19): its parties' (the terms collection's members: the operator's organisation, for
    the holder, and the bank's), and where they are not a MAJORITY of the channel's
    ``organisations``, the fewest others it needs, in name order, never another bank's (its peer
    would see the terms while endorsing). RuleViolationError when the channel has too few."""
    needed = len(organisations | parties) // 2 + 1
    others = sorted(set(organisations) - set(parties) - set(banks))
    if len(parties) + len(others) < needed:
        raise RuleViolationError(
            f"a MAJORITY of the channel's {len(organisations | parties)} organisations must endorse, and "
            f"only {len(parties) + len(others)} may see the financing's terms (its parties' and no other "
            "bank's): the terms cannot be written privately on this channel"
        )
    return (*sorted(parties), *others[: max(0, needed - len(parties))])
