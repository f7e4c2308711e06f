"""Issue #17 points 1 and 4 on the ledger: onboarding happens once (the desk cannot make a
member "onboarding" again by eliminating its admins), recovering a member with no usable admin
needs admins of a majority of the other members, and a card reported lost is suspended on the
ledger itself, so its key signs nothing there even when sent straight to the ledger."""

from __future__ import annotations

import hashlib

import pytest
from support import PIN

from goldticket.domain import DomainError, ForbiddenError, StateConflictError
from goldticket.ledger import EndorseError
from goldticket.messages import Identity
from goldticket.services import cards, members, transfers
from goldticket.signing import Signer, new_member_key
from goldticket.signing.errors import CardStateError

pytestmark = pytest.mark.scenario


def _card(p, username: str):
    (record,) = [c for c in p.cards.registry.cards_of(username) if c.status in ("ACTIVE", "SUSPENDED")]
    return record


def _status(p, username: str) -> str | None:
    return cards.ledger_status(p, _card(p, username))


@pytest.fixture
def tier1_admin(consortium):
    p = consortium.platform
    admin = members.add_user(p, p.desk(), member_id="tier1", username="tier1.admin", role="admin", pin=PIN)
    assert _status(p, "tier1.admin") == "ACTIVE"
    assert p.evaluate("GetMember", {"id": "tier1"})["onboarded_tx"]
    return admin


def _admins(consortium, *member_ids: str) -> dict[str, object]:
    p = consortium.platform
    return {
        m: members.add_user(p, p.desk(), member_id=m, username=f"{m}.admin", role="admin", pin=PIN)
        for m in member_ids
    }


def test_eliminating_a_members_admins_does_not_let_the_desk_make_a_new_one(
    consortium, issued_ticket, tier1_admin
):
    """Point 1: the desk eliminates tier1's admin card, then makes a new admin: it waits for
    approval, approves nothing and moves no ticket."""
    p = consortium.platform
    cards.eliminate_card(p, p.desk(), _card(p, "tier1.admin").serial)
    height = p.ledger.height()
    usurper = members.add_user(
        p, p.desk(), member_id="tier1", username="tier1.usurper", role="admin", pin=PIN
    )
    assert _status(p, "tier1.usurper") == "PENDING_APPROVAL"
    assert p.ledger.height() == height + 2  # the desk's expectation and the card's claim only
    waiting = members.add_user(p, p.desk(), member_id="tier1", username="tier1.waiting", pin=PIN)
    with pytest.raises(ForbiddenError):
        cards.approve_card(p, usurper, _card(p, "tier1.waiting").serial, PIN)
    with pytest.raises(ForbiddenError):
        transfers.offer_transfer(
            p, usurper, ticket_id=issued_ticket["id"], to_org_id="tier2", amount_fen=100, pin=PIN
        )
    assert _status(p, "tier1.waiting") == "PENDING_APPROVAL"
    assert p.evaluate("GetTicket", {"ticket_id": issued_ticket["id"]})["status"] == "ACTIVE"
    del waiting


