"""#21 fee transparency: the holder sees the annualised total cost (discount interest and fee
over the proceeds it receives, per 365-day year) before it signs."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from goldticket.domain.financing import quote_discount

VALUE = dt.date(2026, 1, 1)
PROPERTY = settings(max_examples=200, deadline=None, database=None)


def test_known_answer() -> None:
    # 1,000,000.00 at 2.62 % for 90 days on 360: interest 6,550.00, proceeds 993,450.00
    quote = quote_discount(
        amount_fen=100_000_000,
        annual_rate_bp=262,
        value_date=VALUE,
        maturity_date=VALUE + dt.timedelta(days=90),
    )
    assert (quote.discount_interest_fen, quote.proceeds_fen) == (655_000, 99_345_000)
    exact = Fraction(655_000 * 365 * 10_000, 99_345_000 * 90)  # 267.39... bp
    assert quote.annualised_cost_bp == 267 == round(exact)
    # a fee counts in the cost: 0.10 % of the amount more
    with_fee = quote_discount(
        amount_fen=100_000_000,
        annual_rate_bp=262,
        value_date=VALUE,
        maturity_date=VALUE + dt.timedelta(days=90),
        fee_bp=10,
    )
    assert with_fee.fee_fen == 100_000
    assert with_fee.annualised_cost_bp == round(Fraction(755_000 * 365 * 10_000, 99_245_000 * 90))  # 308 bp
    nothing = quote_discount(
        amount_fen=1, annual_rate_bp=10_000, value_date=VALUE, maturity_date=VALUE + dt.timedelta(days=360)
    )
    assert nothing.proceeds_fen == 0 and nothing.annualised_cost_bp is None


@PROPERTY
@given(
    amount=st.integers(1_000_000, 10**13),
    rate=st.integers(0, 3_000),
    days=st.integers(1, 366),
    basis=st.sampled_from([360, 365]),
    fee=st.integers(0, 100),
)
def test_the_cost_is_never_below_the_rate_and_grows_with_the_fee(
    amount: int, rate: int, days: int, basis: int, fee: int
) -> None:
    """Paid on the proceeds (less than the amount) and with the fee on top, the annualised cost
    is at least the nominal rate on a 365-day year (but for the roundings to the fen and the
    basis point), and a fee never lowers it."""
    maturity = VALUE + dt.timedelta(days=days)
    plain = quote_discount(
        amount_fen=amount, annual_rate_bp=rate, value_date=VALUE, maturity_date=maturity, day_basis=basis
    )
    charged = quote_discount(
        amount_fen=amount,
        annual_rate_bp=rate,
        value_date=VALUE,
        maturity_date=maturity,
        day_basis=basis,
        fee_bp=fee,
    )
    assert plain.annualised_cost_bp is not None and charged.annualised_cost_bp is not None
    nominal = Fraction(rate * 365, basis)
    # the interest is rounded to the fen (half a fen at most, annualised on the proceeds) and
    # the cost to the basis point (half a point)
    rounding = Fraction(365 * 10_000, 2 * plain.proceeds_fen * days) + Fraction(1, 2)
    assert plain.annualised_cost_bp >= nominal - rounding
    assert charged.annualised_cost_bp >= plain.annualised_cost_bp
