"""Payment through the bank (#21): after settlement each paid piece waits for its bank's
confirmation. The issuer imports its bank's statement; each booked payment names the piece as its
end-to-end id. A piece is PAYMENT_PENDING until the bank has booked payments for it, PARTIALLY_PAID
while they add up to less than it is due (部分清偿), PAID when they add up to exactly its amount.
A payment is never booked twice (its bank reference), never to a piece the statement does not pay,
and never beyond what the piece is due. Pure: no I/O."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from .errors import InvalidInputError, RuleViolationError
from .money import require_fen
from .ticket import parse_date, require_text

PAYMENT_PENDING, PARTIALLY_PAID, PAID = "PAYMENT_PENDING", "PARTIALLY_PAID", "PAID"
MAX_ENTRIES = 1000


@dataclasses.dataclass(frozen=True)
class BankEntry:
    """One booked payment: the piece it pays (end-to-end id), the amount, the bank's reference
    and its booking date."""

    ticket_id: str
    amount_fen: int
    bank_reference: str
    booked_on: dt.date

    @classmethod
    def from_dict(cls, data: Any) -> BankEntry:
        if not isinstance(data, dict):
            raise InvalidInputError("each entry must be an object")
        return cls(
            ticket_id=require_text(data.get("ticket_id"), "ticket_id", 64),
            amount_fen=require_fen(data.get("amount_fen")),
            bank_reference=require_text(data.get("bank_reference"), "bank_reference", 64),
            booked_on=parse_date(data.get("booked_on"), "booked_on"),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "ticket_id": self.ticket_id,
            "amount_fen": self.amount_fen,
            "bank_reference": self.bank_reference,
            "booked_on": self.booked_on.isoformat(),
        }


def status_of(due_fen: int, paid_fen: int) -> str:
    if paid_fen <= 0:
        return PAYMENT_PENDING
    return PAID if paid_fen == due_fen else PARTIALLY_PAID


def apply_bank_entries(
    statement: dict[str, Any], recorded: dict[str, dict[str, Any]], entries: list[BankEntry], tx_id: str
) -> tuple[dict[str, dict[str, Any]], list[BankEntry]]:
    """The pieces' payment records after ``entries`` (only those that change), and the entries
    skipped because that bank reference is already booked for that piece (an import of the same
    statement again changes nothing). ``recorded``: ticket id -> its record so far.
    Raises RuleViolationError: a piece the statement does not pay, or more than a piece is due;
    InvalidInputError: no entries, too many, or a booking before the settlement."""
    if not entries:
        raise InvalidInputError("no bank entries to record")
    if len(entries) > MAX_ENTRIES:
        raise InvalidInputError(f"at most {MAX_ENTRIES} bank entries at once")
    due = {str(item["ticket_id"]): int(item["amount_fen"]) for item in statement["paid"]}
    settled_on = dt.date.fromisoformat(statement["settled_on"])
    changed: dict[str, dict[str, Any]] = {}
    skipped: list[BankEntry] = []
    for entry in entries:
        if entry.ticket_id not in due:
            raise RuleViolationError(
                f"statement {statement['statement_id']} pays no piece {entry.ticket_id}: the bank entry "
                f"{entry.bank_reference} is not for this settlement"
            )
        if entry.booked_on < settled_on:
            raise InvalidInputError(
                f"bank entry {entry.bank_reference} is booked on {entry.booked_on.isoformat()}, before the "
                f"settlement on {settled_on.isoformat()}"
            )
        record = changed.get(entry.ticket_id) or recorded.get(entry.ticket_id) or _new(entry.ticket_id, due)
        if any(p["bank_reference"] == entry.bank_reference for p in record["payments"]):
            skipped.append(entry)
            continue
        paid_fen = record["paid_fen"] + entry.amount_fen
        if paid_fen > record["due_fen"]:
            raise RuleViolationError(
                f"piece {entry.ticket_id} is due {record['due_fen']} fen; with bank entry "
                f"{entry.bank_reference} it would be paid {paid_fen} fen"
            )
        changed[entry.ticket_id] = {
            **record,
            "paid_fen": paid_fen,
            "status": status_of(record["due_fen"], paid_fen),
            "payments": [*record["payments"], {**entry.to_dict(), "tx_id": tx_id}],
        }
    return changed, skipped


def _new(ticket_id: str, due: dict[str, int]) -> dict[str, Any]:
    return {
        "ticket_id": ticket_id,
        "due_fen": due[ticket_id],
        "paid_fen": 0,
        "status": PAYMENT_PENDING,
        "payments": [],
    }


def reconciliation(statement: dict[str, Any], recorded: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Every piece the statement pays, with what the bank has booked for it (PAYMENT_PENDING
    where nothing yet), in the statement's order."""
    lines = []
    for item in statement["paid"]:
        ticket_id, due_fen = str(item["ticket_id"]), int(item["amount_fen"])
        record = recorded.get(ticket_id)
        paid_fen = int(record["paid_fen"]) if record else 0
        lines.append(
            {
                "ticket_id": ticket_id,
                "holder_org_id": item["holder_org_id"],
                "due_fen": due_fen,
                "paid_fen": paid_fen,
                "outstanding_fen": due_fen - paid_fen,
                "status": status_of(due_fen, paid_fen),
                "payments": list(record["payments"]) if record else [],
            }
        )
    return lines
