"""Transfer with split: offer, accept, reject, cancel; children always add up to the parent."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from goldticket.domain.errors import ForbiddenError, InvalidInputError, RuleViolationError, StateConflictError
from goldticket.domain.financing import apply_financing
from goldticket.domain.lifecycle import accept_ticket, freeze_ticket, issue_ticket
from goldticket.domain.status import TicketStatus
from goldticket.domain.ticket import Invoice, Ticket
from goldticket.domain.transfer import Offer, accept_offer, close_offer, offer_transfer

pytestmark = pytest.mark.unit

PROPERTY = settings(max_examples=150, deadline=None, database=None)
S = TicketStatus

CORE, SUP_A, SUP_B, SUP_C, BANK = "org-core", "org-sup-a", "org-sup-b", "org-sup-c", "org-bank"
ISSUE = dt.date(2026, 1, 1)
MATURITY = dt.date(2026, 7, 1)
TODAY = dt.date(2026, 2, 1)


def active(amount_fen: int = 100_000_000, ticket_id: str = "T-1") -> Ticket:
    ticket = issue_ticket(
        ticket_id=ticket_id,
        issuer_org_id=CORE,
        payee_org_id=SUP_A,
        amount_fen=amount_fen,
        issue_date=ISSUE,
        maturity_date=MATURITY,
        invoices=(Invoice("INV-001", 10**15, "ab" * 32),),
        tx_id="tx-issue",
    )
    return accept_ticket(ticket, by_org_id=SUP_A)


def offer(
    ticket: Ticket,
    amount_fen: int = 30_000_000,
    *,
    to: str = SUP_B,
    offer_id: str = "O-1",
    today: dt.date = TODAY,
) -> tuple[Ticket, Offer]:
    return offer_transfer(
        ticket,
        by_org_id=ticket.holder_org_id,
        to_org_id=to,
        amount_fen=amount_fen,
        offer_id=offer_id,
        today=today,
    )


def accept(
    ticket: Ticket, an_offer: Offer, by: str | None = None
) -> tuple[Ticket, Ticket, Ticket | None, Offer]:
    return accept_offer(
        ticket,
        an_offer,
        by_org_id=an_offer.to_org_id if by is None else by,
        transferred_id=f"{ticket.id}.t",
        remainder_id=f"{ticket.id}.r",
        tx_id=f"tx-{an_offer.id}",
    )


# --- offer ------------------------------------------------------------------------------------


def test_offer_locks_the_ticket() -> None:
    ticket = active()
    locked, made = offer(ticket)
    assert locked.status is S.LOCKED_TRANSFER
    assert locked.offer_id == "O-1"
    assert locked.amount_fen == ticket.amount_fen and locked.holder_org_id == SUP_A
    assert made == Offer("O-1", "T-1", SUP_A, SUP_B, 30_000_000, "OPEN")
    assert Offer.from_dict(made.to_dict()) == made


@pytest.mark.parametrize("amount", [1, 100_000_000])
def test_offer_one_fen_up_to_the_whole(amount: int) -> None:
    locked, made = offer(active(), amount)
    assert made.amount_fen == amount and locked.status is S.LOCKED_TRANSFER


@pytest.mark.parametrize("org", [CORE, SUP_B, BANK])
def test_only_the_holder_offers(org: str) -> None:
    with pytest.raises(ForbiddenError):
        offer_transfer(active(), by_org_id=org, to_org_id=SUP_C, amount_fen=1, offer_id="O", today=TODAY)


def test_offer_to_oneself_is_invalid() -> None:
    with pytest.raises(InvalidInputError):
        offer(active(), to=SUP_A)


def test_offer_over_balance_is_refused() -> None:
    with pytest.raises(RuleViolationError, match="amount over balance"):
        offer(active(1_000), 1_001)


@pytest.mark.parametrize("amount", [0, -1, 1.5, True])
def test_offer_amount_must_be_positive_fen(amount: object) -> None:
    with pytest.raises(InvalidInputError):
        offer(active(), amount)  # type: ignore[arg-type]


def test_locked_ticket_cannot_be_offered_again() -> None:
    locked, _ = offer(active())
    with pytest.raises(StateConflictError):
        offer(locked, 1, to=SUP_C, offer_id="O-2")


def test_ticket_locked_for_financing_cannot_be_offered() -> None:
    locked, _ = apply_financing(
        active(),
        by_org_id=SUP_A,
        bank_org_id=BANK,
        max_annual_rate_bp=10_000,
        amount_fen=1,
        application_id="A-1",
        today=TODAY,
    )
    with pytest.raises(StateConflictError):
        offer(locked)


def test_pending_ticket_cannot_be_offered() -> None:
    pending = issue_ticket(
        ticket_id="T-2",
        issuer_org_id=CORE,
        payee_org_id=SUP_A,
        amount_fen=100,
        issue_date=ISSUE,
        maturity_date=MATURITY,
        invoices=(Invoice("INV-001", 100, "ab" * 32),),
        tx_id="tx",
    )
    with pytest.raises(StateConflictError):
        offer(pending, 1)


def test_offer_the_day_before_maturity_is_allowed() -> None:
    locked, _ = offer(active(), today=MATURITY - dt.timedelta(days=1))
    assert locked.status is S.LOCKED_TRANSFER


@pytest.mark.parametrize("today", [MATURITY, MATURITY + dt.timedelta(days=1), dt.date(2027, 1, 1)])
def test_offers_on_or_after_maturity_are_refused(today: dt.date) -> None:
    with pytest.raises(RuleViolationError, match="maturity"):
        offer(active(), today=today)


# --- accept -----------------------------------------------------------------------------------


def test_accept_partial_offer_splits_the_ticket() -> None:
    locked, made = offer(active(), 30_000_000)
    parent, part, remainder, accepted = accept(locked, made)
    assert parent.status is S.SPLIT and parent.offer_id is None and parent.amount_fen == 100_000_000
    assert accepted.status == "ACCEPTED"
    assert remainder is not None
    assert (part.id, part.holder_org_id, part.amount_fen, part.status) == (
        "T-1.t",
        SUP_B,
        30_000_000,
        S.ACTIVE,
    )
    assert (remainder.id, remainder.holder_org_id, remainder.amount_fen, remainder.status) == (
        "T-1.r",
        SUP_A,
        70_000_000,
        S.ACTIVE,
    )
    for child in (part, remainder):
        assert child.parent_id == "T-1" and child.root_id == "T-1"
        assert child.offer_id is None and child.tx_id == "tx-O-1"
    assert part.amount_fen + remainder.amount_fen == parent.amount_fen


def test_accept_whole_offer_leaves_no_remainder() -> None:
    locked, made = offer(active(), 100_000_000)
    parent, part, remainder, _ = accept(locked, made)
    assert parent.status is S.SPLIT
    assert remainder is None
    assert part.amount_fen == 100_000_000 and part.holder_org_id == SUP_B


@pytest.mark.parametrize("org", [SUP_A, CORE, SUP_C])
def test_only_the_payee_accepts(org: str) -> None:
    locked, made = offer(active())
    with pytest.raises(ForbiddenError):
        accept(locked, made, by=org)


def test_accept_with_an_offer_for_another_ticket_conflicts() -> None:
    locked_1, made_1 = offer(active(ticket_id="T-1"), offer_id="O-1")
    locked_2, _ = offer(active(ticket_id="T-2"), offer_id="O-2")
    with pytest.raises(StateConflictError):
        accept(locked_2, made_1)
    with pytest.raises(StateConflictError):
        accept(locked_1, dataclasses.replace(made_1, id="O-2"))


# --- reject / cancel --------------------------------------------------------------------------


def test_payee_rejects_and_ticket_unlocks() -> None:
    ticket = active()
    locked, made = offer(ticket)
    unlocked, closed = close_offer(locked, made, by_org_id=SUP_B, outcome="REJECTED")
    assert unlocked == ticket
    assert closed.status == "REJECTED"


def test_holder_cancels_and_ticket_unlocks() -> None:
    ticket = active()
    locked, made = offer(ticket)
    unlocked, closed = close_offer(locked, made, by_org_id=SUP_A, outcome="CANCELLED")
    assert unlocked == ticket
    assert closed.status == "CANCELLED"
    relocked, _ = offer(unlocked, offer_id="O-2")  # it can be offered again
    assert relocked.offer_id == "O-2"


@pytest.mark.parametrize(("org", "outcome"), [(SUP_A, "REJECTED"), (CORE, "REJECTED"), (SUP_B, "CANCELLED")])
def test_wrong_party_cannot_close(org: str, outcome: str) -> None:
    locked, made = offer(active())
    with pytest.raises(ForbiddenError):
        close_offer(locked, made, by_org_id=org, outcome=outcome)


@pytest.mark.parametrize("outcome", ["ACCEPTED", "OPEN", "rejected", ""])
def test_close_needs_rejected_or_cancelled(outcome: str) -> None:
    locked, made = offer(active())
    with pytest.raises(InvalidInputError):
        close_offer(locked, made, by_org_id=SUP_A, outcome=outcome)


@pytest.mark.parametrize("outcome", ["REJECTED", "CANCELLED"])
def test_accept_after_the_offer_was_closed_conflicts(outcome: str) -> None:
    locked, made = offer(active())
    closer = SUP_B if outcome == "REJECTED" else SUP_A
    unlocked, closed = close_offer(locked, made, by_org_id=closer, outcome=outcome)
    with pytest.raises(StateConflictError):
        accept(unlocked, closed)
    with pytest.raises(StateConflictError):
        accept(unlocked, made)  # a stale copy of the offer still saying OPEN
    with pytest.raises(StateConflictError):
        accept(locked, closed)  # a stale copy of the ticket still locked
    with pytest.raises(StateConflictError):
        close_offer(unlocked, closed, by_org_id=closer, outcome=outcome)


def test_close_after_accept_conflicts() -> None:
    locked, made = offer(active())
    parent, _, _, accepted = accept(locked, made)
    with pytest.raises(StateConflictError):
        close_offer(parent, accepted, by_org_id=SUP_A, outcome="CANCELLED")
    with pytest.raises(StateConflictError):
        accept(parent, accepted)


def test_accepting_a_frozen_locked_ticket_conflicts() -> None:
    locked, made = offer(active())
    with pytest.raises(StateConflictError):
        accept(freeze_ticket(locked), made)


@pytest.mark.parametrize(("org", "outcome"), [(SUP_B, "REJECTED"), (SUP_A, "CANCELLED")])
def test_closing_an_offer_does_not_lift_a_freeze(org: str, outcome: str) -> None:
    locked, made = offer(active())
    with pytest.raises(StateConflictError):
        close_offer(freeze_ticket(locked), made, by_org_id=org, outcome=outcome)


# --- property: split chains -------------------------------------------------------------------

ORGS = [SUP_A, SUP_B, SUP_C, BANK, "org-sup-d"]


@PROPERTY
@given(st.integers(min_value=1, max_value=10**15), st.data())
def test_split_chains_conserve_the_root_amount(root_amount: int, data: st.DataObject) -> None:
    root = active(root_amount, ticket_id="R")
    tickets: dict[str, Ticket] = {root.id: root}
    steps = data.draw(st.integers(min_value=0, max_value=15), label="steps")
    for step in range(steps):
        unspent = sorted(t.id for t in tickets.values() if t.status is S.ACTIVE)
        piece = tickets[data.draw(st.sampled_from(unspent), label="piece")]
        amount = data.draw(st.integers(min_value=1, max_value=piece.amount_fen), label="amount")
        payee = data.draw(st.sampled_from([o for o in ORGS if o != piece.holder_org_id]), label="payee")
        outcome = data.draw(st.sampled_from(["ACCEPT", "ACCEPT", "REJECTED", "CANCELLED"]), label="outcome")
        locked, made = offer(piece, amount, to=payee, offer_id=f"O-{step}")
        tickets[locked.id] = locked
        if outcome == "ACCEPT":
            parent, part, remainder, accepted = accept(locked, made)
            assert accepted.status == "ACCEPTED"
            children = [part] if remainder is None else [part, remainder]
            assert (remainder is None) == (amount == piece.amount_fen)
            for child in children:
                assert child.id not in tickets
                assert child.parent_id == parent.id
                assert child.root_id == root.id
                assert child.amount_fen >= 1
                tickets[child.id] = child
            assert part.holder_org_id == payee and part.amount_fen == amount
            assert sum(child.amount_fen for child in children) == parent.amount_fen
            tickets[parent.id] = parent
        else:
            closer = payee if outcome == "REJECTED" else piece.holder_org_id
            unlocked, _ = close_offer(locked, made, by_org_id=closer, outcome=outcome)
            assert unlocked == piece
            tickets[unlocked.id] = unlocked

        unspent_total = sum(t.amount_fen for t in tickets.values() if t.status is not S.SPLIT)
        assert unspent_total == root_amount
        for ticket in tickets.values():
            assert ticket.root_id == root.id
            if ticket.parent_id is not None:
                assert tickets[ticket.parent_id].status is S.SPLIT
            if ticket.status is S.SPLIT:
                children_sum = sum(t.amount_fen for t in tickets.values() if t.parent_id == ticket.id)
                assert children_sum == ticket.amount_fen


# --- signed documents (#21) ------------------------------------------------------------------
AGREEMENT, NOTICE, COUNTERSIGNED = "a1" * 32, "b2" * 32, "c3" * 32


def documented(ticket: Ticket) -> tuple[Ticket, Offer]:
    return offer_transfer(
        ticket, by_org_id=SUP_A, to_org_id=SUP_B, amount_fen=1_000, offer_id="O-D", today=TODAY,
        agreement_sha256=AGREEMENT, notice_sha256=NOTICE,
    )  # fmt: skip


def test_an_offer_records_its_agreement_and_notice_together_or_neither() -> None:
    locked, made = documented(active())
    assert (made.agreement_sha256, made.notice_sha256) == (AGREEMENT, NOTICE)
    assert made.to_dict()["agreement_sha256"] == AGREEMENT and Offer.from_dict(made.to_dict()) == made
    plain = offer(active())[1].to_dict()
    assert not {"agreement_sha256", "notice_sha256", "countersigned_sha256", "notice_delivered_on"} & set(
        plain
    )
    for agreement, notice in (
        (AGREEMENT, None),
        (None, NOTICE),
        ("not a hash", NOTICE),
        (AGREEMENT, "AB" * 32),
    ):
        with pytest.raises(InvalidInputError):
            offer_transfer(
                active(), by_org_id=SUP_A, to_org_id=SUP_B, amount_fen=1_000, offer_id="O-X", today=TODAY,
                agreement_sha256=agreement, notice_sha256=notice,
            )  # fmt: skip


def test_a_documented_offer_is_accepted_only_with_the_countersigned_agreement() -> None:
    locked, made = documented(active())

    def accept_with(countersigned: object) -> Offer:
        return accept_offer(
            locked, made, by_org_id=SUP_B, transferred_id="T-1.t", remainder_id="T-1.r", tx_id="tx-a",
            today=TODAY, countersigned_sha256=countersigned,
        )[3]  # fmt: skip

    with pytest.raises(InvalidInputError, match="countersigned by your card"):
        accept_with(None)
    for bad in ("zz" * 32, 42):
        with pytest.raises(InvalidInputError):
            accept_with(bad)
    closed = accept_with(COUNTERSIGNED)
    assert closed.countersigned_sha256 == COUNTERSIGNED and closed.notice_delivered_on == TODAY.isoformat()
    # an offer without documents has nothing to countersign
    plain_locked, plain = offer(active())
    with pytest.raises(InvalidInputError):
        accept_offer(
            plain_locked, plain, by_org_id=SUP_B, transferred_id="x", remainder_id="y", tx_id="t",
            countersigned_sha256=COUNTERSIGNED,
        )  # fmt: skip


def test_a_commitment_hash_must_be_a_sha256() -> None:
    with pytest.raises(InvalidInputError):
        issue_ticket(
            ticket_id="T-C", issuer_org_id=CORE, payee_org_id=SUP_A, amount_fen=1_000, issue_date=ISSUE,
            maturity_date=MATURITY, invoices=(Invoice("INV-001", 10**15, "ab" * 32),), tx_id="tx",
            commitment_sha256="not a hash",
        )  # fmt: skip
    ticket = issue_ticket(
        ticket_id="T-C", issuer_org_id=CORE, payee_org_id=SUP_A, amount_fen=1_000, issue_date=ISSUE,
        maturity_date=MATURITY, invoices=(Invoice("INV-001", 10**15, "ab" * 32),), tx_id="tx",
        commitment_sha256=AGREEMENT,
    )  # fmt: skip
    assert Ticket.from_dict(ticket.to_dict()).commitment_sha256 == AGREEMENT
    assert "commitment_sha256" not in active().to_dict()