def test_a_member_without_admin_is_recovered_by_a_majority_of_the_other_members(
    consortium, issued_ticket, tier1_admin
):
    p = consortium.platform
    # five other non-operator members (core, tier2, tier3, bank, factor): three approvals needed
    admins = _admins(consortium, "core", "tier2", "bank", "factor")
    cards.eliminate_card(p, p.desk(), _card(p, "tier1.admin").serial)
    members.add_user(p, p.desk(), member_id="tier1", username="tier1.new.admin", role="admin", pin=PIN)
    serial = _card(p, "tier1.new.admin").serial
    # neither the operator nor the member's own users nor a clerk of another member approve
    operator, pin = p.actor("operator"), p.settings.operator_pin
    with pytest.raises(ForbiddenError):
        cards.approve_recovery(p, operator, serial, pin)
    record = p.cards.registry.get(serial)
    request = {"msp_id": record.msp_id, "certificate_pem": record.certificate_pem}
    with pytest.raises(ForbiddenError, match="only a core or supplier or bank member"):
        p.submit(operator, "ApproveRecovery", request, pin=pin)  # the chaincode, not only the service
    with pytest.raises(ForbiddenError):
        cards.approve_recovery(p, consortium.tier2, serial, PIN)
    first = cards.approve_recovery(p, admins["core"], serial, PIN)
    assert first["ledger_status"] == "PENDING_APPROVAL"
    assert first["recovery"] == {"approvals": 1, "needed": 3, "approved_by": ["core"]}
    with pytest.raises(StateConflictError, match="already approved"):
        cards.approve_recovery(p, admins["core"], serial, PIN)
    cards.approve_recovery(p, admins["tier2"], serial, PIN)
    assert _status(p, "tier1.new.admin") == "PENDING_APPROVAL"
    # a member registered after the recovery began (the operator registers members) has no vote
    members.register_member(p, p.desk(), member_id="late", name="后来者", role="supplier")
    late = members.add_user(p, p.desk(), member_id="late", username="late.admin", role="admin", pin=PIN)
    with pytest.raises(ForbiddenError, match="after this recovery began"):
        cards.approve_recovery(p, late, serial, PIN)
    done = cards.approve_recovery(p, admins["bank"], serial, PIN)
    assert done["ledger_status"] == "ACTIVE"
    identity = p.evaluate(
        "GetIdentity", {"msp_id": done["msp_id"], "certificate_pem": done["certificate_pem"]}
    )
    assert [a["member_id"] for a in identity["recovery"]["approvals"]] == ["core", "tier2", "bank"]
    assert identity["recovery"]["electorate"] == ["bank", "core", "factor", "tier2", "tier3"]
    # once recovered the member approves its own users again; recovery is over
    with pytest.raises(StateConflictError):
        cards.approve_recovery(p, admins["factor"], serial, PIN)
    recovered = p.actor("tier1.new.admin")
    clerk = members.add_user(p, p.desk(), member_id="tier1", username="tier1.after", pin=PIN)
    cards.approve_card(p, recovered, _card(p, "tier1.after").serial, PIN)
    transfers.offer_transfer(
        p, clerk, ticket_id=issued_ticket["id"], to_org_id="tier2", amount_fen=100, pin=PIN
    )


def test_recovery_is_only_for_an_onboarded_member_with_no_active_admin(consortium, tier1_admin):
    p = consortium.platform
    admins = _admins(consortium, "core")
    # tier1 still has its admin: a new admin is approved by it, not recovered by others
    members.add_user(p, p.desk(), member_id="tier1", username="tier1.second", role="admin", pin=PIN)
    with pytest.raises(StateConflictError, match="has an active admin"):
        cards.approve_recovery(p, admins["core"], _card(p, "tier1.second").serial, PIN)
    # a suspended admin (its card reported lost) is not made active by a recovery
    cards.eliminate_card(p, p.desk(), _card(p, "tier1.admin").serial)
    second = _card(p, "tier1.second").serial
    cards.report_lost(p, p.desk(), second)
    with pytest.raises(StateConflictError, match="not waiting for approval"):
        cards.approve_recovery(p, admins["core"], second, PIN)
    # only an admin identity is recovered
    cards.eliminate_card(p, p.desk(), second)
    members.add_user(p, p.desk(), member_id="tier1", username="tier1.clerk2", pin=PIN)
    with pytest.raises(DomainError, match="admin"):
        cards.approve_recovery(p, admins["core"], _card(p, "tier1.clerk2").serial, PIN)


class _KeyInTheCard(Signer):
    """The lost card's key used straight on the ledger: no card registry, no gateway, as an
    attacker holding the card and its PIN would."""

    def __init__(self, card, identity: Identity) -> None:
        self.card, self._identity = card, identity

    @property
    def identity(self) -> Identity:
        return self._identity

    def sign(self, message: bytes, purpose: str = "proposal") -> bytes:
        return self.card.sign_digest(hashlib.sha256(message).digest(), PIN)


