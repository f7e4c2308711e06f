"""Who a transaction's writes tell (goldticket.store.notices): each move's counterparty, never
the member that made it; an offer's or application's status counts only with the move that
gives it (an unrelated rewrite of an open offer tells no one again)."""

from __future__ import annotations

from typing import Any

import pytest

from goldticket.store.notices import KINDS, notice_id, notices

pytestmark = pytest.mark.unit


def ticket(ticket_id: str, action: str, by: str, holder: str = "tier1", **extra: Any) -> dict[str, Any]:
    return {
        "id": ticket_id,
        "issuer_org_id": "core",
        "holder_org_id": holder,
        "amount_fen": 100,
        "last_action": {"action": action, "by_org_id": by},
        **extra,
    }


def told(writes: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, str, str]]:
    return [(n.member_id, n.kind, n.ticket_id) for n in notices(writes)]


def test_each_move_tells_its_counterparty_and_never_the_mover() -> None:
    assert told([("ticket", ticket("TK1", "issue", "core"))]) == [("tier1", "ticket_issued", "TK1")]
    assert told([("ticket", ticket("TK1", "accept", "tier1"))]) == [("core", "ticket_accepted", "TK1")]
    assert told([("ticket", ticket("TK1", "reject", "tier1"))]) == [("core", "ticket_rejected", "TK1")]
    assert told([("ticket", ticket("TK1", "cancel", "core"))]) == [("tier1", "ticket_cancelled", "TK1")]
    assert told([("ticket", ticket("TK1", "freeze", "operator"))]) == [("tier1", "ticket_frozen", "TK1")]
    # a root the issuer holds itself: settling it tells no one
    assert told([("ticket", ticket("TK1", "settle", "core", holder="core"))]) == []


def test_offers_and_applications_by_their_status_and_the_move() -> None:
    offer = {"id": "OF1", "ticket_id": "TK1", "from_org_id": "tier1", "to_org_id": "tier2", "amount_fen": 5}
    locked = ("ticket", ticket("TK1", "offer_transfer", "tier1"))
    assert told([locked, ("offer", {**offer, "status": "OPEN"})]) == [("tier2", "offer_received", "TK1")]
    split = ("ticket", ticket("TK1", "accept_transfer", "tier2"))
    assert told([split, ("offer", {**offer, "status": "ACCEPTED"})]) == [("tier1", "offer_accepted", "TK1")]
    # an open offer written again by another move: no second "offer received"
    assert told(
        [("ticket", ticket("TK1", "freeze", "operator")), ("offer", {**offer, "status": "OPEN"})]
    ) == [("tier1", "ticket_frozen", "TK1")]
    application = {"id": "FA1", "ticket_id": "TK2", "holder_org_id": "tier2", "bank_org_id": "bank",
                   "amount_fen": 7}  # fmt: skip
    settled = [
        ("ticket", ticket("TK3", "settle", "core", holder="tier1")),
        ("offer", {**offer, "status": "CANCELLED"}),
        ("application", {**application, "status": "REJECTED", "reason": "settled at maturity"}),
    ]
    assert told(settled) == [
        ("tier1", "ticket_settled", "TK3"),
        ("tier2", "offer_withdrawn", "TK1"),
        ("tier2", "financing_rejected", "TK2"),
    ]
    assert {n.kind for n in notices(settled)} <= set(KINDS)


def test_the_id_is_a_digest_of_the_key() -> None:
    assert notice_id("tier1", "tx", "ticket_issued", "TK1") == notice_id(
        "tier1", "tx", "ticket_issued", "TK1"
    )
    assert notice_id("tier1", "tx", "ticket_issued", "TK1") != notice_id(
        "tier2", "tx", "ticket_issued", "TK1"
    )
    assert len(notice_id("a", "b", "c", "d")) == 22


def test_an_accepted_transfer_with_its_notice_tells_the_debtor() -> None:
    """#21: the notice of assignment (债权转让通知) is delivered to the issuer by the acceptance."""
    offer = {"id": "OF1", "ticket_id": "TK1", "from_org_id": "tier1", "to_org_id": "tier2", "amount_fen": 5,
             "status": "ACCEPTED"}  # fmt: skip
    split = ("ticket", ticket("TK1", "accept_transfer", "tier2"))
    delivered = {**offer, "notice_sha256": "ab" * 32, "notice_delivered_on": "2026-12-01"}
    assert told([split, ("offer", delivered)]) == [
        ("tier1", "offer_accepted", "TK1"),
        ("core", "assignment_notified", "TK1"),
    ]
    assert told([split, ("offer", offer)]) == [("tier1", "offer_accepted", "TK1")]  # no notice, none told
