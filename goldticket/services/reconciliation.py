"""Reconciliation with the issuer's bank (#21): after settlement every paid piece is
PAYMENT_PENDING until the bank has booked its payment. The issuer imports its bank's camt.053
statement: each booked debit whose end-to-end id is a piece of the settlement is recorded on the
ledger with the bank's reference (RecordBankPayments, signed with the issuer's card); what does
not match (another amount than the piece is still due, a piece of no settlement of this ticket)
is reported and recorded nowhere. The reconciliation shows each piece PAID, PARTIALLY_PAID or
PAYMENT_PENDING, to the parties as their clearing statement does."""

from __future__ import annotations

from typing import Any

from goldticket import domain as d
from goldticket.payments import bank_statement

from . import payments
from .certificates import statements
from .context import Actor
from .portal import Portal


def _recorded(portal: Portal, root_id: str, statement_id: str) -> dict[str, dict[str, Any]]:
    items = portal.platform.evaluate("GetBankPayments", {"root_id": root_id})["items"]
    return {str(item["ticket_id"]): item for item in items if item.get("statement_id") == statement_id}


def reconciliation(portal: Portal, actor: Actor, root_id: str, statement_id: str) -> dict[str, Any]:
    """Each piece the statement pays with what the bank booked for it, for a party to the
    statement (the issuer and the operator every line, a holder its own). Raises NotFoundError,
    ForbiddenError."""
    statement = statements.get_statement(portal.platform, actor, root_id, statement_id)
    lines = d.reconciliation(statement, _recorded(portal, root_id, statement_id))
    return {
        "root_id": root_id,
        "statement_id": statement_id,
        "settled_on": statement["settled_on"],
        "lines": lines,
        "due_fen": sum(line["due_fen"] for line in lines),
        "paid_fen": sum(line["paid_fen"] for line in lines),
        "outstanding_fen": sum(line["outstanding_fen"] for line in lines),
        "complete": all(line["status"] == "PAID" for line in lines),
    }


def _classify(portal: Portal, actor: Actor, root_id: str, statement_id: str, xml: bytes) -> dict[str, Any]:
    platform = portal.platform
    root = platform.lookup("ticket", d.require_text(root_id, "root_id", 64))
    if root is None or root["issuer_org_id"] != actor.member_id:
        raise d.NotFoundError(f"no bank reconciliation of ticket {root_id} for you: only its issuer pays it")
    statement = platform.evaluate(
        "GetStatement", {"root_id": root_id, "statement_id": d.require_text(statement_id, "statement_id", 64)}
    )
    try:
        debits = bank_statement.booked_debits(xml)
    except bank_statement.BankStatementError as error:
        raise d.InvalidInputError(str(error)) from None
    account = payments.registered_account(portal, actor.member_id)
    if account is None:
        raise d.RuleViolationError(
            "no registered settlement account: the desk registers it with the member's KYC"
        )
    others = sorted({debit.account for debit in debits if debit.account != account.number})
    if others:
        raise d.RuleViolationError(
            f"the statement is of account {', '.join(others)}, not your settlement account {account.number}"
        )
    due = {str(item["ticket_id"]): int(item["amount_fen"]) for item in statement["paid"]}
    recorded = _recorded(portal, root_id, statement_id)
    booked = {(ticket_id, p["bank_reference"]) for ticket_id, r in recorded.items() for p in r["payments"]}
    unknown = [debit for debit in debits if debit.end_to_end_id not in due]
    already, refused, entries = [], [], []
    outstanding = {t: due[t] - int(recorded.get(t, {}).get("paid_fen", 0)) for t in due}
    for debit in debits:
        if debit.end_to_end_id not in due:
            continue
        entry = d.BankEntry(debit.end_to_end_id, debit.amount_fen, debit.bank_reference, debit.booked_on)
        if (entry.ticket_id, entry.bank_reference) in booked:
            already.append(entry)
        elif entry.amount_fen > outstanding[entry.ticket_id]:
            refused.append(entry)
        else:
            outstanding[entry.ticket_id] -= entry.amount_fen
            entries.append(entry)
    return {
        "entries": entries,
        "recorded": [entry.to_dict() for entry in entries],
        "already": [entry.to_dict() for entry in already],
        "refused": [entry.to_dict() for entry in refused],
        "unknown": [
            {
                "end_to_end_id": debit.end_to_end_id,
                "amount_fen": debit.amount_fen,
                "bank_reference": debit.bank_reference,
                "booked_on": debit.booked_on.isoformat(),
            }
            for debit in unknown
        ],
    }


def preview_bank_statement(
    portal: Portal, actor: Actor, root_id: str, statement_id: str, xml: bytes
) -> dict[str, Any]:
    """What :func:`import_bank_statement` would record, already has, refuse and not know, with
    the same checks, before the issuer's card signs anything; nothing is written."""
    found = _classify(portal, actor, root_id, statement_id, xml)
    found.pop("entries")
    return found


def import_bank_statement(
    portal: Portal, actor: Actor, root_id: str, statement_id: str, xml: bytes, *, pin: str
) -> dict[str, Any]:
    """Record what the issuer's bank statement (camt.053.001.08, or a camt.054.001.08 debit
    notification) booked for this settlement and return the reconciliation with ``recorded``
    (entries recorded now), ``already`` (booked before: an import of the same statement again
    records nothing), ``refused`` (an amount the piece is not due) and ``unknown`` (debits that
    pay no piece of this settlement). The issuer only (NotFoundError for anyone else); the
    statement must be of the issuer's registered settlement account (RuleViolationError);
    InvalidInputError for a file that is no camt.053 or camt.054."""
    found = _classify(portal, actor, root_id, statement_id, xml)
    entries = found.pop("entries")
    if entries:
        request = {
            "root_id": root_id,
            "statement_id": statement_id,
            "entries": [entry.to_dict() for entry in entries],
        }
        portal.platform.submit(actor, "RecordBankPayments", request, pin=pin)
    return {**reconciliation(portal, actor, root_id, statement_id), **found}
