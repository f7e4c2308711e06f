"""Credit lines: a bank offers one to a core enterprise, the core accepts (or declines) it;
issuing a ticket draws on an active line only."""

from __future__ import annotations

import dataclasses
from typing import Any

from .errors import ForbiddenError, InvalidInputError, RuleViolationError, StateConflictError
from .money import format_fen, require_fen

OFFERED, ACTIVE, DECLINED = "offered", "active", "declined"
STATUSES = (OFFERED, ACTIVE, DECLINED)


@dataclasses.dataclass(frozen=True)
class CreditLine:
    id: str
    bank_org_id: str
    core_org_id: str
    limit_fen: int
    used_fen: int = 0
    # "offered" until the core accepts ("active") or declines ("declined"). None: a line granted
    # before offers existed, active as it always was (old ledgers replay; docs/decisions.md).
    status: str | None = None

    def __post_init__(self) -> None:
        if self.status not in (None, *STATUSES):
            raise InvalidInputError(f"a credit line's status is one of {', '.join(STATUSES)}")
        require_fen(self.limit_fen, "limit_fen")
        if self.bank_org_id == self.core_org_id:
            raise InvalidInputError("a bank cannot grant a credit line to itself")
        if isinstance(self.used_fen, bool) or not isinstance(self.used_fen, int):
            raise InvalidInputError("used_fen must be an integer number of fen")
        if not 0 <= self.used_fen <= self.limit_fen:
            raise InvalidInputError("used_fen must lie between 0 and the limit")

    @property
    def active(self) -> bool:
        return self.status in (None, ACTIVE)

    def answer(self, *, by_org_id: str, accept: bool) -> CreditLine:
        """The core enterprise accepts or declines the line offered to it."""
        if by_org_id != self.core_org_id:
            raise ForbiddenError(
                f"only the core enterprise credit line {self.id} is offered to may answer it"
            )
        if self.status != OFFERED:
            raise StateConflictError(f"credit line {self.id} is {self.status or ACTIVE}, not offered")
        return dataclasses.replace(self, status=ACTIVE if accept else DECLINED)

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
        data = dataclasses.asdict(self)
        if self.status is None:
            data.pop("status")  # an old line keeps the bytes it always had
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CreditLine:
        return cls(**data)


def offer_credit_line(line_id: str, *, bank_org_id: str, core_org_id: str, limit_fen: int) -> CreditLine:
    """A bank offers a core enterprise a line; nothing is drawn on it until the core accepts."""
    return CreditLine(line_id, bank_org_id, core_org_id, limit_fen, status=OFFERED)


def choose_credit_line(lines: list[CreditLine], amount_fen: int) -> CreditLine:
    """The first active line (by id) with room for ``amount_fen``. Lines offered and not
    accepted, or declined, are never drawn. Raises RuleViolationError."""
    require_fen(amount_fen)
    lines = [line for line in lines if line.active]
    for line in sorted(lines, key=lambda item: item.id):
        if line.available_fen >= amount_fen:
            return line
    if not lines:
        raise RuleViolationError("credit line exceeded: the core enterprise has no credit line")
    best = max(line.available_fen for line in lines)
    raise RuleViolationError(
        f"credit line exceeded: {format_fen(amount_fen)} asked, at most {format_fen(best)} available on one line"
    )
