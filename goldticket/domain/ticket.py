"""The ticket value and its invoices: one unspent piece of a payable, UTXO style."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import unicodedata
from typing import Any

from .errors import InvalidInputError
from .money import require_fen
from .status import TicketStatus

_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


def parse_date(value: Any, field: str) -> dt.date:
    """Accept a ``datetime.date`` or an ISO ``YYYY-MM-DD`` string. Raises InvalidInputError."""
    if isinstance(value, dt.datetime):
        raise InvalidInputError(f"{field} must be a date, not a date and time")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            if len(value) == 10:
                return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise InvalidInputError(f"{field} must be a date as YYYY-MM-DD")


_CONTROL = re.compile(r"[\x00-\x1f]")  # a control character: ord < 32


def require_text(value: Any, field: str, max_length: int = 128) -> str:
    """A non-empty string of at most ``max_length`` characters with no control characters."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(f"{field} must be a non-empty string")
    if len(value) > max_length or _CONTROL.search(value):
        raise InvalidInputError(f"{field} is too long or has control characters")
    return value


def normalise_invoice_number(number: str) -> str:
    """One spelling per invoice number: Unicode NFKC (full-width to ASCII), no outer spaces,
    inner runs of spaces as one, upper case. ``INV-9``, ``inv-9 `` and ``ＩＮＶ－９`` are one."""
    return " ".join(unicodedata.normalize("NFKC", number).split()).upper()


@dataclasses.dataclass(frozen=True)
class Invoice:
    """An invoice that backs a ticket: its number, face amount and document hash."""

    number: str
    amount_fen: int
    sha256: str

    def __post_init__(self) -> None:
        require_text(self.number, "invoice number", 64)
        object.__setattr__(self, "number", normalise_invoice_number(self.number))
        require_fen(self.amount_fen, "invoice amount_fen")
        if not isinstance(self.sha256, str) or not _SHA256_HEX.match(self.sha256):
            raise InvalidInputError("invoice sha256 must be 64 lowercase hex digits")

    @classmethod
    def from_dict(cls, data: Any) -> Invoice:
        if not isinstance(data, dict):
            raise InvalidInputError("an invoice must be an object with number, amount_fen and sha256")
        return cls(data.get("number"), data.get("amount_fen"), data.get("sha256"))  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, Any]:
        return {"number": self.number, "amount_fen": self.amount_fen, "sha256": self.sha256}


@dataclasses.dataclass(frozen=True)
class Ticket:
    """One piece of a gold ticket. Pieces are never edited in place by callers: every
    operation returns new values."""

    id: str
    root_id: str
    parent_id: str | None
    issuer_org_id: str
    holder_org_id: str
    amount_fen: int
    issue_date: dt.date
    maturity_date: dt.date
    status: TicketStatus
    invoices: tuple[Invoice, ...]
    tx_id: str
    credit_line_id: str | None = None
    offer_id: str | None = None
    application_id: str | None = None
    frozen_from: TicketStatus | None = None
    # why the term is over six months (domain.terms), stated at issue; None otherwise
    term_reason: str | None = None
    # days after maturity before an unpaid piece is overdue (domain.recourse), stated at issue;
    # None: not stated, the default applies
    grace_days: int | None = None
    # the SHA-256 of the issuer's payment commitment (付款承诺函, #21) signed by its clerk's card;
    # None: issued without one (before #21)
    commitment_sha256: str | None = None

    def with_changes(self, **changes: Any) -> Ticket:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        data = {
            "id": self.id,
            "root_id": self.root_id,
            "parent_id": self.parent_id,
            "issuer_org_id": self.issuer_org_id,
            "holder_org_id": self.holder_org_id,
            "amount_fen": self.amount_fen,
            "issue_date": self.issue_date.isoformat(),
            "maturity_date": self.maturity_date.isoformat(),
            "status": self.status.value,
            "invoices": [invoice.to_dict() for invoice in self.invoices],
            "tx_id": self.tx_id,
            "credit_line_id": self.credit_line_id,
            "offer_id": self.offer_id,
            "application_id": self.application_id,
            "frozen_from": self.frozen_from.value if self.frozen_from else None,
        }
        if self.term_reason is not None:  # only then: tickets written before it replay unchanged
            data["term_reason"] = self.term_reason
        if self.grace_days is not None:  # likewise
            data["grace_days"] = self.grace_days
        if self.commitment_sha256 is not None:  # likewise
            data["commitment_sha256"] = self.commitment_sha256
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Ticket:
        frozen_from = data.get("frozen_from")
        return cls(
            id=data["id"],
            root_id=data["root_id"],
            parent_id=data.get("parent_id"),
            issuer_org_id=data["issuer_org_id"],
            holder_org_id=data["holder_org_id"],
            amount_fen=data["amount_fen"],
            issue_date=dt.date.fromisoformat(data["issue_date"]),
            maturity_date=dt.date.fromisoformat(data["maturity_date"]),
            status=TicketStatus(data["status"]),
            invoices=tuple(Invoice.from_dict(item) for item in data.get("invoices", [])),
            tx_id=data["tx_id"],
            credit_line_id=data.get("credit_line_id"),
            offer_id=data.get("offer_id"),
            application_id=data.get("application_id"),
            frozen_from=TicketStatus(frozen_from) if frozen_from else None,
            term_reason=data.get("term_reason"),
            grace_days=data.get("grace_days"),
            commitment_sha256=data.get("commitment_sha256"),
        )
