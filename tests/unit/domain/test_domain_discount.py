"""Discount quotes: interest = amount x rate x days / basis, fee in basis points, both half up."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from goldticket.domain.errors import InvalidInputError, RuleViolationError
from goldticket.domain.financing import DiscountQuote, quote_discount

pytestmark = pytest.mark.unit

PROPERTY = settings(max_examples=200, deadline=None, database=None)

VALUE = dt.date(2026, 1, 1)
MATURITY = dt.date(2026, 3, 17)  # 31 (Jan) + 28 (Feb) + 16 (1..16 Mar) = 75 days after VALUE


def quote(
    amount_fen: int = 100_000_000,
    annual_rate_bp: int = 262,
    days: int | None = None,
    *,
    value_date: dt.date = VALUE,
    maturity_date: dt.date | None = None,
    day_basis: int = 360,
    fee_bp: int = 0,
) -> DiscountQuote:
    if maturity_date is None:
        maturity_date = MATURITY if days is None else value_date + dt.timedelta(days=days)
    return quote_discount(
        amount_fen=amount_fen,
        annual_rate_bp=annual_rate_bp,
        value_date=value_date,
        maturity_date=maturity_date,
        day_basis=day_basis,
        fee_bp=fee_bp,
    )


def test_domain_example_360() -> None:
    # 1,000,000.00 CNY at 2.62 % for 75 days: 100000000 * 262 * 75 / (10000 * 360) = 545833.33...
    q = quote()
    assert q.days == 75
    assert q.discount_interest_fen == 545_833
    assert q.fee_fen == 0
    assert q.proceeds_fen == 99_454_167
    assert (q.amount_fen, q.annual_rate_bp, q.day_basis, q.fee_bp) == (100_000_000, 262, 360, 0)
    assert (q.value_date, q.maturity_date) == (VALUE, MATURITY)


def test_day_basis_365() -> None:
    # 100000000 * 262 * 75 = 1_965_000_000_000; / (10000 * 365 = 3_650_000)
    # = 538_356 remainder 600_000, below the half (1_825_000): rounds down to 538_356.
    q = quote(day_basis=365)
    assert q.days == 75
    assert q.discount_interest_fen == 538_356
    assert q.proceeds_fen == 100_000_000 - 538_356 == 99_461_644


def test_fee_is_taken_from_proceeds() -> None:
    # 5 bp of 1,000,000.00 = 500.00 exactly.
    q = quote(fee_bp=5)
    assert q.fee_fen == 50_000
    assert q.discount_interest_fen == 545_833
    assert q.proceeds_fen == 99_404_167


@pytest.mark.parametrize(
    ("amount_fen", "fee_bp", "fee_fen"),
    [
        (5, 1_000, 1),  # 0.5 fen -> 1
        (15, 1_000, 2),  # 1.5 -> 2
        (25, 1_000, 3),  # 2.5 -> 3 (half up, not half even)
        (1, 5_000, 1),  # 0.5 -> 1
        (3, 5_000, 2),  # 1.5 -> 2
        (4, 1_000, 0),  # 0.4 -> 0
        (6, 1_000, 1),  # 0.6 -> 1
        (10_000, 1, 1),  # exact
        (5_000, 1, 1),  # 0.5 -> 1
        (4_999, 1, 0),  # 0.4999 -> 0
    ],
)
def test_fee_rounds_half_up(amount_fen: int, fee_bp: int, fee_fen: int) -> None:
    q = quote(amount_fen, annual_rate_bp=0, fee_bp=fee_bp)
    assert q.discount_interest_fen == 0
    assert q.fee_fen == fee_fen
    assert q.proceeds_fen == amount_fen - fee_fen


@pytest.mark.parametrize(
    ("amount_fen", "rate_bp", "days", "basis", "interest_fen"),
    [
        (1_800, 100, 10, 360, 1),  # 1800*100*10 / 3_600_000 = 0.5 -> 1
        (5_400, 100, 10, 360, 2),  # 1.5 -> 2
        (9_000, 100, 10, 360, 3),  # 2.5 -> 3
        (1_799, 100, 10, 360, 0),  # 0.49972 -> 0
        (1_825, 100, 10, 365, 1),  # 1825*100*10 / 3_650_000 = 0.5 -> 1
        (5_475, 100, 10, 365, 2),  # 1.5 -> 2
        (1_824, 100, 10, 365, 0),  # 0.49973 -> 0
        (36_000, 10_000, 1, 360, 100),  # exact: 100 % a year for one day
    ],
)
def test_interest_rounds_half_up(
    amount_fen: int, rate_bp: int, days: int, basis: int, interest_fen: int
) -> None:
    q = quote(amount_fen, rate_bp, days, day_basis=basis)
    assert q.days == days
    assert q.discount_interest_fen == interest_fen
    assert q.proceeds_fen == amount_fen - interest_fen


def test_days_count_first_day_not_last() -> None:
    assert quote(value_date=dt.date(2026, 3, 16), maturity_date=dt.date(2026, 3, 17)).days == 1
    assert quote(value_date=dt.date(2028, 2, 28), maturity_date=dt.date(2028, 3, 1)).days == 2  # leap year
    assert quote(value_date=dt.date(2026, 2, 28), maturity_date=dt.date(2026, 3, 1)).days == 1


def test_zero_rate_gives_zero_interest() -> None:
    q = quote(annual_rate_bp=0)
    assert q.discount_interest_fen == 0
    assert q.proceeds_fen == q.amount_fen


@pytest.mark.parametrize("value_date", [MATURITY, MATURITY + dt.timedelta(days=1), dt.date(2027, 1, 1)])
def test_value_date_on_or_after_maturity_is_refused(value_date: dt.date) -> None:
    with pytest.raises(RuleViolationError, match="value date must be before the maturity date"):
        quote(value_date=value_date, maturity_date=MATURITY)


@pytest.mark.parametrize("rate", [-1, 10_001, 2.62, 262.0, "262", True, None])
def test_bad_rate_is_invalid_input(rate: object) -> None:
    with pytest.raises(InvalidInputError, match="annual_rate_bp"):
        quote(annual_rate_bp=rate)  # type: ignore[arg-type]


@pytest.mark.parametrize("rate", [0, 1, 10_000])
def test_rate_bounds_are_accepted(rate: int) -> None:
    assert quote(annual_rate_bp=rate, days=1).annual_rate_bp == rate


@pytest.mark.parametrize("basis", [0, 1, 364, 366, "360", True, None])
def test_bad_day_basis_is_invalid_input(basis: object) -> None:
    with pytest.raises(InvalidInputError, match="day_basis"):
        quote(day_basis=basis)  # type: ignore[arg-type]


def test_float_day_basis_is_invalid_input() -> None:
    with pytest.raises(InvalidInputError):
        quote(day_basis=360.0)  # type: ignore[arg-type]


@pytest.mark.parametrize("fee", [-1, 10_001, 1.5, 5.0, "5", True, None])
def test_bad_fee_is_invalid_input(fee: object) -> None:
    with pytest.raises(InvalidInputError, match="fee_bp"):
        quote(fee_bp=fee)  # type: ignore[arg-type]


@pytest.mark.parametrize("amount", [0, -1, 1.5, True, "100"])
def test_bad_amount_is_invalid_input(amount: object) -> None:
    with pytest.raises(InvalidInputError, match="amount_fen"):
        quote(amount)  # type: ignore[arg-type]


def test_interest_and_fee_beyond_the_amount_are_refused() -> None:
    # 100 % a year for 400 days is more than the whole amount.
    with pytest.raises(RuleViolationError, match="exceed the amount"):
        quote(10_000, 10_000, 400)
    # A 100 % fee plus any interest at all is more than the amount.
    with pytest.raises(RuleViolationError, match="exceed the amount"):
        quote(10_000, 1, 360, fee_bp=10_000)
    # A 100 % fee alone leaves exactly nothing, which is allowed.
    assert quote(10_000, 0, 30, fee_bp=10_000).proceeds_fen == 0


def test_to_dict_uses_iso_dates() -> None:
    data = quote().to_dict()
    assert data["value_date"] == "2026-01-01"
    assert data["maturity_date"] == "2026-03-17"
    assert data["proceeds_fen"] == 99_454_167
    assert data["discount_interest_fen"] == 545_833


# --- properties -------------------------------------------------------------------------------

amounts = st.integers(min_value=1, max_value=10**15)
rates = st.integers(min_value=0, max_value=10_000)
day_counts = st.integers(min_value=1, max_value=800)
bases = st.sampled_from([360, 365])
fees = st.integers(min_value=0, max_value=10_000)


def _half_up(value: Fraction) -> int:
    return int(value + Fraction(1, 2))


@PROPERTY
@given(amounts, rates, day_counts, bases, fees)
def test_quote_adds_up_or_refuses_exactly_when_it_cannot(
    amount: int, rate: int, days: int, basis: int, fee_bp: int
) -> None:
    expected_interest = _half_up(Fraction(amount * rate * days, 10_000 * basis))
    expected_fee = _half_up(Fraction(amount * fee_bp, 10_000))
    if expected_interest + expected_fee > amount:
        with pytest.raises(RuleViolationError):
            quote(amount, rate, days, day_basis=basis, fee_bp=fee_bp)
        return
    q = quote(amount, rate, days, day_basis=basis, fee_bp=fee_bp)
    for value in (q.discount_interest_fen, q.fee_fen, q.proceeds_fen, q.days):
        assert type(value) is int
    assert q.days == days
    assert q.discount_interest_fen == expected_interest
    assert q.fee_fen == expected_fee
    assert q.discount_interest_fen + q.fee_fen + q.proceeds_fen == amount
    assert q.proceeds_fen >= 0


@PROPERTY
@given(
    st.integers(min_value=1, max_value=10**13),
    st.integers(min_value=0, max_value=2_000),
    bases,
    st.integers(min_value=0, max_value=1_000),
    st.lists(st.integers(min_value=1, max_value=366), min_size=2, max_size=2),
)
def test_interest_is_monotone_in_days(
    amount: int, rate: int, basis: int, fee_bp: int, days: list[int]
) -> None:
    short, long = sorted(days)
    q_short = quote(amount, rate, short, day_basis=basis, fee_bp=fee_bp)
    q_long = quote(amount, rate, long, day_basis=basis, fee_bp=fee_bp)
    assert q_short.discount_interest_fen <= q_long.discount_interest_fen
    assert q_short.proceeds_fen >= q_long.proceeds_fen
    assert q_short.fee_fen == q_long.fee_fen
    for q in (q_short, q_long):
        assert q.discount_interest_fen + q.fee_fen + q.proceeds_fen == amount


@PROPERTY
@given(
    st.integers(min_value=1, max_value=10**13),
    st.integers(min_value=1, max_value=366),
    bases,
    st.lists(st.integers(min_value=0, max_value=2_000), min_size=2, max_size=2),
)
def test_interest_is_monotone_in_rate(amount: int, days: int, basis: int, rates_bp: list[int]) -> None:
    low, high = sorted(rates_bp)
    q_low = quote(amount, low, days, day_basis=basis)
    q_high = quote(amount, high, days, day_basis=basis)
    assert q_low.discount_interest_fen <= q_high.discount_interest_fen
    assert q_low.proceeds_fen >= q_high.proceeds_fen


@PROPERTY
@given(st.integers(min_value=1, max_value=10**13), rates, st.integers(min_value=1, max_value=366))
def test_basis_365_never_charges_more_than_360(amount: int, rate: int, days: int) -> None:
    assume(rate * days <= 10_000 * 360)  # the interest fits in the amount on either basis
    q360 = quote(amount, rate, days, day_basis=360)
    assert quote(amount, rate, days, day_basis=365).discount_interest_fen <= q360.discount_interest_fen