def test_a_card_reported_lost_signs_nothing_on_the_ledger(consortium, issued_ticket):
    """Point 4: reporting the card lost suspends its identity on the ledger itself; the key,
    sent straight to the ledger, signs nothing; the replacement card (same key) resumes it."""
    p = consortium.platform
    record = _card(p, "tier1.clerk")
    stolen = _KeyInTheCard(
        p.cards.service.card_for(record), Identity(record.msp_id, record.certificate_pem.encode())
    )
    cards.report_lost(p, p.desk(), record.serial)
    assert cards.ledger_status(p, p.cards.registry.get(record.serial)) == "SUSPENDED"
    offer = {"ticket_id": issued_ticket["id"], "to_org_id": "tier2", "amount_fen": 100}
    height = p.ledger.height()
    with pytest.raises((EndorseError, DomainError), match="not registered or has been revoked"):
        p.contract.submit(stolen, "OfferTransfer", offer)
    assert p.ledger.height() == height
    assert p.evaluate("GetTicket", {"ticket_id": issued_ticket["id"]})["status"] == "ACTIVE"
    # a retry of the report changes nothing and fails nothing
    cards.report_lost(p, p.desk(), record.serial)
    # the replacement card carries the same key: the desk starting it resumes the identity, its
    # user finishes it with the PIN
    started = cards.replace_card(p, p.desk(), record.serial, operator_password=p.settings.operator_password)
    replaced = cards.recover_card(p, consortium.tier1, started["serial"], PIN)
    assert cards.ledger_status(p, p.cards.registry.get(replaced["serial"])) == "ACTIVE"
    identity = p.evaluate("GetIdentity", {"msp_id": record.msp_id, "certificate_pem": record.certificate_pem})
    assert identity["suspended_by"] == "operator" and identity["resumed_by"] == "operator"
    transfers.offer_transfer(
        p, consortium.tier1, ticket_id=issued_ticket["id"], to_org_id="tier2", amount_fen=100, pin=PIN
    )


def test_a_suspended_identity_is_resumed_only_by_the_desk_or_its_members_admin(consortium, tier1_admin):
    p = consortium.platform
    record = _card(p, "tier1.clerk")
    request = {"msp_id": record.msp_id, "certificate_pem": record.certificate_pem}
    with pytest.raises(ForbiddenError):  # an admin of another member
        p.submit(_admins(consortium, "tier2")["tier2"], "SuspendIdentity", request, pin=PIN)
    with pytest.raises(ForbiddenError):  # a clerk, even of the same member
        p.submit(consortium.tier1, "SuspendIdentity", request, pin=PIN)
    cards.report_lost(p, p.desk(), record.serial)
    with pytest.raises(StateConflictError):
        p.submit(p.actor("operator"), "SuspendIdentity", request, pin=p.settings.operator_pin)
    resumed = p.submit(tier1_admin, "ResumeIdentity", request, pin=PIN).result
    assert resumed["status"] == "ACTIVE" and resumed["resumed_by"] == "tier1.admin"
    with pytest.raises(StateConflictError):
        p.submit(tier1_admin, "ResumeIdentity", request, pin=PIN)


def test_the_desk_cannot_act_on_its_own_card(consortium):
    p = consortium.platform
    desk = p.desk()
    own = p.cards.registry.active_card(desk.actor.username).serial
    for act in (cards.report_lost, cards.eliminate_card, cards.unlock_card):
        with pytest.raises(ForbiddenError, match="own card"):
            act(p, desk, own)
    with pytest.raises(ForbiddenError, match="own card"):
        cards.replace_card(p, desk, own, operator_password=p.settings.operator_password)
    assert p.cards.registry.get(own).status == "ACTIVE"


def test_a_user_gets_a_second_card_only_by_replacement(consortium):
    p = consortium.platform
    with pytest.raises((StateConflictError, CardStateError), match="replace"):
        cards.open_card(p, p.desk(), "tier1.clerk")
    assert len(p.cards.registry.cards_of("tier1.clerk")) == 1


def test_the_operator_member_is_not_recovered_by_the_members(consortium):
    """Recovery is for a member onboarded by its first admin; the operator member (bootstrapped)
    is not handed to the other members even when its admins are gone."""
    p = consortium.platform
    admins = _admins(consortium, "core")
    operator, pin = p.actor("operator"), p.settings.operator_pin
    ca = p.keystore.cas()["OperatorMSP"]
    key = new_member_key()
    attributes = {"member": "operator", "role": "admin", "user": "operator.next"}
    certificate = ca.issue(key.public_key(), common_name="operator.next", attributes=attributes)
    request = {"msp_id": ca.msp_id, "certificate_pem": certificate.decode()}
    assert p.submit(operator, "RegisterIdentity", request, pin=pin).result["status"] == "PENDING_APPROVAL"
    own = p.cards.registry.active_card("operator")
    p.submit(
        operator, "RevokeIdentity", {"msp_id": own.msp_id, "certificate_pem": own.certificate_pem}, pin=pin
    )
    with pytest.raises(StateConflictError, match="never onboarded"):
        p.submit(admins["core"], "ApproveRecovery", request, pin=PIN)


