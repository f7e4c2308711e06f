"""Credit lines that banks grant to core enterprises; issuing a ticket uses them."""

from __future__ import annotations

import dataclasses
from typing import Any

from .errors import InvalidInputError, RuleViolationError
from .money import format_fen, require_fen


@dataclasses.dataclass(frozen=True)
class CreditLine:
    id: str
    bank_org_id: str
    core_org_id: str
    limit_fen: int
    used_fen: int = 0

    def __post_init__(self) -> None:
        require_fen(self.limit_fen, "limit_fen")
        if self.bank_org_id == self.core_org_id:
            raise InvalidInputError("a bank cannot grant a credit line to itself")
        if isinstance(self.used_fen, bool) or not isinstance(self.used_fen, int):
            raise InvalidInputError("used_fen must be an integer number of fen")
        if not 0 <= self.used_fen <= self.limit_fen:
            raise InvalidInputError("used_fen must lie between 0 and the limit")

    @property
    def available_fen(self) -> int:
        return self.limit_fen - self.used_fen

    def reserve(self, amount_fen: int) -> CreditLine:
        """Use ``amount_fen`` of the line. Raises RuleViolationError when it does not fit."""
        require_fen(amount_fen)
        if amount_fen > self.available_fen:
            raise RuleViolationError(
                f"credit line exceeded: {format_fen(amount_fen)} asked, {format_fen(self.available_fen)} available"
            )
        return dataclasses.replace(self, used_fen=self.used_fen + amount_fen)

    def release(self, amount_fen: int) -> CreditLine:
        """Give back ``amount_fen`` (a rejected issue, a settled payment)."""
        require_fen(amount_fen)
        if amount_fen > self.used_fen:
            raise RuleViolationError("cannot release more credit than is used")
        return dataclasses.replace(self, used_fen=self.used_fen - amount_fen)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CreditLine:
        return cls(**data)


def choose_credit_line(lines: list[CreditLine], amount_fen: int) -> CreditLine:
    """The first line (by id) with room for ``amount_fen``. Raises RuleViolationError."""
    require_fen(amount_fen)
    for line in sorted(lines, key=lambda item: item.id):
        if line.available_fen >= amount_fen:
            return line
    if not lines:
        raise RuleViolationError("credit line exceeded: the core enterprise has no credit line")
    best = max(line.available_fen for line in lines)
    raise RuleViolationError(
        f"credit line exceeded: {format_fen(amount_fen)} asked, at most {format_fen(best)} available on one line"
    )
