"""#21 payments booked by the bank, the pure rules: never more than a piece is due, never the
same bank reference twice, never a piece the statement does not pay; what is paid adds up."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from goldticket import domain as d

STATEMENT = {
    "statement_id": "ST1",
    "settled_on": "2027-03-01",
    "paid": [
        {"ticket_id": "TKa", "holder_org_id": "tier1", "amount_fen": 75_000_000},
        {"ticket_id": "TKb", "holder_org_id": "tier2", "amount_fen": 25_000_001},
    ],
}
DAY = dt.date(2027, 3, 2)


def entry(ticket_id: str, fen: int, reference: str) -> d.BankEntry:
    return d.BankEntry(ticket_id, fen, reference, DAY)


def test_a_piece_is_pending_then_partly_paid_then_paid() -> None:
    lines = d.reconciliation(STATEMENT, {})
    assert [line["status"] for line in lines] == ["PAYMENT_PENDING", "PAYMENT_PENDING"]
    changed, skipped = d.apply_bank_entries(STATEMENT, {}, [entry("TKa", 50_000_000, "R1")], "tx1")
    assert not skipped and changed["TKa"]["status"] == "PARTIALLY_PAID"
    changed, _ = d.apply_bank_entries(STATEMENT, changed, [entry("TKa", 25_000_000, "R2")], "tx2")
    assert changed["TKa"]["status"] == "PAID" and changed["TKa"]["paid_fen"] == 75_000_000
    lines = d.reconciliation(STATEMENT, changed)
    assert [(line["status"], line["outstanding_fen"]) for line in lines] == [
        ("PAID", 0),
        ("PAYMENT_PENDING", 25_000_001),
    ]


def test_refusals() -> None:
    with pytest.raises(d.RuleViolationError, match="pays no piece TKz"):
        d.apply_bank_entries(STATEMENT, {}, [entry("TKz", 1, "R1")], "tx")
    with pytest.raises(d.RuleViolationError, match="would be paid 25000002"):
        d.apply_bank_entries(STATEMENT, {}, [entry("TKb", 25_000_002, "R1")], "tx")
    with pytest.raises(d.InvalidInputError, match="before the settlement"):
        early = d.BankEntry("TKa", 1, "R1", dt.date(2027, 2, 28))
        d.apply_bank_entries(STATEMENT, {}, [early], "tx")
    with pytest.raises(d.InvalidInputError, match="no bank entries"):
        d.apply_bank_entries(STATEMENT, {}, [], "tx")
    for bad in ({"ticket_id": "TKa", "amount_fen": 0}, {"ticket_id": "TKa", "amount_fen": 1.5}, "x"):
        with pytest.raises(d.InvalidInputError):
            d.BankEntry.from_dict(bad)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["TKa", "TKb"]), st.integers(1, 80_000_000), st.sampled_from("ABCDEFG")),
        max_size=12,
    )
)
def test_what_is_recorded_adds_up_and_never_exceeds_what_is_due(raw) -> None:
    """Entries applied one import at a time, refused ones dropped: each piece's paid amount is the
    sum of its recorded payments, never above its due amount, each reference once; importing
    everything again changes nothing."""
    recorded: dict[str, dict] = {}
    for number, (ticket_id, fen, reference) in enumerate(raw):
        try:
            changed, _ = d.apply_bank_entries(
                STATEMENT, recorded, [entry(ticket_id, fen, reference)], f"tx{number}"
            )
        except d.RuleViolationError:
            continue
        recorded.update(changed)
    due = {item["ticket_id"]: item["amount_fen"] for item in STATEMENT["paid"]}
    for ticket_id, record in recorded.items():
        payments = record["payments"]
        assert record["paid_fen"] == sum(p["amount_fen"] for p in payments) <= due[ticket_id]
        assert len({p["bank_reference"] for p in payments}) == len(payments)
        assert record["status"] == ("PAID" if record["paid_fen"] == due[ticket_id] else "PARTIALLY_PAID")
        again = [entry(ticket_id, p["amount_fen"], p["bank_reference"]) for p in payments]
        changed, skipped = d.apply_bank_entries(STATEMENT, recorded, again, "again")
        assert changed == {} and len(skipped) == len(again)
    lines = d.reconciliation(STATEMENT, recorded)
    assert all(line["paid_fen"] + line["outstanding_fen"] == line["due_fen"] for line in lines)
