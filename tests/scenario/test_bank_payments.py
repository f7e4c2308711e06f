"""#21 on every ledger: the issuer records what its bank booked for a settlement's pieces
(RecordBankPayments); nobody else may; never more than a piece is due, never a piece the
statement does not pay; the same bank reference again changes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from support import PIN, on

from goldticket import domain as d
from goldticket.services import members, settlement

pytestmark = pytest.mark.scenario


@pytest.fixture
def settled(consortium, issued_ticket):
    c = consortium
    maturity = dt.date.fromisoformat(str(issued_ticket["maturity_date"]))
    at_maturity = on(c.platform, maturity)
    statement = settlement.settle_ticket(at_maturity, c.core, issued_ticket["id"], pin=PIN)
    return at_maturity, statement


def _record(platform, actor, statement, entries):
    request = {"root_id": statement["root_id"], "statement_id": statement["statement_id"], "entries": entries}
    return platform.submit(actor, "RecordBankPayments", request, pin=PIN).result


def test_the_issuer_records_its_banks_payments(consortium, settled) -> None:
    platform, statement = settled
    (piece,) = statement["paid"]
    half = piece["amount_fen"] // 2
    booked = {"ticket_id": piece["ticket_id"], "booked_on": statement["settled_on"]}
    first = _record(
        platform, consortium.core, statement, [{**booked, "amount_fen": half, "bank_reference": "R1"}]
    )
    assert [r["status"] for r in first["recorded"]] == ["PARTIALLY_PAID"]
    with pytest.raises(d.StateConflictError, match="already recorded"):
        _record(
            platform, consortium.core, statement, [{**booked, "amount_fen": half, "bank_reference": "R1"}]
        )
    both = [
        {**booked, "amount_fen": half, "bank_reference": "R1"},
        {**booked, "amount_fen": 1, "bank_reference": "R9"},
    ]
    mixed = _record(platform, consortium.core, statement, both)
    assert len(mixed["skipped"]) == 1 and mixed["recorded"][0]["paid_fen"] == half + 1
    half += 1
    rest = piece["amount_fen"] - half
    done = _record(
        platform, consortium.core, statement, [{**booked, "amount_fen": rest, "bank_reference": "R2"}]
    )
    assert done["recorded"][0]["status"] == "PAID" and done["recorded"][0]["paid_fen"] == piece["amount_fen"]
    items = platform.evaluate("GetBankPayments", {"root_id": statement["root_id"]})["items"]
    assert [(i["ticket_id"], i["paid_fen"], i["status"]) for i in items] == [
        (piece["ticket_id"], piece["amount_fen"], "PAID")
    ]
    with pytest.raises(d.RuleViolationError, match="would be paid"):
        _record(platform, consortium.core, statement, [{**booked, "amount_fen": 1, "bank_reference": "R3"}])


def test_only_the_issuer_records_and_only_its_pieces(consortium, settled) -> None:
    platform, statement = settled
    (piece,) = statement["paid"]
    entry = {
        "ticket_id": piece["ticket_id"],
        "amount_fen": piece["amount_fen"],
        "bank_reference": "R1",
        "booked_on": statement["settled_on"],
    }
    other_core = members.add_user(
        platform,
        platform.desk(),
        member_id=members.register_member(
            platform, platform.desk(), member_id="core2", name="另一核心企业", role="core"
        )["id"],
        username="core2.clerk",
        pin=PIN,
    )
    # the holder paid, a bank, another core enterprise: not the payer
    for other in (consortium.tier1, consortium.bank, other_core):
        with pytest.raises(d.ForbiddenError):
            _record(platform, other, statement, [entry])
    with pytest.raises(d.RuleViolationError, match="pays no piece"):
        _record(platform, consortium.core, statement, [{**entry, "ticket_id": "TK00000000000000000000"}])
    with pytest.raises(d.RuleViolationError, match="would be paid"):
        _record(platform, consortium.core, statement, [{**entry, "amount_fen": piece["amount_fen"] + 1}])
    assert platform.evaluate("GetBankPayments", {"root_id": statement["root_id"]})["items"] == []
