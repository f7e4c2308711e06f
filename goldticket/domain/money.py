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
