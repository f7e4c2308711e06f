"""Money as integer fen (1 fen = 0.01 CNY): validation, parsing and formatting."""

from __future__ import annotations

import re
from typing import Any

import cn2an

from .errors import InvalidInputError

FEN_PER_YUAN = 100
# 1e13 CNY: far above any real ticket, far below where any arithmetic here could misbehave.
MAX_FEN = 10**15

_AMOUNT_TEXT = re.compile(r"^([0-9]{1,3}(,[0-9]{3})*|[0-9]+)(\.[0-9]{1,2})?$")


def require_fen(value: Any, field: str = "amount_fen", minimum: int = 1) -> int:
    """Return ``value`` if it is an integer number of fen in [minimum, MAX_FEN].

    Raises InvalidInputError for floats, booleans, strings and out-of-range integers.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError(f"{field} must be an integer number of fen")
    if value < minimum:
        raise InvalidInputError(f"{field} must be at least {minimum}")
    if value > MAX_FEN:
        raise InvalidInputError(f"{field} is too large")
    return value


def parse_yuan(text: str) -> int:
    """Parse ``"1,000,000.05"`` or ``"23.4"`` into fen. Raises InvalidInputError."""
    if not isinstance(text, str):
        raise InvalidInputError("an amount in yuan must be text such as 1,000.00")
    cleaned = text.strip()
    negative = cleaned.startswith("-")
    if negative:
        cleaned = cleaned[1:]
    if not _AMOUNT_TEXT.match(cleaned):
        raise InvalidInputError(f"not an amount in yuan: {text!r}")
    whole, _, fraction = cleaned.replace(",", "").partition(".")
    fen = int(whole) * FEN_PER_YUAN + int((fraction + "00")[:2])
    return -fen if negative else fen


AMOUNT_FORMS = "yuan as 1,000.00, 1000 or 1000.5, or in capitals as 壹仟元整"
_CAPITAL_DIGITS = dict(zip("零壹贰叁肆伍陆柒捌玖", range(10), strict=True))
_CAPITAL_FRACTION = re.compile(r"^(?:([零壹贰叁肆伍陆柒捌玖])角)?零?(?:([壹贰叁肆伍陆柒捌玖])分)?[整正]?$")


def parse_amount(text: str) -> int:
    """An amount a clerk types, exactly in fen, never through a float: figures in yuan
    (``1,000.00``, ``1000``, ``1000.5``, optionally after ¥) or Chinese capitals
    (``壹仟元整``, ``人民币壹仟贰佰元伍角``). Raises InvalidInputError naming the accepted forms."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidInputError(f"an amount is {AMOUNT_FORMS}")
    cleaned = text.strip().lstrip("¥￥").strip()
    if cleaned and cleaned[0] in "零壹贰叁肆伍陆柒捌玖拾佰仟万亿人":
        fen = _parse_capitals(cleaned.removeprefix("人民币"))
    else:
        try:
            fen = parse_yuan(cleaned)
        except InvalidInputError:
            raise InvalidInputError(f"not an amount: {text!r}; an amount is {AMOUNT_FORMS}") from None
    if fen <= 0:
        raise InvalidInputError(f"an amount must be above zero: {text!r}")
    if fen > MAX_FEN:
        raise InvalidInputError(f"the amount {text!r} is too large")
    return fen


def _parse_capitals(text: str) -> int:
    yuan_text, sep, rest = text.replace("圆", "元").partition("元")
    if not sep:
        yuan_text, rest = "", text
    fraction = _CAPITAL_FRACTION.match(rest)
    if fraction is None:
        raise InvalidInputError(f"not an amount in capitals: {text!r}; an amount is {AMOUNT_FORMS}")
    yuan = 0
    if yuan_text:
        try:
            value = cn2an.cn2an(yuan_text, "strict")
        except (ValueError, KeyError, TypeError):
            raise InvalidInputError(
                f"not an amount in capitals: {text!r}; an amount is {AMOUNT_FORMS}"
            ) from None
        if not isinstance(value, int):
            raise InvalidInputError(f"whole yuan before 元 in capitals: {text!r}")
        yuan = value
    jiao = _CAPITAL_DIGITS[fraction.group(1)] if fraction.group(1) else 0
    fen = _CAPITAL_DIGITS[fraction.group(2)] if fraction.group(2) else 0
    return yuan * FEN_PER_YUAN + jiao * 10 + fen


def format_fen(fen: int) -> str:
    """Format fen as yuan with thousands separators: 100000005 -> ``"1,000,000.05"``."""
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), FEN_PER_YUAN)
    return f"{sign}{yuan:,}.{cents:02d}"


def chinese_capital(fen: int) -> str:
    """The amount in Chinese capitals (大写金额): 100000000 -> ``"壹佰万元整"``."""
    if fen < 0:
        raise InvalidInputError("a capital amount cannot be negative")
    if fen == 0:
        return "零元整"
    yuan, cents = divmod(fen, FEN_PER_YUAN)
    # cn2an is exact on a decimal string; never hand it a float.
    return str(cn2an.an2cn(f"{yuan}.{cents:02d}", "rmb"))


def half_up_div(numerator: int, denominator: int) -> int:
    """Integer division of non-negative integers rounded half up."""
    if numerator < 0 or denominator <= 0:
        raise ValueError("half_up_div takes a non-negative numerator and positive denominator")
    return (2 * numerator + denominator) // (2 * denominator)
