"""#21 the bank's camt.053.001.08 statement: booked debits by end-to-end id, exact to the fen;
what is not a statement, or not safe to parse, is refused."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import camt053  # noqa: E402

from goldticket.payments import bank_statement  # noqa: E402

DAY = dt.date(2027, 3, 2)


def test_booked_debits_by_end_to_end_id() -> None:
    xml = camt053.statement("6222021000000001", [("TKa", 75_000_000, "R1"), ("TKb", 25_000_001, "R2")], DAY)
    found = bank_statement.booked_debits(xml)
    assert [(f.end_to_end_id, f.amount_fen, f.bank_reference, f.booked_on, f.account) for f in found] == [
        ("TKa", 75_000_000, "R1", DAY, "6222021000000001"),
        ("TKb", 25_000_001, "R2", DAY, "6222021000000001"),
    ]  # the unrelated credit is not a payment of ours


def test_pending_entries_are_not_payments() -> None:
    xml = camt053.statement("1", [("TKa", 1, "R1")], DAY, status="PDNG")
    assert bank_statement.booked_debits(xml) == []


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda x: x.replace(b"<Ntry>", b"<!DOCTYPE x [<!ENTITY e 'e'>]><Ntry>", 1), "DOCTYPE"),
        (lambda x: x.replace(b"camt.053.001.08", b"camt.053.001.02"), "namespace"),
        (lambda x: x.replace(b"</AcctSvcrRef>", b"</AcctSvcrRef><Bogus/>", 1), "Unknown property"),
        (lambda x: x.replace(b">750000.00<", b">750000.001<"), "whole fen"),
        (lambda x: x.replace(b'Ccy="CNY"', b'Ccy="USD"'), "USD"),
        (lambda x: x[:200], "not a camt.053"),
        (lambda x: b"x" * (bank_statement.MAX_BYTES + 1), "larger than"),
    ],
)
def test_refused(change, reason) -> None:
    xml = camt053.statement("1", [("TKa", 75_000_000, "R1")], DAY)
    with pytest.raises(bank_statement.BankStatementError, match=reason):
        bank_statement.booked_debits(change(xml))


def test_a_camt054_notification_reads_as_the_statement_of_the_same_entries() -> None:
    debits = [("TKa", 75_000_000, "R1"), ("TKb", 25_000_001, "R2")]
    statement = bank_statement.booked_debits(camt053.statement("6222021000000001", debits, DAY))
    notified = bank_statement.booked_debits(
        camt053.statement("6222021000000001", debits, DAY, notification=True)
    )
    assert notified == statement and len(notified) == 2


@pytest.mark.parametrize(
    "change, reason",
    [
        (lambda x: x.replace(b"camt.054.001.08", b"camt.054.001.02"), "namespace"),
        (
            lambda x: x.replace(
                b"</Document>", b"<!-- urn:iso:std:iso:20022:tech:xsd:camt.053.001.08 --></Document>"
            ),
            "namespace",
        ),
        (lambda x: x.replace(b"<Ntfctn>", b"<Ntfctn><Bogus/>"), "not a camt.054.001.08 notification"),
    ],
)
def test_a_camt054_notification_is_read_as_strictly(change, reason) -> None:
    xml = camt053.statement("1", [("TKa", 75_000_000, "R1")], DAY, notification=True)
    with pytest.raises(bank_statement.BankStatementError, match=reason):
        bank_statement.booked_debits(change(xml))
