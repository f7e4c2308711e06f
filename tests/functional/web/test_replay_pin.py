"""A replay under an Idempotency-Key answers the first result (it writes nothing), but only to
whoever could have sent the request: the PIN of the replay is proved on the caller's card like
any other, a wrong one counts towards locking it, and a locked or revoked card replays nothing
(docs/decisions.md, "A replay proves its PIN")."""

from __future__ import annotations

import pytest
from support import OPERATOR_PIN, PIN

pytestmark = pytest.mark.functional
WRONG = "000000"


def _transfer(ticket_id: str, amount: int) -> tuple[str, dict[str, object]]:
    return f"/tickets/{ticket_id}/transfers", {"to_org_id": "tier2", "amount_fen": amount, "pin": PIN}


def test_a_replay_with_a_wrong_pin_is_refused_and_counted(members, accepted, portal):
    tier1 = members["tier1"]
    path, body = _transfer(accepted["id"], 10)
    first = tier1.post(path, body, expect=201, **{"Idempotency-Key": "pin-1"})
    height = portal.platform.ledger.height()

    refused = tier1.post(path, {**body, "pin": WRONG}, expect=403, **{"Idempotency-Key": "pin-1"})
    assert refused["error"] == "wrong_pin" and "4 tries left" in refused["message"]
    assert "Idempotent-Replayed" not in tier1.last.headers
    again = tier1.post(path, body, expect=201, **{"Idempotency-Key": "pin-1"})
    assert again == first and tier1.last.headers["Idempotent-Replayed"] == "true"
    assert portal.platform.ledger.height() == height  # nothing written by any of them

    # the right PIN cleared the count; five wrong ones lock the card, replays included
    for _ in range(5):
        tier1.post(path, {**body, "pin": WRONG}, expect=403, **{"Idempotency-Key": "pin-1"})
    locked = tier1.post(path, body, expect=423, **{"Idempotency-Key": "pin-1"})
    assert locked["error"] == "card_locked"
    members.operator.post(f"/cards/{members.cards['tier1']}/unlock", {"desk_pin": OPERATOR_PIN}, expect=200)
    assert tier1.post(path, body, expect=201, **{"Idempotency-Key": "pin-1"}) == first


def test_a_desk_replay_proves_the_desk_pin(members, portal):
    operator = members.operator
    body = {"id": "late", "name": "Late 公司", "role": "supplier", "desk_pin": OPERATOR_PIN}
    first = operator.post("/orgs", body, expect=201, **{"Idempotency-Key": "org-1"})
    refused = operator.post("/orgs", {**body, "desk_pin": WRONG}, expect=403, **{"Idempotency-Key": "org-1"})
    assert refused["error"] == "wrong_pin"
    assert operator.post("/orgs", body, expect=201, **{"Idempotency-Key": "org-1"}) == first


def test_a_replay_after_the_card_is_reported_lost_is_refused(members, accepted, portal):
    tier1 = members["tier1"]
    path, body = _transfer(accepted["id"], 12)
    tier1.post(path, body, expect=201, **{"Idempotency-Key": "lost-1"})
    members.operator.post(
        f"/cards/{members.cards['tier1']}/report-lost", {"desk_pin": OPERATOR_PIN}, expect=200
    )
    refused = tier1.post(path, body, expect=423, **{"Idempotency-Key": "lost-1"})
    assert refused["error"] == "card_revoked"
