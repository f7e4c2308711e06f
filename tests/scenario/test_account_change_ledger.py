"""#21 on every ledger: a change of a member's settlement account needs the member's admin
(RequestAccountChange, its own card) and then the operator (ConfirmAccountChange, stating the
same hash); neither alone changes the KYC hash the member's record keeps; the operator cannot
start one, a clerk cannot ask, another member's admin cannot confirm or withdraw it."""

from __future__ import annotations

import hashlib

import pytest
from support import PIN

from goldticket import domain as d
from goldticket.services import cards, members

pytestmark = pytest.mark.scenario
OLD = hashlib.sha256(b"old record").hexdigest()
NEW = hashlib.sha256(b"new record").hexdigest()


@pytest.fixture
def acme(consortium):
    """A supplier registered with a KYC hash, its admin and a clerk."""
    p = consortium.platform
    members.register_member(p, p.desk(), member_id="acme", name="阿克米", role="supplier", kyc_sha256=OLD)
    admin = members.add_user(p, p.desk(), member_id="acme", username="acme.admin", role="admin", pin=PIN)
    clerk = members.add_user(p, p.desk(), member_id="acme", username="acme.clerk", pin=PIN)
    # a second card on an onboarded member waits for its admin's approval
    (card,) = cards.cards_of(p, "acme.clerk")
    cards.approve_card(p, admin, card["serial"], PIN)
    return admin, clerk


def _member(platform):
    return platform.evaluate("GetMember", {"id": "acme"})


def _request(platform, actor, sha256=NEW):
    return platform.submit(actor, "RequestAccountChange", {"kyc_sha256": sha256}, pin=PIN).result


def _confirm(platform, change, sha256=None, member_id="acme"):
    request = {
        "member_id": member_id,
        "change_id": change["id"],
        "kyc_sha256": sha256 or change["kyc_sha256"],
    }
    operator = platform.actor("operator")
    return platform.submit(
        operator, "ConfirmAccountChange", request, pin=platform.settings.operator_pin
    ).result


def test_the_admin_asks_and_the_operator_confirms_then_the_hash_changes(consortium, acme) -> None:
    p = consortium.platform
    admin, _ = acme
    change = _request(p, admin)
    assert change["status"] == "PENDING" and change["kyc_sha256"] == NEW
    assert _member(p)["kyc_sha256"] == OLD  # the request alone changes nothing
    assert _member(p)["pending_account_change"] == change["id"]
    confirmed = _confirm(p, change)
    assert confirmed["status"] == "CONFIRMED" and confirmed["confirmed_by"]["user"] == "operator"
    member = _member(p)
    assert member["kyc_sha256"] == NEW and member["account_change_id"] == change["id"]
    assert member["account_changed_on"] == p.today().isoformat() and "pending_account_change" not in member
    listed = p.evaluate("ListAccountChanges", {"member_id": "acme"})["items"]
    assert [(item["id"], item["status"]) for item in listed] == [(change["id"], "CONFIRMED")]
    with pytest.raises(d.StateConflictError, match="not PENDING"):
        _confirm(p, change)  # once


def test_the_operator_cannot_start_a_change_nor_change_the_hash_alone(consortium, acme) -> None:
    p = consortium.platform
    operator = p.actor("operator")
    with pytest.raises(d.ForbiddenError, match="only a core or supplier or bank member"):
        p.submit(operator, "RequestAccountChange", {"kyc_sha256": NEW}, pin=p.settings.operator_pin)
    # the desk's other writes of a member leave its KYC hash alone
    p.submit(operator, "UpdateMember", {"id": "acme", "kyc_sha256": NEW}, pin=p.settings.operator_pin)
    with pytest.raises(d.StateConflictError, match="already registered"):
        p.submit(
            operator,
            "RegisterMember",
            {"id": "acme", "name": "阿克米", "role": "supplier", "msp_id": "OperatorMSP", "kyc_sha256": NEW},
            pin=p.settings.operator_pin,
        )
    with pytest.raises(d.NotFoundError):
        _confirm(p, {"id": "ACnothing", "kyc_sha256": NEW})
    assert _member(p)["kyc_sha256"] == OLD


def test_a_clerk_and_other_members_cannot_ask_and_the_member_cannot_confirm(consortium, acme) -> None:
    p = consortium.platform
    admin, clerk = acme
    with pytest.raises(d.ForbiddenError, match="only an admin"):
        _request(p, clerk)
    change = _request(p, admin)
    for actor in (admin, clerk, consortium.core):  # the member itself, or anyone else, confirms nothing
        with pytest.raises(d.ForbiddenError):
            p.submit(
                actor,
                "ConfirmAccountChange",
                {"member_id": "acme", "change_id": change["id"], "kyc_sha256": NEW},
                pin=PIN,
            )
    with pytest.raises(d.ForbiddenError):  # another member's admin withdraws nothing either
        core_admin = members.add_user(
            p, p.desk(), member_id="core", username="core.admin2", role="admin", pin=PIN
        )
        p.submit(core_admin, "RejectAccountChange", {"member_id": "acme", "change_id": change["id"]}, pin=PIN)
    with pytest.raises(d.StateConflictError, match="waits for the operator"):
        _request(p, admin, hashlib.sha256(b"third").hexdigest())
    assert _member(p)["kyc_sha256"] == OLD


def test_the_operator_confirms_only_the_hash_asked_for(consortium, acme) -> None:
    p = consortium.platform
    admin, _ = acme
    change = _request(p, admin)
    with pytest.raises(d.RuleViolationError, match="another record"):
        _confirm(p, change, sha256=hashlib.sha256(b"swapped").hexdigest())
    with pytest.raises(d.NotFoundError):
        _confirm(p, change, member_id="core")  # the change of another member
    assert _member(p)["kyc_sha256"] == OLD
    with pytest.raises(d.RuleViolationError, match="already registered"):
        _request(p, admin, OLD)


def test_a_withdrawn_or_declined_change_changes_nothing(consortium, acme) -> None:
    p = consortium.platform
    admin, _ = acme
    change = _request(p, admin)
    withdrawn = p.submit(
        admin, "RejectAccountChange", {"member_id": "acme", "change_id": change["id"]}, pin=PIN
    )
    assert withdrawn.result["status"] == "REJECTED"
    with pytest.raises(d.StateConflictError):
        _confirm(p, change)
    again = _request(p, admin)
    operator = p.actor("operator")
    declined = p.submit(
        operator,
        "RejectAccountChange",
        {"member_id": "acme", "change_id": again["id"], "reason": "the bank letter is missing"},
        pin=p.settings.operator_pin,
    ).result
    assert declined["status"] == "REJECTED" and declined["reason"] == "the bank letter is missing"
    member = _member(p)
    assert member["kyc_sha256"] == OLD and "pending_account_change" not in member
    assert "account_changed_on" not in member


def test_a_member_without_a_registered_record_asks_nothing(consortium) -> None:
    p = consortium.platform
    admin = members.add_user(p, p.desk(), member_id="tier1", username="tier1.admin", role="admin", pin=PIN)
    with pytest.raises(d.RuleViolationError, match="no registered KYC record"):
        _request(p, admin)