def test_approvals_are_refused_before_the_pin_is_tried(consortium, tier1_admin):
    """Who may approve, and whether the card has anything to approve, is decided before the
    approver's PIN is tried: a wrong PIN from someone who may not approve is refused as such,
    and no try is counted on their card (kills the services' guards removed: the chaincode
    would refuse too, but only after the PIN)."""
    p = consortium.platform
    admins = _admins(consortium, "core")
    waiting = members.add_user(p, p.desk(), member_id="tier1", username="tier1.waiting", pin=PIN)
    serial = _card(p, "tier1.waiting").serial
    wrong = "975318"
    for approver in (consortium.tier1, admins["core"]):  # a clerk; another member's admin
        mine = _card(p, approver.username).serial
        before = p.cards.registry.tries_left(mine)
        with pytest.raises(ForbiddenError):
            cards.approve_card(p, approver, serial, wrong)
        assert p.cards.registry.tries_left(mine) == before
    # a card opened by the desk and not issued yet (no PIN chosen): nothing to approve
    members.add_user(p, p.desk(), member_id="tier1", username="tier1.unissued")
    opened = p.cards.registry.get(cards.issue_card(p, p.desk(), "tier1.unissued")["serial"])
    mine = _card(p, "tier1.admin").serial
    before = p.cards.registry.tries_left(mine)
    with pytest.raises(CardStateError, match="has not been issued"):
        cards.approve_card(p, tier1_admin, opened.serial, wrong)
    with pytest.raises(CardStateError, match="has not been issued"):
        cards.approve_recovery(p, admins["core"], opened.serial, wrong)
    assert p.cards.registry.tries_left(mine) == before
    # the list of what waits for approval is a member admin's only
    for nobody in (consortium.tier1, p.actor("operator")):
        with pytest.raises(ForbiddenError):
            cards.awaiting_approval(p, nobody)
    assert serial in [card["serial"] for card in cards.awaiting_approval(p, tier1_admin)["members"]]
    # a recovery: the member's own admin, a clerk and the operator are refused before the PIN
    for approver in (tier1_admin, consortium.tier2):
        with pytest.raises(ForbiddenError):
            cards.approve_recovery(p, approver, serial, wrong)
    del waiting


def test_a_closed_card_is_never_replaced_nor_recovered_into_a_new_one(consortium):
    """补卡 only carries the key of a live card (active or reported lost) into a card waiting for
    it: an eliminated or already replaced card is refused at the desk, a card not waiting for a
    replacement is refused to its user, and an old card eliminated after the replacement began
    never comes back in the new card (kills the services' guards of replace_card and
    recover_card: cards.py :299, :329, :332; eliminate_card's :376)."""
    p = consortium.platform
    password = p.settings.operator_password
    # a card not waiting for a replacement: its user's recovery is refused as such
    own = _card(p, "tier1.clerk")
    with pytest.raises(CardStateError, match="not waiting for a replacement"):
        cards.recover_card(p, consortium.tier1, own.serial, PIN)
    # replaced once: the old card cannot be replaced again
    started = cards.replace_card(p, p.desk(), own.serial, operator_password=password)
    cards.recover_card(p, consortium.tier1, started["serial"], PIN)
    count = len(p.cards.registry.cards_of("tier1.clerk"))
    with pytest.raises(CardStateError, match="cannot be replaced"):
        cards.replace_card(p, p.desk(), own.serial, operator_password=password)
    # eliminated: never replaced
    cards.eliminate_card(p, p.desk(), started["serial"])
    with pytest.raises(CardStateError, match="cannot be replaced"):
        cards.replace_card(p, p.desk(), started["serial"], operator_password=password)
    assert len(p.cards.registry.cards_of("tier1.clerk")) == count
    # nor reported lost once closed
    for closed in (started["serial"], own.serial):
        with pytest.raises(CardStateError, match="only an active card is reported lost"):
            cards.report_lost(p, p.desk(), closed)
    # nor eliminated twice, nor eliminated once replaced (its key lives on elsewhere or nowhere)
    for closed in (started["serial"], own.serial):
        with pytest.raises(CardStateError, match="cannot be eliminated"):
            cards.eliminate_card(p, p.desk(), closed)
    assert p.cards.registry.get(own.serial).status == "REPLACED"
    # tier2's card: the replacement begins, then the desk eliminates the old card; the new one
    # never receives its key
    old = _card(p, "tier2.clerk")
    waiting = cards.replace_card(p, p.desk(), old.serial, operator_password=password)
    cards.eliminate_card(p, p.desk(), old.serial)
    with pytest.raises(CardStateError, match="cannot be recovered"):
        cards.recover_card(p, consortium.tier2, waiting["serial"], PIN)
    assert p.cards.registry.get(waiting["serial"]).status == "OPENED"
