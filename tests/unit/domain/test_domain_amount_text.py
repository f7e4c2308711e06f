"""What a clerk types as an amount: exact to the fen, never through a float."""

from __future__ import annotations

import pytest

from goldticket import domain as d


@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("1,000.00", 100_000),
        ("1000", 100_000),
        ("1000.5", 100_050),
        ("0.01", 1),
        ("¥12.34", 1_234),
        (" 9,999,999,999.99 ", 999_999_999_999),
        ("壹仟元整", 100_000),
        ("人民币壹仟贰佰叁拾肆元伍角陆分", 123_456),
        ("壹佰万元整", 100_000_000),
        ("伍角", 50),
        ("0.07", 7),  # 0.07 as a float is 0.07000000000000000666: no float is involved
        ("1234567890123.45", 123_456_789_012_345),
    ],
)
def test_amounts_parse_exactly(text: str, fen: int) -> None:
    assert d.parse_amount(text) == fen


@pytest.mark.parametrize("text", ["", "1.234", "1,00", "abc", "0", "-5", "1e3", "壹仟点五", "1000元", "NaN"])
def test_bad_amounts_say_what_is_accepted(text: str) -> None:
    with pytest.raises(d.InvalidInputError, match=r"1,000\.00|above zero"):
        d.parse_amount(text)


def test_capitals_round_trip() -> None:
    for fen in (1, 10, 100, 100_050, 123_456, 100_000_000, 1_000_000_001):
        assert d.parse_amount(d.chinese_capital(fen)) == fen
