"""Money as integer fen: formatting, parsing, Chinese capitals, validation; and the error wire form."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from goldticket.domain.errors import (
    DomainError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
    RuleViolationError,
    StateConflictError,
    error_from_message,
)
from goldticket.domain.money import MAX_FEN, chinese_capital, format_fen, half_up_div, parse_yuan, require_fen

pytestmark = pytest.mark.unit

PROPERTY = settings(max_examples=200, deadline=None, database=None)


# --- format_fen -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fen", "text"),
    [
        (100_000_005, "1,000,000.05"),
        (0, "0.00"),
        (5, "0.05"),
        (50, "0.50"),
        (100, "1.00"),
        (99_999, "999.99"),
        (100_000, "1,000.00"),
        (123_456_789_012, "1,234,567,890.12"),
        (-100_000_005, "-1,000,000.05"),
        (-5, "-0.05"),
        (-100, "-1.00"),
    ],
)
def test_format_fen(fen: int, text: str) -> None:
    assert format_fen(fen) == text


# --- parse_yuan -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("1,000,000.05", 100_000_005),
        ("1000000.05", 100_000_005),
        ("23.4", 2_340),
        ("23.40", 2_340),
        ("23", 2_300),
        ("0", 0),
        ("0.00", 0),
        ("0.01", 1),
        ("1,000", 100_000),
        ("999", 99_900),
        ("  12.30 ", 1_230),
        ("-1.05", -105),
        ("-1,000,000.05", -100_000_005),
    ],
)
def test_parse_yuan_valid_forms(text: str, fen: int) -> None:
    assert parse_yuan(text) == fen


@pytest.mark.parametrize(
    "text",
    [
        "1.005",  # three decimals
        "0.001",
        "12a",  # letters
        "abc",
        "1e5",
        "",  # empty
        "   ",
        "-",
        "1.",
        ".5",
        "+1",
        "1,00",  # misplaced separators
        "1,0000",
        "1,000,00",
        ",100",
        "1.2.3",
        "1 000",
        "¥100",
    ],
)
def test_parse_yuan_rejects(text: str) -> None:
    with pytest.raises(InvalidInputError, match="not an amount in yuan"):
        parse_yuan(text)


@PROPERTY
@given(st.integers(min_value=0, max_value=10**15))
def test_parse_yuan_inverts_format_fen(fen: int) -> None:
    assert parse_yuan(format_fen(fen)) == fen


@PROPERTY
@given(st.integers(min_value=1, max_value=10**15))
def test_parse_yuan_inverts_format_fen_for_negatives(fen: int) -> None:
    assert parse_yuan(format_fen(-fen)) == -fen


# --- chinese_capital --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fen", "capital"),
    [
        (100_000_005, "壹佰万元零伍分"),
        (1_001_010, "壹万零壹拾元壹角"),
        (50, "伍角"),
        (10_000_000_000, "壹亿元整"),
        (2_345, "贰拾叁元肆角伍分"),
        (0, "零元整"),
        (100_000_000, "壹佰万元整"),
        (1, "壹分"),
        (100, "壹元整"),
        (1_005, "壹拾元零伍分"),
    ],
)
def test_chinese_capital_known_answers(fen: int, capital: str) -> None:
    assert chinese_capital(fen) == capital


def test_chinese_capital_refuses_negative() -> None:
    with pytest.raises(InvalidInputError):
        chinese_capital(-1)


_CAPITAL_CHARS = set("零壹贰叁肆伍陆柒捌玖拾佰仟万亿元角分整")


@PROPERTY
@given(st.integers(min_value=1, max_value=MAX_FEN))
def test_chinese_capital_shape(fen: int) -> None:
    capital = chinese_capital(fen)
    assert set(capital) <= _CAPITAL_CHARS
    # 整 exactly when there are no jiao and fen; a whole-yuan amount always names 元.
    assert capital.endswith("整") == (fen % 100 == 0)
    if fen >= 100:
        assert "元" in capital
    if fen % 10:
        assert capital.endswith("分")


# --- require_fen ------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [0, -1, 1.5, 1.0, True, False, "100", None, MAX_FEN + 1])
def test_require_fen_rejects(value: object) -> None:
    with pytest.raises(InvalidInputError, match="amount_fen"):
        require_fen(value)


@pytest.mark.parametrize("value", [1, 100, MAX_FEN])
def test_require_fen_accepts(value: int) -> None:
    assert require_fen(value) == value


def test_require_fen_names_the_field_and_honours_minimum() -> None:
    assert require_fen(0, "limit_fen", minimum=0) == 0
    with pytest.raises(InvalidInputError, match="limit_fen must be at least 1"):
        require_fen(0, "limit_fen")


# --- half_up_div ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [
        (0, 7, 0),
        (4, 10, 0),
        (5, 10, 1),  # exactly one half rounds up
        (14, 10, 1),
        (15, 10, 2),
        (25, 10, 3),  # half up, not half to even
        (1, 3, 0),
        (2, 3, 1),
        (7, 7, 1),
        (1, 2, 1),
        (3, 2, 2),
    ],
)
def test_half_up_div(numerator: int, denominator: int, expected: int) -> None:
    assert half_up_div(numerator, denominator) == expected


@pytest.mark.parametrize(("numerator", "denominator"), [(-1, 2), (1, 0), (1, -2)])
def test_half_up_div_refuses_negative_or_zero(numerator: int, denominator: int) -> None:
    with pytest.raises(ValueError):
        half_up_div(numerator, denominator)


@PROPERTY
@given(st.integers(min_value=0, max_value=10**30), st.integers(min_value=1, max_value=10**12))
def test_half_up_div_matches_exact_rounding(numerator: int, denominator: int) -> None:
    exact = Fraction(numerator, denominator)
    result = half_up_div(numerator, denominator)
    assert result - Fraction(1, 2) <= exact < result + Fraction(1, 2)


# --- error wire form --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cls", "code"),
    [
        (InvalidInputError, "invalid_input"),
        (RuleViolationError, "rule_violation"),
        (StateConflictError, "conflict"),
        (NotFoundError, "not_found"),
        (ForbiddenError, "forbidden"),
    ],
)
@pytest.mark.parametrize("message", ["credit line exceeded: 1.00 asked", "ticket T-1 is SPLIT", ""])
def test_error_from_message_round_trip(cls: type[DomainError], code: str, message: str) -> None:
    error = cls(message)
    assert issubclass(cls, DomainError)
    assert error.code == code
    assert error.wire() == f"{code}: {message}"
    assert str(error) == message
    rebuilt = error_from_message(error.wire())
    assert type(rebuilt) is cls
    assert rebuilt is not None and rebuilt.message == message
    assert rebuilt.wire() == error.wire()


def test_base_domain_error_travels_as_rule_violation() -> None:
    rebuilt = error_from_message(DomainError("no").wire())
    assert type(rebuilt) is RuleViolationError
    assert rebuilt is not None and rebuilt.message == "no"


@pytest.mark.parametrize(
    "text", ["", "plain failure", "conflict", "conflict:no space", "unknown_code: message", "Conflict: x"]
)
def test_error_from_message_returns_none_for_other_text(text: str) -> None:
    assert error_from_message(text) is None


@PROPERTY
@given(
    st.sampled_from(
        [InvalidInputError, RuleViolationError, StateConflictError, NotFoundError, ForbiddenError]
    ),
    st.text(),
)
def test_error_wire_round_trip_any_message(cls: type[DomainError], message: str) -> None:
    rebuilt = error_from_message(cls(message).wire())
    assert type(rebuilt) is cls
    assert rebuilt is not None and rebuilt.message == message
