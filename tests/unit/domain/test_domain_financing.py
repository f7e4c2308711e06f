"""Financing (discount): apply, approve, reject; the financed piece moves to the bank."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from goldticket.domain.errors import ForbiddenError, InvalidInputError, RuleViolationError, StateConflictError
from goldticket.domain.financing import (
    DiscountQuote,
    FinancingApplication,
    apply_financing,
    approve_financing,
    quote_discount,
    reject_financing,
)
from goldticket.domain.lifecycle import accept_ticket, freeze_ticket, issue_ticket
from goldticket.domain.status import TicketStatus
from goldticket.domain.ticket import Invoice, Ticket
from goldticket.domain.transfer import offer_transfer

pytestmark = pytest.mark.unit

PROPERTY = settings(max_examples=100, deadline=None, database=None)
S = TicketStatus

CORE, SUP_A, SUP_B, BANK, OTHER_BANK = "org-core", "org-sup-a", "org-sup-b", "org-bank", "org-bank-2"
ISSUE = dt.date(2025, 12, 1)
VALUE = dt.date(2026, 1, 1)
MATURITY = dt.date(2026, 3, 17)  # 75 days after VALUE


def active(amount_fen: int = 100_000_000, ticket_id: str = "T-1") -> Ticket:
    ticket = issue_ticket(
        ticket_id=ticket_id,
        issuer_org_id=CORE,
        payee_org_id=SUP_A,
        amount_fen=amount_fen,
        issue_date=ISSUE,
        maturity_date=MATURITY,
        invoices=(Invoice("INV-001", 10**15, "ab" * 32),),
        tx_id="tx-issue",
    )
    return accept_ticket(ticket, by_org_id=SUP_A)


def apply(
    ticket: Ticket, amount_fen: int = 40_000_000, *, bank: str = BANK, today: dt.date = VALUE
) -> tuple[Ticket, FinancingApplication]:
    return apply_financing(
        ticket,
        by_org_id=ticket.holder_org_id,
        bank_org_id=bank,
        max_annual_rate_bp=10_000,
        amount_fen=amount_fen,
        application_id="A-1",
        today=today,
    )


def approve(
    ticket: Ticket,
    application: FinancingApplication,
    *,
    by: str | None = None,
    value_date: dt.date = VALUE,
    rate_bp: int = 262,
    day_basis: int = 360,
    fee_bp: int = 0,
) -> tuple[Ticket, Ticket, Ticket | None, FinancingApplication, DiscountQuote]:
    return approve_financing(
        ticket,
        application,
        by_org_id=application.bank_org_id if by is None else by,
        annual_rate_bp=rate_bp,
        value_date=value_date,
        day_basis=day_basis,
        fee_bp=fee_bp,
        financed_id=f"{ticket.id}.f",
        remainder_id=f"{ticket.id}.r",
        tx_id="tx-fin",
    )


# --- apply ------------------------------------------------------------------------------------


def test_apply_locks_the_ticket() -> None:
    ticket = active()
    locked, application = apply(ticket)
    assert locked.status is S.LOCKED_FINANCING
    assert locked.application_id == "A-1"
    assert application == FinancingApplication(
        "A-1", "T-1", SUP_A, BANK, 40_000_000, "OPEN", None, None, 10_000
    )
    assert FinancingApplication.from_dict(application.to_dict()) == application


@pytest.mark.parametrize("org", [CORE, SUP_B, BANK])
def test_only_the_holder_applies(org: str) -> None:
    with pytest.raises(ForbiddenError):
        apply_financing(
            active(),
            by_org_id=org,
            bank_org_id=OTHER_BANK,
            max_annual_rate_bp=10_000,
            amount_fen=1,
            application_id="A",
            today=VALUE,
        )


def test_cannot_apply_to_oneself() -> None:
    with pytest.raises(InvalidInputError):
        apply(active(), bank=SUP_A)


def test_apply_over_balance_is_refused() -> None:
    with pytest.raises(RuleViolationError, match="amount over balance"):
        apply(active(1_000), 1_001)


@pytest.mark.parametrize("amount", [0, -1, 2.5, None])
def test_apply_amount_must_be_positive_fen(amount: object) -> None:
    with pytest.raises(InvalidInputError):
        apply(active(), amount)  # type: ignore[arg-type]


@pytest.mark.parametrize("today", [MATURITY, MATURITY + dt.timedelta(days=3)])
def test_apply_on_or_after_maturity_is_refused(today: dt.date) -> None:
    with pytest.raises(RuleViolationError, match="maturity"):
        apply(active(), today=today)


def test_locked_ticket_cannot_apply_again() -> None:
    locked, _ = apply(active())
    with pytest.raises(StateConflictError):
        apply(locked)
    offered, _ = offer_transfer(
        active(), by_org_id=SUP_A, to_org_id=SUP_B, amount_fen=1, offer_id="O", today=VALUE
    )
    with pytest.raises(StateConflictError):
        apply(offered)


# --- approve ----------------------------------------------------------------------------------


def test_partial_financing_leaves_an_active_remainder_with_the_holder() -> None:
    locked, application = apply(active(), 40_000_000)
    parent, financed, remainder, approved, quote = approve(locked, application)
    assert parent.status is S.SPLIT and parent.application_id is None
    assert (financed.id, financed.holder_org_id, financed.amount_fen, financed.status) == (
        "T-1.f",
        BANK,
        40_000_000,
        S.FINANCED,
    )
    assert remainder is not None
    assert (remainder.id, remainder.holder_org_id, remainder.amount_fen, remainder.status) == (
        "T-1.r",
        SUP_A,
        60_000_000,
        S.ACTIVE,
    )
    for child in (financed, remainder):
        assert child.parent_id == "T-1" and child.root_id == "T-1" and child.tx_id == "tx-fin"
        assert child.application_id is None and child.offer_id is None
        assert child.issuer_org_id == CORE and child.maturity_date == MATURITY
    assert financed.amount_fen + remainder.amount_fen == parent.amount_fen
    # 40,000,000 * 262 * 75 / 3,600,000 = 218,333.33 -> 218,333
    assert quote.days == 75 and quote.discount_interest_fen == 218_333 and quote.proceeds_fen == 39_781_667
    assert approved.status == "APPROVED"
    assert approved.quote == quote.to_dict()


def test_whole_financing_leaves_no_remainder() -> None:
    locked, application = apply(active(), 100_000_000)
    parent, financed, remainder, _, quote = approve(locked, application)
    assert parent.status is S.SPLIT
    assert remainder is None
    assert (
        financed.amount_fen == 100_000_000
        and financed.holder_org_id == BANK
        and financed.status is S.FINANCED
    )
    # The DOMAIN.md example: 1,000,000.00 at 2.62 % for 75 days.
    assert quote.discount_interest_fen == 545_833 and quote.proceeds_fen == 99_454_167


def test_approve_uses_the_bank_settings() -> None:
    locked, application = apply(active(), 100_000_000)
    *_, quote = approve(locked, application, day_basis=365, fee_bp=5)
    expected = quote_discount(
        amount_fen=100_000_000,
        annual_rate_bp=262,
        value_date=VALUE,
        maturity_date=MATURITY,
        day_basis=365,
        fee_bp=5,
    )
    assert quote == expected
    assert (
        quote.discount_interest_fen == 538_356
        and quote.fee_fen == 50_000
        and quote.proceeds_fen == 99_411_644
    )


@pytest.mark.parametrize("org", [OTHER_BANK, SUP_A, CORE])
def test_wrong_bank_cannot_approve(org: str) -> None:
    locked, application = apply(active())
    with pytest.raises(ForbiddenError):
        approve(locked, application, by=org)


@pytest.mark.parametrize("org", [OTHER_BANK, SUP_A, CORE])
def test_wrong_bank_cannot_reject(org: str) -> None:
    locked, application = apply(active())
    with pytest.raises(ForbiddenError):
        reject_financing(locked, application, by_org_id=org, reason="no")


def test_value_date_before_issue_is_refused() -> None:
    locked, application = apply(active())
    with pytest.raises(RuleViolationError, match="before the ticket was issued"):
        approve(locked, application, value_date=ISSUE - dt.timedelta(days=1))
    # On the issue date itself it is fine.
    assert approve(locked, application, value_date=ISSUE)[4].days == (MATURITY - ISSUE).days


def test_value_date_on_maturity_is_refused() -> None:
    locked, application = apply(active())
    with pytest.raises(RuleViolationError):
        approve(locked, application, value_date=MATURITY)


@pytest.mark.parametrize(("field", "value"), [("rate_bp", -1), ("day_basis", 366), ("fee_bp", 10_001)])
def test_bad_bank_settings_are_invalid(field: str, value: int) -> None:
    locked, application = apply(active())
    with pytest.raises(InvalidInputError):
        approve(locked, application, **{field: value})  # type: ignore[arg-type]


# --- reject -----------------------------------------------------------------------------------


def test_bank_rejects_and_ticket_unlocks() -> None:
    ticket = active()
    locked, application = apply(ticket)
    unlocked, rejected = reject_financing(locked, application, by_org_id=BANK, reason="credit review failed")
    assert unlocked == ticket
    assert rejected.status == "REJECTED" and rejected.reason == "credit review failed"


def test_decided_application_cannot_be_decided_again() -> None:
    locked, application = apply(active())
    unlocked, rejected = reject_financing(locked, application, by_org_id=BANK, reason="no")
    with pytest.raises(StateConflictError):
        approve(unlocked, rejected)
    with pytest.raises(StateConflictError):
        approve(unlocked, application)  # the stale OPEN copy no longer locks the ticket
    with pytest.raises(StateConflictError):
        approve(locked, rejected)
    parent, _, _, approved, _ = approve(locked, application)
    with pytest.raises(StateConflictError):
        reject_financing(parent, approved, by_org_id=BANK, reason="late")
    with pytest.raises(StateConflictError):
        approve(parent, approved)


# --- financed pieces --------------------------------------------------------------------------


def test_financed_piece_cannot_be_moved_again() -> None:
    locked, application = apply(active())
    _, financed, _, _, _ = approve(locked, application)
    with pytest.raises(StateConflictError):
        offer_transfer(financed, by_org_id=BANK, to_org_id=SUP_B, amount_fen=1, offer_id="O", today=VALUE)
    with pytest.raises(StateConflictError):
        apply_financing(
            financed,
            by_org_id=BANK,
            bank_org_id=OTHER_BANK,
            max_annual_rate_bp=10_000,
            amount_fen=1,
            application_id="A",
            today=VALUE,
        )


def test_approving_a_frozen_ticket_conflicts() -> None:
    locked, application = apply(active())
    with pytest.raises(StateConflictError):
        approve(freeze_ticket(locked), application)


def test_rejecting_financing_does_not_lift_a_freeze() -> None:
    locked, application = apply(active())
    with pytest.raises(StateConflictError):
        reject_financing(freeze_ticket(locked), application, by_org_id=BANK, reason="no")


@PROPERTY
@given(
    st.integers(min_value=1, max_value=10**15),
    st.data(),
    st.integers(min_value=0, max_value=3_000),
    st.sampled_from([360, 365]),
    st.integers(min_value=0, max_value=100),
)
def test_financing_splits_exactly(root: int, data: st.DataObject, rate: int, basis: int, fee: int) -> None:
    amount = data.draw(st.integers(min_value=1, max_value=root), label="financed")
    locked, application = apply(active(root), amount)
    parent, financed, remainder, _, quote = approve(
        locked, application, rate_bp=rate, day_basis=basis, fee_bp=fee
    )
    assert financed.amount_fen == amount == quote.amount_fen
    assert financed.amount_fen + (remainder.amount_fen if remainder else 0) == parent.amount_fen == root
    assert (remainder is None) == (amount == root)
    assert quote.discount_interest_fen + quote.fee_fen + quote.proceeds_fen == amount


def test_an_application_records_the_assignment_hash_only_when_stated() -> None:
    """#21: the holder's signed assignment to the bank; a hash of another shape is refused."""
    assert "assignment_sha256" not in apply(active())[1].to_dict()
    ticket = active()
    stated = {
        "by_org_id": ticket.holder_org_id, "bank_org_id": BANK, "max_annual_rate_bp": 600, "amount_fen": 1_000,
        "application_id": "A-S", "today": VALUE,
    }  # fmt: skip
    made = apply_financing(ticket, **stated, assignment_sha256="ab" * 32)[1]
    assert made.to_dict()["assignment_sha256"] == "ab" * 32
    assert FinancingApplication.from_dict(made.to_dict()) == made
    for bad in ("AB" * 32, "ab" * 31, 7):
        with pytest.raises(InvalidInputError):
            apply_financing(ticket, **stated, assignment_sha256=bad)
