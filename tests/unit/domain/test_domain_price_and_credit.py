"""The money rules of issue #17 (points 3 and 10) as properties: a bank never approves above
the rate the holder signed, and approving at or below it never pays the holder a negative
amount; a credit line is drawn only once its core enterprise has accepted it."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from goldticket.domain import (
    MAX_RATE_BP,
    CreditLine,
    choose_credit_line,
    format_rate,
    offer_credit_line,
)
from goldticket.domain.errors import ForbiddenError, InvalidInputError, RuleViolationError, StateConflictError
from goldticket.domain.financing import apply_financing, approve_financing
from goldticket.domain.lifecycle import accept_ticket, issue_ticket
from goldticket.domain.ticket import Invoice

pytestmark = pytest.mark.unit
PROPERTY = settings(max_examples=150, deadline=None, database=None)
ISSUE, VALUE = dt.date(2025, 12, 1), dt.date(2026, 1, 1)


def _applied(amount_fen: int, held_fen: int, bound: int, maturity: dt.date):
    ticket = issue_ticket(
        ticket_id="T-1",
        issuer_org_id="core",
        payee_org_id="sup",
        amount_fen=held_fen,
        issue_date=ISSUE,
        maturity_date=maturity,
        invoices=(Invoice("INV-1", 10**15, "ab" * 32),),
        tx_id="tx",
        term_reason="terms up to a year in this property",
    )
    ticket = accept_ticket(ticket, by_org_id="sup")
    return apply_financing(
        ticket,
        by_org_id="sup",
        bank_org_id="bank",
        amount_fen=amount_fen,
        max_annual_rate_bp=bound,
        application_id="A-1",
        today=VALUE,
    )


def _approve(ticket, application, rate_bp: int, fee_bp: int = 0, day_basis: int = 360):
    return approve_financing(
        ticket,
        application,
        by_org_id="bank",
        annual_rate_bp=rate_bp,
        value_date=VALUE,
        day_basis=day_basis,
        fee_bp=fee_bp,
        financed_id="T-1.f",
        remainder_id="T-1.r",
        tx_id="tx-fin",
        today=VALUE,
    )


@PROPERTY
@given(
    held=st.integers(1, 10**12),
    share=st.floats(0.0001, 1.0),
    bound=st.integers(0, MAX_RATE_BP),
    rate=st.integers(0, MAX_RATE_BP),
    days=st.integers(1, 330),  # within the 12-month term from ISSUE
    day_basis=st.sampled_from([360, 365]),
)
def test_the_rate_never_exceeds_the_signed_bound_and_proceeds_are_never_negative(
    held, share, bound, rate, days, day_basis
):
    amount = max(1, min(held, int(held * share)))
    ticket, application = _applied(amount, held, bound, VALUE + dt.timedelta(days=days))
    assert application.max_annual_rate_bp == bound
    if rate > bound:
        with pytest.raises(RuleViolationError, match="rate above the holder's bound"):
            _approve(ticket, application, rate, day_basis=day_basis)
        return
    *_, approved, quote = _approve(ticket, application, rate, day_basis=day_basis)
    assert quote.annual_rate_bp <= bound
    assert 0 <= quote.proceeds_fen <= amount
    assert approved.quote["annual_rate_bp"] == rate and approved.max_annual_rate_bp == bound


@pytest.mark.parametrize("bound", [None, -1, MAX_RATE_BP + 1, 100_000, "350", 3.5, True])
def test_an_application_needs_a_bound_within_the_domains_rate_limit(bound):
    with pytest.raises(InvalidInputError, match="max_annual_rate_bp"):
        _applied(100, 100, bound, dt.date(2026, 3, 1))


def test_the_refusal_states_both_rates():
    ticket, application = _applied(100_000, 100_000, 350, dt.date(2026, 3, 1))
    with pytest.raises(RuleViolationError, match=r"3\.51 % a year asked, the holder accepts at most 3\.50 %"):
        _approve(ticket, application, 351)
    assert format_rate(5) == "0.05 %" and format_rate(MAX_RATE_BP) == "100.00 %"


def test_an_application_made_before_bounds_existed_is_approved_as_before():
    ticket, application = _applied(100_000, 100_000, 350, dt.date(2026, 3, 1))
    old = dataclasses.replace(application, max_annual_rate_bp=None)
    assert _approve(ticket, old, 900)[-1].annual_rate_bp == 900


# -- credit lines ------------------------------------------------------------------------------


@PROPERTY
@given(
    limits=st.lists(st.integers(1, 10**9), min_size=1, max_size=5),
    statuses=st.lists(st.sampled_from(["offered", "active", "declined", None]), min_size=5, max_size=5),
    amount=st.integers(1, 10**9),
)
def test_only_active_lines_are_drawn(limits, statuses, amount):
    lines = [
        CreditLine(f"CL{i}", "bank", "core", limit, status=statuses[i]) for i, limit in enumerate(limits)
    ]
    usable = [line for line in lines if line.status in (None, "active") and line.limit_fen >= amount]
    if not usable:
        with pytest.raises(RuleViolationError, match="credit line exceeded"):
            choose_credit_line(lines, amount)
        return
    chosen = choose_credit_line(lines, amount)
    assert chosen.active and chosen.id == usable[0].id
    assert chosen.reserve(amount).used_fen == amount


def test_a_line_is_offered_and_only_its_core_answers_it_once():
    line = offer_credit_line("CL1", bank_org_id="bank", core_org_id="core", limit_fen=1_000)
    assert line.to_dict()["status"] == "offered" and not line.active
    for who in ("bank", "core2"):
        with pytest.raises(ForbiddenError):
            line.answer(by_org_id=who, accept=True)
    accepted = line.answer(by_org_id="core", accept=True)
    assert accepted.status == "active" and accepted.active
    with pytest.raises(StateConflictError):
        accepted.answer(by_org_id="core", accept=False)
    assert line.answer(by_org_id="core", accept=False).status == "declined"


def test_a_line_granted_before_offers_existed_is_active_and_keeps_its_bytes():
    old = {"id": "CL0", "bank_org_id": "bank", "core_org_id": "core", "limit_fen": 500, "used_fen": 0}
    line = CreditLine.from_dict(old)
    assert line.active and line.to_dict() == old
    with pytest.raises(StateConflictError):
        line.answer(by_org_id="core", accept=True)
    with pytest.raises(InvalidInputError):
        CreditLine.from_dict({**old, "status": "granted"})
