"""Settlement at maturity; credit lines; the invoice rule."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from goldticket.domain.credit import CreditLine, choose_credit_line
from goldticket.domain.errors import ForbiddenError, InvalidInputError, RuleViolationError, StateConflictError
from goldticket.domain.financing import apply_financing, approve_financing, reject_financing
from goldticket.domain.invoices import allocate_invoices, check_same_invoice
from goldticket.domain.lifecycle import (
    accept_ticket,
    cancel_ticket,
    freeze_ticket,
    issue_ticket,
    reject_ticket,
    unfreeze_ticket,
)
from goldticket.domain.settlement import Payment, SettlementPlan, plan_settlement, settle_piece
from goldticket.domain.status import LIVE, TicketStatus
from goldticket.domain.ticket import Invoice, Ticket, normalise_invoice_number
from goldticket.domain.transfer import accept_offer, close_offer, offer_transfer

pytestmark = pytest.mark.unit

PROPERTY = settings(max_examples=150, deadline=None, database=None)
S = TicketStatus

CORE, SUP_A, SUP_B, SUP_C, BANK = "org-core", "org-sup-a", "org-sup-b", "org-sup-c", "org-bank"
ISSUE = dt.date(2026, 1, 1)
MATURITY = dt.date(2026, 7, 1)
BEFORE = dt.date(2026, 2, 1)
SHA = "ab" * 32


def issued(amount_fen: int = 100_000_000, ticket_id: str = "T") -> Ticket:
    return issue_ticket(
        ticket_id=ticket_id,
        issuer_org_id=CORE,
        payee_org_id=SUP_A,
        amount_fen=amount_fen,
        issue_date=ISSUE,
        maturity_date=MATURITY,
        invoices=(Invoice("INV-001", 10**15, SHA),),
        tx_id="tx-issue",
        credit_line_id="CL-1",
    )


def active(amount_fen: int = 100_000_000, ticket_id: str = "T") -> Ticket:
    return accept_ticket(issued(amount_fen, ticket_id), by_org_id=SUP_A)


def transfer(ticket: Ticket, amount_fen: int, to: str, offer_id: str) -> tuple[Ticket, Ticket, Ticket | None]:
    locked, offer = offer_transfer(
        ticket,
        by_org_id=ticket.holder_org_id,
        to_org_id=to,
        amount_fen=amount_fen,
        offer_id=offer_id,
        today=BEFORE,
    )
    parent, part, remainder, _ = accept_offer(
        locked,
        offer,
        by_org_id=to,
        transferred_id=f"{ticket.id}.t",
        remainder_id=f"{ticket.id}.r",
        tx_id=offer_id,
    )
    return parent, part, remainder


def finance(ticket: Ticket, amount_fen: int, application_id: str) -> tuple[Ticket, Ticket, Ticket | None]:
    locked, application = apply_financing(
        ticket,
        by_org_id=ticket.holder_org_id,
        bank_org_id=BANK,
        max_annual_rate_bp=10_000,
        amount_fen=amount_fen,
        application_id=application_id,
        today=BEFORE,
    )
    parent, financed, remainder, _, _ = approve_financing(
        locked,
        application,
        by_org_id=BANK,
        annual_rate_bp=262,
        value_date=BEFORE,
        day_basis=360,
        fee_bp=0,
        financed_id=f"{ticket.id}.f",
        remainder_id=f"{ticket.id}.r",
        tx_id=application_id,
    )
    return parent, financed, remainder


def plan(root: Ticket, pieces: list[Ticket], today: dt.date = MATURITY, by: str = CORE) -> SettlementPlan:
    return plan_settlement(root, pieces, by_org_id=by, today=today)


def build_tree() -> dict[str, Ticket]:
    """A root of 1,000,000.00 split and financed into every kind of live piece.

    T (SPLIT) -> T.t  SUP_B 30M, then offered on (LOCKED_TRANSFER, offer O-open)
              -> T.r  (SPLIT) -> T.r.f  BANK 20M FINANCED
                              -> T.r.r  (SPLIT) -> T.r.r.t  SUP_C 5M, frozen
                                                -> T.r.r.r  SUP_A 45M, applied for (LOCKED_FINANCING, A-open)
    """
    t = active()
    t, a, b = transfer(t, 30_000_000, SUP_B, "O-1")
    assert b is not None
    b, financed, c = finance(b, 20_000_000, "A-1")
    assert c is not None
    c, d, e = transfer(c, 5_000_000, SUP_C, "O-2")
    assert e is not None
    a, _ = offer_transfer(
        a, by_org_id=SUP_B, to_org_id=SUP_C, amount_fen=1_000, offer_id="O-open", today=BEFORE
    )
    e, _ = apply_financing(
        e,
        by_org_id=SUP_A,
        bank_org_id=BANK,
        max_annual_rate_bp=10_000,
        amount_fen=45_000_000,
        application_id="A-open",
        today=BEFORE,
    )
    d = freeze_ticket(d)
    return {ticket.id: ticket for ticket in (t, a, b, financed, c, d, e)}


# --- plan_settlement --------------------------------------------------------------------------


def test_settlement_pays_live_pieces_and_withholds_frozen_ones() -> None:
    tree = build_tree()
    assert [tree[i].status for i in ("T.t", "T.r.f", "T.r.r.t", "T.r.r.r")] == [
        S.LOCKED_TRANSFER,
        S.FINANCED,
        S.FROZEN,
        S.LOCKED_FINANCING,
    ]
    result = plan(tree["T"], list(tree.values()))
    assert result.root_id == "T"
    assert result.paid == (
        Payment("T.r.f", BANK, 20_000_000),
        Payment("T.r.r.r", SUP_A, 45_000_000),
        Payment("T.t", SUP_B, 30_000_000),
    )
    assert result.withheld == (Payment("T.r.r.t", SUP_C, 5_000_000),)
    assert result.total_paid_fen == 95_000_000
    assert result.total_withheld_fen == 5_000_000
    assert result.previously_settled_fen == 0
    assert result.cancelled_offer_ids == ("O-open",)
    assert result.cancelled_application_ids == ("A-open",)
    data = result.to_dict()
    assert data["total_paid_fen"] + data["total_withheld_fen"] == 100_000_000
    assert data["cancelled_offer_ids"] == ["O-open"]
    assert data["paid"][0] == {"ticket_id": "T.r.f", "holder_org_id": BANK, "amount_fen": 20_000_000}


def test_second_settlement_pays_the_unfrozen_piece() -> None:
    tree = build_tree()
    first = plan(tree["T"], list(tree.values()))
    for payment in first.paid:
        settled = settle_piece(tree[payment.ticket_id])
        assert settled.status is S.SETTLED
        assert settled.offer_id is None and settled.application_id is None
        tree[settled.id] = settled

    with pytest.raises(StateConflictError, match="no piece left to pay"):
        plan(tree["T"], list(tree.values()), today=MATURITY + dt.timedelta(days=30))

    tree["T.r.r.t"] = unfreeze_ticket(tree["T.r.r.t"])
    assert tree["T.r.r.t"].status is S.ACTIVE
    second = plan(tree["T"], list(tree.values()), today=MATURITY + dt.timedelta(days=30))
    assert second.paid == (Payment("T.r.r.t", SUP_C, 5_000_000),)
    assert second.withheld == ()
    assert second.previously_settled_fen == 95_000_000
    assert second.cancelled_offer_ids == () and second.cancelled_application_ids == ()
    assert second.total_paid_fen + second.previously_settled_fen == 100_000_000

    tree["T.r.r.t"] = settle_piece(tree["T.r.r.t"])
    with pytest.raises(StateConflictError):
        plan(tree["T"], list(tree.values()), today=MATURITY + dt.timedelta(days=30))


def test_unsplit_root_is_paid_to_its_holder() -> None:
    root = active(12_345)
    result = plan(root, [root])
    assert result.paid == (Payment("T", SUP_A, 12_345),)
    assert result.withheld == () and result.previously_settled_fen == 0


def test_overdue_pieces_are_paid_long_after_maturity() -> None:
    root = active(12_345)
    assert plan(root, [root], today=dt.date(2030, 1, 1)).total_paid_fen == 12_345


@pytest.mark.parametrize("today", [MATURITY - dt.timedelta(days=1), BEFORE, ISSUE])
def test_settlement_before_maturity_is_refused(today: dt.date) -> None:
    root = active()
    with pytest.raises(RuleViolationError, match="not yet mature"):
        plan(root, [root], today=today)


@pytest.mark.parametrize("org", [SUP_A, SUP_B, BANK])
def test_only_the_issuer_settles(org: str) -> None:
    root = active()
    with pytest.raises(ForbiddenError):
        plan(root, [root], by=org)


@pytest.mark.parametrize(
    "root",
    [
        issued(),
        reject_ticket(issued(), by_org_id=SUP_A),
        cancel_ticket(issued(), by_org_id=CORE),
    ],
    ids=["pending", "rejected", "cancelled"],
)
def test_a_never_accepted_root_has_nothing_to_settle(root: Ticket) -> None:
    with pytest.raises(StateConflictError):
        plan(root, [root])


def test_a_root_frozen_before_acceptance_pays_nothing() -> None:
    root = freeze_ticket(issued())
    with pytest.raises(StateConflictError):
        plan(root, [root])


def test_a_piece_is_not_a_root() -> None:
    tree = build_tree()
    with pytest.raises(RuleViolationError, match="is a piece"):
        plan(tree["T.r"], list(tree.values()))


def test_pieces_of_another_ticket_are_refused() -> None:
    root = active(100, "T")
    stranger = active(100, "U")
    with pytest.raises(RuleViolationError, match="another ticket"):
        plan(root, [root, stranger])


def test_missing_pieces_are_an_inconsistent_ledger() -> None:
    tree = build_tree()
    del tree["T.r.f"]
    with pytest.raises(RuleViolationError, match="ledger inconsistent"):
        plan(tree["T"], list(tree.values()))


# --- settle_piece -----------------------------------------------------------------------------


def test_settle_piece_for_each_payable_state() -> None:
    tree = build_tree()
    for ticket_id in ("T.t", "T.r.f", "T.r.r.r"):
        settled = settle_piece(tree[ticket_id])
        assert settled.status is S.SETTLED
        assert settled.amount_fen == tree[ticket_id].amount_fen
        assert settled.holder_org_id == tree[ticket_id].holder_org_id
    assert settle_piece(active()).status is S.SETTLED


@pytest.mark.parametrize("ticket_id", ["T", "T.r", "T.r.r.t"])
def test_settle_piece_refuses_split_and_frozen(ticket_id: str) -> None:
    with pytest.raises(StateConflictError):
        settle_piece(build_tree()[ticket_id])


def test_settle_piece_refuses_pending_and_settled() -> None:
    with pytest.raises(StateConflictError):
        settle_piece(issued())
    with pytest.raises(StateConflictError):
        settle_piece(settle_piece(active()))


# --- property: any tree -----------------------------------------------------------------------

ACTIONS = [
    "transfer",
    "transfer-rejected",
    "finance",
    "finance-rejected",
    "leave-offer-open",
    "leave-application-open",
]
PAYEES = [SUP_A, SUP_B, SUP_C, "org-sup-d"]


def _grow(root: Ticket, data: st.DataObject) -> dict[str, Ticket]:
    tickets = {root.id: root}
    for step in range(data.draw(st.integers(min_value=0, max_value=12), label="steps")):
        movable = sorted(t.id for t in tickets.values() if t.status is S.ACTIVE)
        if not movable:
            break
        piece = tickets[data.draw(st.sampled_from(movable), label="piece")]
        amount = data.draw(st.integers(min_value=1, max_value=piece.amount_fen), label="amount")
        action = data.draw(st.sampled_from(ACTIONS), label="action")
        payee = data.draw(st.sampled_from([p for p in PAYEES if p != piece.holder_org_id]), label="payee")
        changed: list[Ticket | None]
        if action == "transfer":
            changed = list(transfer(piece, amount, payee, f"O-{step}"))
        elif action == "finance":
            changed = list(finance(piece, amount, f"A-{step}"))
        elif action == "leave-offer-open":
            changed = [
                offer_transfer(
                    piece,
                    by_org_id=piece.holder_org_id,
                    to_org_id=payee,
                    amount_fen=amount,
                    offer_id=f"O-{step}",
                    today=BEFORE,
                )[0]
            ]
        elif action == "leave-application-open":
            changed = [
                apply_financing(
                    piece,
                    by_org_id=piece.holder_org_id,
                    bank_org_id=BANK,
                    max_annual_rate_bp=10_000,
                    amount_fen=amount,
                    application_id=f"A-{step}",
                    today=BEFORE,
                )[0]
            ]
        elif action == "transfer-rejected":
            locked, offer = offer_transfer(
                piece,
                by_org_id=piece.holder_org_id,
                to_org_id=payee,
                amount_fen=amount,
                offer_id=f"O-{step}",
                today=BEFORE,
            )
            changed = [close_offer(locked, offer, by_org_id=payee, outcome="REJECTED")[0]]
        else:
            locked, application = apply_financing(
                piece,
                by_org_id=piece.holder_org_id,
                bank_org_id=BANK,
                max_annual_rate_bp=10_000,
                amount_fen=amount,
                application_id=f"A-{step}",
                today=BEFORE,
            )
            changed = [reject_financing(locked, application, by_org_id=BANK, reason="no")[0]]
        for ticket in changed:
            if ticket is not None:
                tickets[ticket.id] = ticket
    return tickets


@PROPERTY
@given(st.integers(min_value=1, max_value=10**15), st.data())
def test_any_tree_settles_to_the_root_amount(root_amount: int, data: st.DataObject) -> None:
    root = active(root_amount, "R")
    tickets = _grow(root, data)
    leaves = sorted(t.id for t in tickets.values() if t.status is not S.SPLIT)
    assert all(tickets[i].status in LIVE for i in leaves)
    assert sum(tickets[i].amount_fen for i in leaves) == root_amount
    frozen = {i for i in leaves if data.draw(st.booleans(), label=f"freeze {i}")}
    for ticket_id in frozen:
        tickets[ticket_id] = freeze_ticket(tickets[ticket_id])

    today = MATURITY + dt.timedelta(
        days=data.draw(st.integers(min_value=0, max_value=400), label="days late")
    )
    if frozen == set(leaves):
        with pytest.raises(StateConflictError):
            plan(tickets["R"], list(tickets.values()), today=today)
        return
    result = plan(tickets["R"], list(tickets.values()), today=today)

    assert result.total_paid_fen + result.total_withheld_fen == root_amount
    assert result.previously_settled_fen == 0
    assert {p.ticket_id for p in result.paid} == set(leaves) - frozen
    assert {p.ticket_id for p in result.withheld} == frozen
    for payment in (*result.paid, *result.withheld):
        ticket = tickets[payment.ticket_id]
        assert (payment.holder_org_id, payment.amount_fen) == (ticket.holder_org_id, ticket.amount_fen)
        assert payment.amount_fen >= 1
    paid_ids = {p.ticket_id for p in result.paid}
    assert set(result.cancelled_offer_ids) == {
        tickets[i].offer_id for i in paid_ids if tickets[i].status is S.LOCKED_TRANSFER
    }
    assert set(result.cancelled_application_ids) == {
        tickets[i].application_id for i in paid_ids if tickets[i].status is S.LOCKED_FINANCING
    }

    for payment in result.paid:
        settled = settle_piece(tickets[payment.ticket_id])
        assert settled.status is S.SETTLED and settled.amount_fen == payment.amount_fen
        tickets[settled.id] = settled

    if not frozen:
        with pytest.raises(StateConflictError):
            plan(tickets["R"], list(tickets.values()), today=today)
        return
    with pytest.raises(StateConflictError):
        plan(tickets["R"], list(tickets.values()), today=today)
    for ticket_id in frozen:
        tickets[ticket_id] = unfreeze_ticket(tickets[ticket_id])
    second = plan(tickets["R"], list(tickets.values()), today=today)
    assert {p.ticket_id for p in second.paid} == frozen
    assert second.withheld == ()
    assert second.previously_settled_fen == result.total_paid_fen
    assert second.total_paid_fen + second.previously_settled_fen == root_amount


# --- credit lines -----------------------------------------------------------------------------


def line(limit: int = 1_000, used: int = 0, line_id: str = "CL-1") -> CreditLine:
    return CreditLine(line_id, BANK, CORE, limit, used)


def test_reserve_and_release() -> None:
    original = line()
    reserved = original.reserve(400)
    assert (reserved.used_fen, reserved.available_fen) == (400, 600)
    assert original.used_fen == 0  # never changed in place
    assert reserved.reserve(600).available_fen == 0
    released = reserved.release(150)
    assert (released.used_fen, released.available_fen) == (250, 750)
    assert released.release(250).used_fen == 0


def test_reserve_beyond_the_line_is_refused() -> None:
    with pytest.raises(RuleViolationError, match="credit line exceeded"):
        line(used=600).reserve(401)


def test_release_more_than_used_is_refused() -> None:
    with pytest.raises(RuleViolationError, match="more credit than is used"):
        line(used=100).release(101)


@pytest.mark.parametrize("amount", [0, -1, 1.5, True])
def test_reserve_and_release_need_positive_fen(amount: object) -> None:
    with pytest.raises(InvalidInputError):
        line(used=10).reserve(amount)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        line(used=10).release(amount)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("bank", "core", "limit", "used"),
    [
        (BANK, CORE, 0, 0),
        (BANK, CORE, -1, 0),
        (BANK, BANK, 100, 0),
        (BANK, CORE, 100, 101),
        (BANK, CORE, 100, -1),
    ],
)
def test_credit_line_validation(bank: str, core: str, limit: int, used: int) -> None:
    with pytest.raises(InvalidInputError):
        CreditLine("CL", bank, core, limit, used)


def test_credit_line_dict_round_trip() -> None:
    item = line(used=5)
    assert CreditLine.from_dict(item.to_dict()) == item


def test_choose_credit_line_takes_the_first_by_id_with_room() -> None:
    lines = [line(1_000, 0, "CL-3"), line(1_000, 900, "CL-1"), line(1_000, 500, "CL-2")]
    assert choose_credit_line(lines, 100).id == "CL-1"
    assert choose_credit_line(lines, 101).id == "CL-2"
    assert choose_credit_line(lines, 501).id == "CL-3"
    assert choose_credit_line(lines, 1_000).id == "CL-3"


def test_choose_credit_line_exceeded() -> None:
    with pytest.raises(RuleViolationError, match="credit line exceeded") as caught:
        choose_credit_line([line(1_000, 900, "CL-1"), line(1_000, 500, "CL-2")], 501)
    assert "5.00 available" in str(caught.value)
    with pytest.raises(RuleViolationError, match="credit line exceeded"):
        choose_credit_line([], 1)


@PROPERTY
@given(
    st.integers(min_value=1, max_value=10**6),
    st.lists(st.tuples(st.booleans(), st.integers(min_value=1, max_value=10**6)), max_size=30),
)
def test_credit_line_used_stays_within_the_limit(limit: int, operations: list[tuple[bool, int]]) -> None:
    current = line(limit)
    for is_reserve, amount in operations:
        fits = amount <= (current.available_fen if is_reserve else current.used_fen)
        if not fits:
            with pytest.raises(RuleViolationError):
                current.reserve(amount) if is_reserve else current.release(amount)
            continue
        before = current.used_fen
        current = current.reserve(amount) if is_reserve else current.release(amount)
        assert current.used_fen == before + (amount if is_reserve else -amount)
        assert 0 <= current.used_fen <= current.limit_fen


# --- invoices ---------------------------------------------------------------------------------


def h(number: str) -> str:
    """The test document hash of invoice ``number``: each number its own document."""
    return hashlib.sha256(number.encode()).hexdigest()


def inv(number: str, amount_fen: int, sha: str | None = None) -> Invoice:
    return Invoice(number, amount_fen, sha or h(number))


INVOICES = (inv("I-1", 100), inv("I-2", 200), inv("I-3", 300))


def test_allocate_invoices_draws_in_order() -> None:
    assert allocate_invoices(250, INVOICES, {}) == {h("I-1"): 100, h("I-2"): 150}
    assert allocate_invoices(50, INVOICES, {}) == {h("I-1"): 50}
    assert allocate_invoices(250, INVOICES, {h("I-1"): 60}) == {h("I-1"): 100, h("I-2"): 200, h("I-3"): 10}
    # A fully used invoice is skipped and not reported.
    assert allocate_invoices(10, INVOICES, {h("I-1"): 100}) == {h("I-2"): 10}
    # Exactly what is left is fine.
    assert allocate_invoices(600, INVOICES, {}) == {h("I-1"): 100, h("I-2"): 200, h("I-3"): 300}


def test_allocate_invoices_refuses_over_use() -> None:
    # invoices too small for the ticket are not "already used": the message says what to do
    with pytest.raises(RuleViolationError, match="add up to 6.00, less than the ticket's 6.01: add invoices"):
        allocate_invoices(601, INVOICES, {})
    with pytest.raises(RuleViolationError, match="invoice already used"):
        allocate_invoices(1, (inv("I-1", 100),), {h("I-1"): 100})
    with pytest.raises(RuleViolationError, match="invoice already used"):
        allocate_invoices(541, INVOICES, {h("I-1"): 60})


def test_allocate_invoices_refuses_a_document_or_number_listed_twice() -> None:
    with pytest.raises(RuleViolationError, match="listed twice"):
        allocate_invoices(10, (inv("I-1", 100), inv("I-1", 100)), {})
    with pytest.raises(RuleViolationError, match="listed twice"):  # one number, two documents
        allocate_invoices(10, (inv("I-1", 100), inv("I-2", 100), inv("I-1", 50, "cd" * 32)), {})
    with pytest.raises(RuleViolationError, match="listed twice"):  # one document, two numbers
        allocate_invoices(10, (inv("I-1", 100), inv("I-9", 100, h("I-1"))), {})
    with pytest.raises(RuleViolationError, match="listed twice"):  # one number, spelled twice
        allocate_invoices(10, (inv("inv-1", 100, "ab" * 32), inv(" INV-1", 100, "cd" * 32)), {})


def test_invoice_numbers_have_one_spelling() -> None:
    assert {inv(n, 1, "ab" * 32).number for n in ("INV-9", "INV-9 ", "inv-9", "ＩＮＶ－９", " inv-9")} == {
        "INV-9"
    }
    assert normalise_invoice_number("fp  2026\t001") == "FP 2026 001"


def test_allocate_invoices_needs_an_invoice() -> None:
    with pytest.raises(InvalidInputError):
        allocate_invoices(10, (), {})


def test_check_same_invoice() -> None:
    check_same_invoice(inv("I-1", 100), inv("i-1 ", 100, h("I-1")))
    with pytest.raises(RuleViolationError, match="I-1"):
        check_same_invoice(inv("I-1", 100), inv("I-1", 101))
    with pytest.raises(RuleViolationError, match="does not match"):
        check_same_invoice(inv("I-1", 100), inv("I-1", 100, "cd" * 32))
    with pytest.raises(RuleViolationError, match="does not match"):
        check_same_invoice(inv("I-1", 100), inv("I-2", 100, h("I-1")))


@PROPERTY
@given(
    st.lists(st.integers(min_value=1, max_value=1_000), min_size=1, max_size=5),
    st.lists(st.integers(min_value=1, max_value=2_000), max_size=10),
)
def test_invoices_never_back_more_than_their_face(faces: list[int], requests: list[int]) -> None:
    invoices = tuple(inv(f"I-{i}", face) for i, face in enumerate(faces))
    used: dict[str, int] = {}
    drawn = 0
    for amount in requests:
        left = sum(faces) - sum(used.values())
        if amount > left:
            expected = "add up to" if amount > sum(faces) else "invoice already used"
            with pytest.raises(RuleViolationError, match=expected):
                allocate_invoices(amount, invoices, used)
            continue
        updated = allocate_invoices(amount, invoices, used)
        assert sum(updated.values()) - sum(used.get(n, 0) for n in updated) == amount
        used.update(updated)
        drawn += amount
        for invoice in invoices:
            assert 0 <= used.get(invoice.number, 0) <= invoice.amount_fen
    assert sum(used.values()) == drawn
