"""What a card PIN must be: 6 to 12 digits and, in production, not one anyone would try first."""

from __future__ import annotations

from typing import Any

from goldticket import domain as d


def weak_pin(pin: str) -> bool:
    """A PIN anyone would try first: one digit repeated (111111), a run up or down (123456,
    987654, 890123), or a repeated pair or triple (121212, 123123)."""
    digits = [int(c) for c in pin]
    steps = {(b - a) % 10 for a, b in zip(digits, digits[1:], strict=False)}
    if len(steps) == 1 and steps <= {0, 1, 9}:
        return True
    return any(len(pin) % size == 0 and pin == pin[:size] * (len(pin) // size) for size in (2, 3))


def check_pin(pin: Any, *, strict: bool = False) -> str:
    """A card PIN: 6 to 12 digits; with ``strict`` (production) not one anyone would guess."""
    if not isinstance(pin, str) or not pin.isdigit() or not 6 <= len(pin) <= 12:
        raise d.InvalidInputError("a card PIN is 6 to 12 digits")
    if strict and weak_pin(pin):
        raise d.InvalidInputError(
            "this PIN is too easy to guess (a repeated digit, a run like 123456 or a repeated pattern); choose another"
        )
    return pin
