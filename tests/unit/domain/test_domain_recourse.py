"""Overdue and recourse (#21): grace days, when a piece is overdue, who may be demanded, and the
conservation rules (a demand never asks more than is unpaid; bank payments plus confirmed
recoveries never exceed the piece)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from goldticket.domain.errors import ForbiddenError, InvalidInputError, RuleViolationError, StateConflictError
from goldticket.domain.financing import apply_financing
from goldticket.domain.lifecycle import accept_ticket, issue_ticket, split_ticket
from goldticket.domain.recourse import (
    DEFAULT_GRACE_DAYS,
    close_demand,
    demand_payment,
    mark_overdue,
    obligors,
    overdue_on,
    require_grace_days,
    unpaid_fen,
)
from goldticket.domain.status import TicketStatus
from goldticket.domain.ticket import Invoice, Ticket

pytestmark = pytest.mark.unit
PROPERTY = settings(max_examples=150, deadline=None, database=None)
S = TicketStatus
CORE, A, B, BANK = "core", "sup-a", "sup-b", "bank"
ISSUE, MATURITY = dt.date(2026, 1, 1), dt.date(2026, 7, 1)
SHA = "ab" * 32


def root(grace_days: int | None = None, amount_fen: int = 100_000) -> Ticket:
    issued = issue_ticket(
        ticket_id="R",
        issuer_org_id=CORE,
        payee_org_id=A,
        amount_fen=amount_fen,
        issue_date=ISSUE,
        maturity_date=MATURITY,
        invoices=(Invoice("INV-1", 10**12, SHA),),
        tx_id="tx0",
        grace_days=grace_days,
    )
    return accept_ticket(issued, by_org_id=A)


def path_to_bank(amount_fen: int = 100_000) -> list[Ticket]:
    """root (held by A) -> P (A gave part to B) -> F (B financed all of P with the bank)."""
    r = root(amount_fen=amount_fen)
    _, p, _ = split_ticket(
        r, part_fen=amount_fen // 2, part_holder_org_id=B, part_status=S.ACTIVE, part_id="P", remainder_id="Q",
        tx_id="tx1",
    )  # fmt: skip
    _, f, _ = split_ticket(
        p, part_fen=p.amount_fen, part_holder_org_id=BANK, part_status=S.FINANCED, part_id="F",
        remainder_id="G", tx_id="tx2",
    )  # fmt: skip
    return [r.with_changes(status=S.SPLIT), p.with_changes(status=S.SPLIT), f]


def test_grace_days_are_bounded_and_default_to_three() -> None:
    assert root().grace_days is None and "grace_days" not in root().to_dict()
    assert overdue_on(root()) == MATURITY + dt.timedelta(days=DEFAULT_GRACE_DAYS + 1)
    assert overdue_on(root(0)) == MATURITY + dt.timedelta(days=1)
    assert root(30).to_dict()["grace_days"] == 30
    for bad in (-1, 31, 2.5, True, "3"):
        with pytest.raises(InvalidInputError):
            require_grace_days(bad)


def _mark(piece: Ticket, r: Ticket, today: dt.date, **kw):
    options = {"bank_paid_fen": 0, "already": None, "by_org_id": piece.holder_org_id, "operator": False}
    options.update(kw)
    return mark_overdue(piece, r, today=today, tx_id="tx9", **options)


def test_overdue_only_after_maturity_plus_grace_and_while_unpaid() -> None:
    r = root(grace_days=5)
    last_grace_day = MATURITY + dt.timedelta(days=5)
    with pytest.raises(RuleViolationError, match="not overdue"):
        _mark(r, r, last_grace_day)
    record = _mark(r, r, last_grace_day + dt.timedelta(days=1))
    assert (record["unpaid_fen"], record["grace_days"], record["status"]) == (100_000, 5, "OVERDUE")
    settled = r.with_changes(status=S.SETTLED)
    assert _mark(settled, r, dt.date(2027, 1, 1), bank_paid_fen=40_000)["unpaid_fen"] == 60_000
    with pytest.raises(RuleViolationError, match="paid in full"):
        _mark(settled, r, dt.date(2027, 1, 1), bank_paid_fen=100_000)
    with pytest.raises(StateConflictError, match="already"):
        _mark(r, r, dt.date(2027, 1, 1), already={"marked_on": "2026-07-09"})
    with pytest.raises(StateConflictError, match="frozen"):
        _mark(r.with_changes(status=S.FROZEN), r, dt.date(2027, 1, 1))


def test_only_the_holder_or_the_operator_marks_overdue() -> None:
    r = root()
    with pytest.raises(ForbiddenError):
        _mark(r, r, dt.date(2027, 1, 1), by_org_id=B)
    assert (
        _mark(r, r, dt.date(2027, 1, 1), by_org_id="operator", operator=True)["marked_by_org_id"]
        == "operator"
    )


def test_earlier_holders_are_liable_only_with_recourse() -> None:
    path = path_to_bank()
    assert obligors(path, {}) == {CORE: "issuer"}
    assert obligors(path, {"F": False}) == {CORE: "issuer"}
    assert obligors(path, {"F": True}) == {CORE: "issuer", A: "recourse", B: "recourse"}
    # a recourse financing lower down does not reach a piece above it
    assert obligors(path[:2], {"F": True}) == {CORE: "issuer"}
    with pytest.raises(RuleViolationError):
        obligors([path[0], path[2]], {"F": True})


def _demand(piece: Ticket, allowed: dict[str, str], amount_fen: int, unpaid: int, **kw):
    options = {
        "by_org_id": piece.holder_org_id,
        "obligor_org_id": CORE,
        "document_sha256": SHA,
        "open_demands": [],
    }
    options.update(kw)
    overdue = {"ticket_id": piece.id}
    return demand_payment(
        overdue, piece, allowed=allowed, amount_fen=amount_fen, unpaid=unpaid, demand_id="DM1",
        today=dt.date(2027, 1, 1), tx_id="tx", **options,
    )  # fmt: skip


def test_a_demand_is_the_holders_to_an_allowed_obligor_for_no_more_than_is_unpaid() -> None:
    piece = path_to_bank()[-1]
    allowed = {CORE: "issuer"}
    demand = _demand(piece, allowed, 50_000, 50_000)
    assert (demand["status"], demand["basis"], demand["obligor_org_id"]) == ("OPEN", "issuer", CORE)
    with pytest.raises(ForbiddenError, match="only the holder"):
        _demand(piece, allowed, 1, 50_000, by_org_id=A)
    with pytest.raises(ForbiddenError, match="not liable"):
        _demand(piece, allowed, 1, 50_000, obligor_org_id=B)
    with pytest.raises(RuleViolationError, match="unpaid"):
        _demand(piece, allowed, 50_001, 50_000)
    with pytest.raises(RuleViolationError, match="paid in full"):
        _demand(piece, allowed, 1, 0)
    with pytest.raises(StateConflictError, match="already open"):
        _demand(piece, allowed, 1, 50_000, open_demands=[demand])
    with pytest.raises(InvalidInputError):
        _demand(piece, allowed, 1, 50_000, document_sha256="not-a-hash")


def test_closing_a_demand() -> None:
    piece = path_to_bank()[-1]
    demand = _demand(piece, {CORE: "issuer"}, 30_000, 50_000)
    overdue = {"ticket_id": piece.id, "recovered_fen": 0}

    def close(by: str, outcome: str, unpaid: int, reference: str | None = None):
        return close_demand(
            demand, overdue, by_org_id=by, outcome=outcome, unpaid=unpaid, payment_reference=reference,
            today=dt.date(2027, 2, 1), tx_id="txc",
        )  # fmt: skip

    closed, after = close(BANK, "paid", 50_000, "WIRE-1")
    assert (closed["status"], closed["paid_by"], after["recovered_fen"]) == ("PAID", "obligor", 30_000)
    with pytest.raises(ForbiddenError, match="own word"):
        close(CORE, "paid", 50_000, "WIRE-1")
    with pytest.raises(RuleViolationError, match="unpaid by the bank"):
        close(CORE, "paid", 50_000)
    assert close(CORE, "paid", 0)[0]["paid_by"] == "bank"
    with pytest.raises(RuleViolationError, match="less than"):
        close(BANK, "paid", 29_999, "WIRE-1")
    with pytest.raises(ForbiddenError, match="writes off"):
        close(CORE, "written_off", 50_000)
    assert close(BANK, "written_off", 50_000)[0]["status"] == "WRITTEN_OFF"
    with pytest.raises(ForbiddenError):
        close(A, "written_off", 50_000)
    with pytest.raises(StateConflictError, match="already paid"):
        close_demand(
            closed, after, by_org_id=BANK, outcome="written_off", unpaid=0, payment_reference=None,
            today=dt.date(2027, 2, 1), tx_id="t",
        )  # fmt: skip


@PROPERTY
@given(
    amount=st.integers(min_value=2, max_value=10**9),
    bank_share=st.integers(min_value=0, max_value=100),
    steps=st.lists(st.tuples(st.integers(min_value=1, max_value=10**9), st.booleans()), max_size=12),
)
def test_demands_never_exceed_the_unpaid_and_payments_never_the_piece(amount, bank_share, steps) -> None:
    """Whatever demands are made and however they are closed, each demand asks at most what is
    unpaid when it is made, and bank payments plus recoveries never exceed the piece."""
    piece = root(amount_fen=amount)
    bank_paid = amount * bank_share // 100
    overdue = (
        _mark(piece, piece, dt.date(2027, 1, 1), bank_paid_fen=bank_paid) if bank_paid < amount else None
    )
    if overdue is None:
        return
    for index, (asked, pay) in enumerate(steps):
        unpaid = unpaid_fen(piece, bank_paid, overdue["recovered_fen"])
        try:
            demand = demand_payment(
                overdue, piece, by_org_id=A, obligor_org_id=CORE, allowed={CORE: "issuer"}, amount_fen=asked,
                document_sha256=SHA, unpaid=unpaid, open_demands=[], demand_id=f"D{index}",
                today=dt.date(2027, 1, 1), tx_id="t",
            )  # fmt: skip
        except RuleViolationError:
            assert asked > unpaid or unpaid == 0
            continue
        assert demand["amount_fen"] <= unpaid
        # another demand may have been paid meanwhile: the unpaid amount can shrink
        unpaid_now = unpaid_fen(piece, bank_paid, overdue["recovered_fen"])
        kwargs = {"by_org_id": A, "unpaid": unpaid_now, "today": dt.date(2027, 1, 2), "tx_id": "t"}
        if pay and demand["amount_fen"] > unpaid_now:
            with pytest.raises(RuleViolationError):
                close_demand(demand, overdue, outcome="paid", payment_reference="W", **kwargs)
        else:
            outcome, reference = ("paid", "W") if pay else ("written_off", None)
            _, overdue = close_demand(demand, overdue, outcome=outcome, payment_reference=reference, **kwargs)
        assert bank_paid + overdue["recovered_fen"] <= amount


def test_financing_states_recourse_only_when_chosen() -> None:
    r = root()
    _, application = apply_financing(
        r, by_org_id=A, bank_org_id=BANK, amount_fen=1, max_annual_rate_bp=500, application_id="FA",
        today=ISSUE,
    )  # fmt: skip
    assert "recourse" not in application.to_dict()
    _, with_recourse = apply_financing(
        r, by_org_id=A, bank_org_id=BANK, amount_fen=1, max_annual_rate_bp=500, application_id="FA",
        today=ISSUE, recourse=True,
    )  # fmt: skip
    assert with_recourse.to_dict()["recourse"] is True
    with pytest.raises(InvalidInputError):
        apply_financing(
            r, by_org_id=A, bank_org_id=BANK, amount_fen=1, max_annual_rate_bp=500, application_id="FA",
            today=ISSUE, recourse="yes",
        )  # fmt: skip


def test_the_rules_refuse_what_does_not_fit_together() -> None:
    """Each guard of the rules, on its own: inconsistent payments, another root, a closed piece,
    no path, another piece's overdue record, a holder demanding of itself, a stranger closing,
    an unknown outcome."""
    r = root()
    with pytest.raises(RuleViolationError, match="inconsistent"):
        unpaid_fen(r, 60_000, 50_000)
    with pytest.raises(RuleViolationError, match="inconsistent"):
        unpaid_fen(r, -1, 0)
    other = r.with_changes(id="R2", root_id="R2")
    with pytest.raises(RuleViolationError, match="not the root"):
        _mark(r, other, dt.date(2027, 1, 1))
    with pytest.raises(StateConflictError, match="nothing is owed"):
        _mark(r.with_changes(status=S.SPLIT), r, dt.date(2027, 1, 1))
    with pytest.raises(InvalidInputError):
        obligors([], {})
    piece = path_to_bank()[-1]
    with pytest.raises(StateConflictError, match="not marked overdue"):
        demand_payment(
            {"ticket_id": "another"}, piece, by_org_id=BANK, obligor_org_id=CORE, allowed={CORE: "issuer"},
            amount_fen=1, document_sha256=SHA, unpaid=10, open_demands=[], demand_id="D", today=ISSUE, tx_id="t",
        )  # fmt: skip
    with pytest.raises(InvalidInputError, match="itself"):
        _demand(piece, {CORE: "issuer"}, 1, 10, obligor_org_id=BANK)
    demand = _demand(piece, {CORE: "issuer"}, 5, 10)
    overdue = {"ticket_id": piece.id, "recovered_fen": 0}
    kwargs = {"unpaid": 0, "payment_reference": None, "today": ISSUE, "tx_id": "t"}
    with pytest.raises(ForbiddenError, match="only the holder or the obligor"):
        close_demand(demand, overdue, by_org_id=A, outcome="paid", **kwargs)
    with pytest.raises(InvalidInputError, match="outcome"):
        close_demand(demand, overdue, by_org_id=BANK, outcome="forgiven", **kwargs)
