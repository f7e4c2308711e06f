"""Issue, accept, reject, cancel, freeze, unfreeze and split; terms; terminal states."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from goldticket.domain.errors import (
    DomainError,
    ForbiddenError,
    InvalidInputError,
    RuleViolationError,
    StateConflictError,
)
from goldticket.domain.financing import apply_financing, approve_financing
from goldticket.domain.lifecycle import (
    accept_ticket,
    cancel_ticket,
    freeze_ticket,
    issue_ticket,
    reject_ticket,
    split_ticket,
    unfreeze_ticket,
)
from goldticket.domain.settlement import settle_piece
from goldticket.domain.status import OVERDUE, TERMINAL, TRANSITIONS, TicketStatus, display_status
from goldticket.domain.terms import DEFAULT_MAX_TERM_MONTHS, add_months, check_term
from goldticket.domain.ticket import Invoice, Ticket, parse_date
from goldticket.domain.transfer import offer_transfer

pytestmark = pytest.mark.unit

PROPERTY = settings(max_examples=200, deadline=None, database=None)
S = TicketStatus

CORE, SUPPLIER, SUPPLIER_B, BANK, OPERATOR = "org-core", "org-sup-a", "org-sup-b", "org-bank", "org-op"
ISSUE = dt.date(2026, 1, 1)
MATURITY = dt.date(2026, 7, 1)
TODAY = dt.date(2026, 2, 1)
SHA = "ab" * 32


def invoice(number: str = "INV-001", amount_fen: int = 10**12) -> Invoice:
    return Invoice(number, amount_fen, SHA)


def issue(
    amount_fen: int = 100_000_000,
    *,
    ticket_id: str = "T-1",
    issue_date: dt.date = ISSUE,
    maturity_date: dt.date = MATURITY,
    issuer: str = CORE,
    payee: str = SUPPLIER,
    invoices: tuple[Invoice, ...] | None = None,
    **extra: object,
) -> Ticket:
    return issue_ticket(
        ticket_id=ticket_id,
        issuer_org_id=issuer,
        payee_org_id=payee,
        amount_fen=amount_fen,
        issue_date=issue_date,
        maturity_date=maturity_date,
        invoices=(invoice(),) if invoices is None else invoices,
        tx_id="tx-issue",
        **extra,  # type: ignore[arg-type]
    )


def active(amount_fen: int = 100_000_000, **kwargs: object) -> Ticket:
    return accept_ticket(issue(amount_fen, **kwargs), by_org_id=SUPPLIER)  # type: ignore[arg-type]


# --- issue ------------------------------------------------------------------------------------


def test_issue_makes_a_pending_root() -> None:
    ticket = issue(credit_line_id="CL-1")
    assert ticket.status is S.PENDING_ACCEPTANCE
    assert ticket.id == ticket.root_id == "T-1"
    assert ticket.parent_id is None
    assert ticket.issuer_org_id == CORE
    assert ticket.holder_org_id == SUPPLIER
    assert ticket.amount_fen == 100_000_000
    assert (ticket.issue_date, ticket.maturity_date) == (ISSUE, MATURITY)
    assert ticket.invoices == (invoice(),)
    assert ticket.credit_line_id == "CL-1"
    assert ticket.offer_id is None and ticket.application_id is None and ticket.frozen_from is None


def test_default_term_cap_is_twelve_months() -> None:
    assert DEFAULT_MAX_TERM_MONTHS == 12


def test_one_day_term_is_allowed() -> None:
    assert issue(maturity_date=ISSUE + dt.timedelta(days=1)).maturity_date == dt.date(2026, 1, 2)


@pytest.mark.parametrize("maturity", [ISSUE, ISSUE - dt.timedelta(days=1)])
def test_maturity_must_be_after_issue(maturity: dt.date) -> None:
    with pytest.raises(RuleViolationError, match="at least one day"):
        issue(maturity_date=maturity)


@pytest.mark.parametrize(
    ("issue_date", "cap", "latest"),
    [
        (dt.date(2026, 1, 31), 12, dt.date(2027, 1, 31)),
        (dt.date(2026, 1, 1), 12, dt.date(2027, 1, 1)),
        (dt.date(2026, 1, 31), 1, dt.date(2026, 2, 28)),  # clamped to the end of February
        (dt.date(2028, 1, 31), 1, dt.date(2028, 2, 29)),  # leap year
        (dt.date(2028, 2, 29), 12, dt.date(2029, 2, 28)),
        (dt.date(2026, 8, 31), 6, dt.date(2027, 2, 28)),
        (dt.date(2026, 3, 31), 6, dt.date(2026, 9, 30)),
    ],
)
def test_term_cap_exactly_reached_is_allowed_one_day_more_is_not(
    issue_date: dt.date, cap: int, latest: dt.date
) -> None:
    reason = "a stated reason" if cap > 6 else None  # over six months a reason is needed
    ticket = issue(issue_date=issue_date, maturity_date=latest, max_term_months=cap, term_reason=reason)
    assert ticket.maturity_date == latest and ticket.term_reason == reason
    with pytest.raises(RuleViolationError, match="out of range"):
        issue(
            issue_date=issue_date,
            maturity_date=latest + dt.timedelta(days=1),
            max_term_months=cap,
            term_reason=reason,
        )


def test_default_cap_applies_without_setting() -> None:
    issue(issue_date=dt.date(2026, 1, 31), maturity_date=dt.date(2027, 1, 31), term_reason="a year's project")
    with pytest.raises(RuleViolationError, match="at most 12 months"):
        issue(
            issue_date=dt.date(2026, 1, 31), maturity_date=dt.date(2027, 2, 1), term_reason="a year's project"
        )


def test_term_cap_is_configurable() -> None:
    issue(maturity_date=dt.date(2026, 7, 1), max_term_months=6)
    with pytest.raises(RuleViolationError, match="at most 6 months"):
        issue(maturity_date=dt.date(2026, 7, 2), max_term_months=6)


@pytest.mark.parametrize("cap", [0, -1, 13, 24])
def test_term_cap_outside_one_to_twelve_is_invalid(cap: int) -> None:
    with pytest.raises(InvalidInputError, match="term cap"):
        issue(max_term_months=cap)


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (dt.date(2026, 1, 31), 1, dt.date(2026, 2, 28)),
        (dt.date(2026, 1, 31), 12, dt.date(2027, 1, 31)),
        (dt.date(2026, 11, 30), 3, dt.date(2027, 2, 28)),
        (dt.date(2026, 12, 15), 1, dt.date(2027, 1, 15)),
        (dt.date(2026, 12, 31), 12, dt.date(2027, 12, 31)),
        (dt.date(2028, 1, 31), 1, dt.date(2028, 2, 29)),
        (dt.date(2026, 5, 31), 1, dt.date(2026, 6, 30)),
    ],
)
def test_add_months(day: dt.date, months: int, expected: dt.date) -> None:
    assert add_months(day, months) == expected


@PROPERTY
@given(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 1, 1)), st.integers(1, 12))
def test_check_term_boundary_for_any_date_and_cap(issue_date: dt.date, cap: int) -> None:
    latest = add_months(issue_date, cap)
    assert latest > issue_date
    check_term(issue_date, issue_date + dt.timedelta(days=1), cap)
    check_term(issue_date, latest, cap, "stated")
    with pytest.raises(RuleViolationError):
        check_term(issue_date, latest + dt.timedelta(days=1), cap, "stated")
    # without a reason the longest term is six months (or the cap, if shorter)
    check_term(issue_date, add_months(issue_date, min(cap, 6)), cap)
    if cap > 6:
        with pytest.raises(RuleViolationError, match="needs a stated reason"):
            check_term(issue_date, add_months(issue_date, 6) + dt.timedelta(days=1), cap)
    with pytest.raises(RuleViolationError):
        check_term(issue_date, issue_date, cap)


def test_issuer_cannot_be_payee() -> None:
    with pytest.raises(InvalidInputError, match="itself"):
        issue(payee=CORE)


def test_a_ticket_needs_invoices() -> None:
    with pytest.raises(InvalidInputError, match="at least one invoice"):
        issue(invoices=())


@pytest.mark.parametrize("amount", [0, -5, 1.5, True])
def test_issue_amount_must_be_whole_positive_fen(amount: object) -> None:
    with pytest.raises(InvalidInputError):
        issue(amount)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("number", "amount", "sha"),
    [
        ("", 100, SHA),
        ("  ", 100, SHA),
        ("INV\n1", 100, SHA),
        ("X" * 65, 100, SHA),
        ("INV-1", 0, SHA),
        ("INV-1", 1.5, SHA),
        ("INV-1", 100, "AB" * 32),
        ("INV-1", 100, "ab" * 31),
        ("INV-1", 100, "zz" * 32),
        ("INV-1", 100, None),
    ],
)
def test_invoice_validation(number: object, amount: object, sha: object) -> None:
    with pytest.raises(InvalidInputError):
        Invoice(number, amount, sha)  # type: ignore[arg-type]


def test_invoice_dict_round_trip() -> None:
    item = invoice()
    assert Invoice.from_dict(item.to_dict()) == item
    with pytest.raises(InvalidInputError):
        Invoice.from_dict(["INV-1", 100, SHA])


def test_parse_date() -> None:
    assert parse_date("2026-03-17", "maturity_date") == dt.date(2026, 3, 17)
    assert parse_date(dt.date(2026, 3, 17), "maturity_date") == dt.date(2026, 3, 17)
    for bad in ("2026-3-17", "2026-02-30", "20260317", "", None, 20260317, dt.datetime(2026, 3, 17)):
        with pytest.raises(InvalidInputError, match="maturity_date"):
            parse_date(bad, "maturity_date")


def test_ticket_dict_round_trip() -> None:
    ticket = freeze_ticket(active(credit_line_id="CL-9"))
    data = ticket.to_dict()
    assert data["status"] == "FROZEN" and data["frozen_from"] == "ACTIVE"
    assert data["issue_date"] == "2026-01-01"
    assert Ticket.from_dict(data) == ticket


# --- accept / reject / cancel -----------------------------------------------------------------


def test_payee_accepts() -> None:
    ticket = issue()
    accepted = accept_ticket(ticket, by_org_id=SUPPLIER)
    assert accepted.status is S.ACTIVE
    assert accepted.holder_org_id == SUPPLIER
    assert ticket.status is S.PENDING_ACCEPTANCE  # values are never changed in place


@pytest.mark.parametrize("org", [CORE, SUPPLIER_B, BANK])
def test_only_payee_accepts(org: str) -> None:
    with pytest.raises(ForbiddenError):
        accept_ticket(issue(), by_org_id=org)


def test_accept_twice_conflicts() -> None:
    with pytest.raises(StateConflictError):
        accept_ticket(active(), by_org_id=SUPPLIER)


def test_payee_rejects() -> None:
    assert reject_ticket(issue(), by_org_id=SUPPLIER).status is S.REJECTED


@pytest.mark.parametrize("org", [CORE, SUPPLIER_B])
def test_only_payee_rejects(org: str) -> None:
    with pytest.raises(ForbiddenError):
        reject_ticket(issue(), by_org_id=org)


def test_reject_after_accept_conflicts() -> None:
    with pytest.raises(StateConflictError):
        reject_ticket(active(), by_org_id=SUPPLIER)


def test_issuer_cancels() -> None:
    assert cancel_ticket(issue(), by_org_id=CORE).status is S.CANCELLED


@pytest.mark.parametrize("org", [SUPPLIER, SUPPLIER_B])
def test_only_issuer_cancels(org: str) -> None:
    with pytest.raises(ForbiddenError):
        cancel_ticket(issue(), by_org_id=org)


def test_cancel_after_accept_conflicts() -> None:
    with pytest.raises(StateConflictError):
        cancel_ticket(active(), by_org_id=CORE)


# --- freeze / unfreeze ------------------------------------------------------------------------


def _in_each_freezable_state() -> list[Ticket]:
    pending = issue()
    live = active()
    locked_transfer, _ = offer_transfer(
        live, by_org_id=SUPPLIER, to_org_id=SUPPLIER_B, amount_fen=10, offer_id="O-1", today=TODAY
    )
    locked_financing, application = apply_financing(
        live,
        by_org_id=SUPPLIER,
        bank_org_id=BANK,
        max_annual_rate_bp=10_000,
        amount_fen=10,
        application_id="A-1",
        today=TODAY,
    )
    _, financed, _, _, _ = approve_financing(
        locked_financing,
        application,
        by_org_id=BANK,
        annual_rate_bp=262,
        value_date=TODAY,
        day_basis=360,
        fee_bp=0,
        financed_id="T-1.f",
        remainder_id="T-1.r",
        tx_id="tx-fin",
    )
    return [pending, live, locked_transfer, locked_financing, financed]


@pytest.mark.parametrize("ticket", _in_each_freezable_state(), ids=lambda t: t.status.value)
def test_freeze_remembers_state_and_unfreeze_restores_it(ticket: Ticket) -> None:
    frozen = freeze_ticket(ticket)
    assert frozen.status is S.FROZEN
    assert frozen.frozen_from is ticket.status
    assert frozen.offer_id == ticket.offer_id
    assert frozen.application_id == ticket.application_id
    with pytest.raises(StateConflictError, match="already frozen"):
        freeze_ticket(frozen)
    assert unfreeze_ticket(frozen) == ticket


def test_unfreeze_a_ticket_that_is_not_frozen_conflicts() -> None:
    with pytest.raises(StateConflictError, match="not frozen"):
        unfreeze_ticket(active())


def test_frozen_ticket_cannot_be_accepted_rejected_cancelled_split_or_settled() -> None:
    frozen_pending = freeze_ticket(issue())
    frozen_active = freeze_ticket(active())
    with pytest.raises(StateConflictError):
        accept_ticket(frozen_pending, by_org_id=SUPPLIER)
    with pytest.raises(StateConflictError):
        reject_ticket(frozen_pending, by_org_id=SUPPLIER)
    with pytest.raises(StateConflictError):
        cancel_ticket(frozen_pending, by_org_id=CORE)
    with pytest.raises(StateConflictError):
        split_ticket(
            frozen_active,
            part_fen=1,
            part_holder_org_id=SUPPLIER_B,
            part_status=S.ACTIVE,
            part_id="p",
            remainder_id="r",
            tx_id="tx",
        )
    with pytest.raises(StateConflictError):
        settle_piece(frozen_active)


@pytest.mark.parametrize("make", [issue, active], ids=["frozen-pending", "frozen-active"])
def test_frozen_ticket_cannot_be_offered(make: object) -> None:
    frozen = freeze_ticket(make())  # type: ignore[operator]
    with pytest.raises(StateConflictError):
        offer_transfer(
            frozen, by_org_id=SUPPLIER, to_org_id=SUPPLIER_B, amount_fen=1, offer_id="O", today=TODAY
        )


def test_frozen_ticket_cannot_apply_for_financing() -> None:
    frozen = freeze_ticket(active())
    with pytest.raises(StateConflictError):
        apply_financing(
            frozen,
            by_org_id=SUPPLIER,
            bank_org_id=BANK,
            max_annual_rate_bp=10_000,
            amount_fen=1,
            application_id="A",
            today=TODAY,
        )


# --- split ------------------------------------------------------------------------------------


def test_split_partial_and_whole() -> None:
    ticket = active(1_000)
    parent, part, remainder = split_ticket(
        ticket,
        part_fen=300,
        part_holder_org_id=SUPPLIER_B,
        part_status=S.ACTIVE,
        part_id="T-1.a",
        remainder_id="T-1.b",
        tx_id="tx-2",
    )
    assert parent.status is S.SPLIT and parent.amount_fen == 1_000
    assert remainder is not None
    assert (part.id, part.holder_org_id, part.amount_fen) == ("T-1.a", SUPPLIER_B, 300)
    assert (remainder.id, remainder.holder_org_id, remainder.amount_fen) == ("T-1.b", SUPPLIER, 700)
    for child in (part, remainder):
        assert child.parent_id == "T-1" and child.root_id == "T-1" and child.tx_id == "tx-2"
        assert child.status is S.ACTIVE
        assert child.issuer_org_id == CORE and child.maturity_date == MATURITY
    _, whole, none = split_ticket(
        ticket,
        part_fen=1_000,
        part_holder_org_id=SUPPLIER_B,
        part_status=S.ACTIVE,
        part_id="T-1.a",
        remainder_id="T-1.b",
        tx_id="tx-2",
    )
    assert none is None and whole.amount_fen == 1_000


@pytest.mark.parametrize("part_fen", [0, -1, 1_001])
def test_split_amount_must_fit(part_fen: int) -> None:
    with pytest.raises(InvalidInputError):
        split_ticket(
            active(1_000),
            part_fen=part_fen,
            part_holder_org_id=SUPPLIER_B,
            part_status=S.ACTIVE,
            part_id="a",
            remainder_id="b",
            tx_id="tx",
        )


# --- display ----------------------------------------------------------------------------------


def test_display_status_shows_overdue_only_after_maturity() -> None:
    after = MATURITY + dt.timedelta(days=1)
    assert display_status(S.ACTIVE, MATURITY, MATURITY) == "ACTIVE"
    assert display_status(S.ACTIVE, MATURITY, after) == OVERDUE
    assert display_status(S.FINANCED, MATURITY, after) == OVERDUE
    assert display_status(S.SETTLED, MATURITY, after) == "SETTLED"
    assert display_status(S.SPLIT, MATURITY, after) == "SPLIT"
    assert str(S.ACTIVE) == "ACTIVE"


# --- terminal states --------------------------------------------------------------------------


def test_terminal_states_have_no_transitions() -> None:
    assert {S.SPLIT, S.SETTLED, S.REJECTED, S.CANCELLED} == TERMINAL
    for status in TERMINAL:
        assert TRANSITIONS[status] == frozenset()


ORGS = st.sampled_from([CORE, SUPPLIER, SUPPLIER_B, BANK, OPERATOR])


@st.composite
def terminal_tickets(draw: st.DrawFn) -> Ticket:
    amount = draw(st.integers(min_value=1, max_value=10**15))
    holder = draw(st.sampled_from([SUPPLIER, SUPPLIER_B, BANK]))
    ticket = active(amount, payee=holder) if holder == SUPPLIER else issue(amount, payee=holder)
    return ticket.with_changes(
        status=draw(st.sampled_from(sorted(TERMINAL))),
        parent_id=draw(st.sampled_from([None, "T-0"])),
        offer_id=draw(st.sampled_from([None, "O-1"])),
        application_id=draw(st.sampled_from([None, "A-1"])),
    )


OPERATIONS = [
    "accept",
    "reject",
    "cancel",
    "freeze",
    "offer_transfer",
    "apply_financing",
    "split_ticket",
    "settle_piece",
]


@PROPERTY
@given(
    terminal_tickets(),
    st.sampled_from(OPERATIONS),
    ORGS,
    ORGS,
    st.integers(min_value=1, max_value=10**15),
    st.booleans(),
)
def test_terminal_ticket_refuses_every_operation(
    ticket: Ticket, operation: str, by_org: str, other_org: str, amount: int, by_the_right_party: bool
) -> None:
    if by_the_right_party:
        # The most permissive caller: the party the operation asks for, a valid amount.
        by_org = ticket.issuer_org_id if operation == "cancel" else ticket.holder_org_id
        amount = min(amount, ticket.amount_fen)
        if other_org == by_org:
            other_org = OPERATOR if by_org != OPERATOR else CORE
    calls = {
        "accept": lambda: accept_ticket(ticket, by_org_id=by_org),
        "reject": lambda: reject_ticket(ticket, by_org_id=by_org),
        "cancel": lambda: cancel_ticket(ticket, by_org_id=by_org),
        "freeze": lambda: freeze_ticket(ticket),
        "offer_transfer": lambda: offer_transfer(
            ticket, by_org_id=by_org, to_org_id=other_org, amount_fen=amount, offer_id="O-9", today=TODAY
        ),
        "apply_financing": lambda: apply_financing(
            ticket,
            by_org_id=by_org,
            bank_org_id=other_org,
            max_annual_rate_bp=10_000,
            amount_fen=amount,
            application_id="A-9",
            today=TODAY,
        ),
        "split_ticket": lambda: split_ticket(
            ticket,
            part_fen=amount,
            part_holder_org_id=other_org,
            part_status=S.ACTIVE,
            part_id="p",
            remainder_id="r",
            tx_id="tx",
        ),
        "settle_piece": lambda: settle_piece(ticket),
    }
    with pytest.raises(DomainError) as caught:
        calls[operation]()
    assert type(caught.value) is not DomainError  # always a specific subclass
    if by_the_right_party:
        assert isinstance(caught.value, StateConflictError)
