"""The invoice rule: one invoice document (known by its SHA-256) backs at most its face amount
across all tickets of all issuers ever; a known document under another number or face amount
is refused."""

from __future__ import annotations

from .errors import InvalidInputError, RuleViolationError
from .money import format_fen, require_fen
from .ticket import Invoice


def allocate_invoices(
    amount_fen: int, invoices: tuple[Invoice, ...], used_fen: dict[str, int]
) -> dict[str, int]:
    """Draw ``amount_fen`` from ``invoices`` in order, each up to its unused face amount.

    ``used_fen`` maps a document's SHA-256 -> fen already backing earlier tickets. Returns
    the new used amount of every document drawn on. Raises RuleViolationError when the
    invoices cannot cover the amount, or on a repeated invoice (the same document or the same
    number twice: a rule between items each valid by itself).
    """
    require_fen(amount_fen)
    if not invoices:
        raise InvalidInputError("a ticket needs at least one invoice")
    hashes = [invoice.sha256 for invoice in invoices]
    numbers = [invoice.number for invoice in invoices]
    if len(set(hashes)) != len(hashes) or len(set(numbers)) != len(numbers):
        raise RuleViolationError("an invoice is listed twice")
    remaining = amount_fen
    updated: dict[str, int] = {}
    for invoice in invoices:
        used = used_fen.get(invoice.sha256, 0)
        take = min(remaining, invoice.amount_fen - used)
        if take > 0:
            updated[invoice.sha256] = used + take
            remaining -= take
    if remaining > 0:
        covered = amount_fen - remaining
        face = sum(invoice.amount_fen for invoice in invoices)
        if face < amount_fen:
            raise RuleViolationError(
                f"the invoices add up to {format_fen(face)}, less than the ticket's "
                f"{format_fen(amount_fen)}: add invoices or issue a smaller ticket"
            )
        raise RuleViolationError(
            f"invoice already used: the invoices can back {format_fen(covered)} more, "
            f"not {format_fen(amount_fen)}"
        )
    return updated


def check_same_invoice(recorded: Invoice, given: Invoice) -> None:
    """A document already on the ledger must come back with the same (normalised) number and
    face amount."""
    if recorded != given:
        raise RuleViolationError(
            f"invoice {given.number} does not match the invoice recorded for that document "
            f"({recorded.number}, {format_fen(recorded.amount_fen)})"
        )
