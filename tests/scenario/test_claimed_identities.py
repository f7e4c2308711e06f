"""A new card registers its own identity (ClaimIdentity) only as the desk expected it
(ExpectIdentity): same member, user, role and card, once; the desk never holds its key or PIN.
Enforced by the chaincode, on whichever ledger runs."""

from __future__ import annotations

import pytest
from support import PIN

from goldticket.domain import DomainError, error_from_message
from goldticket.ledger import Contract, EndorseError
from goldticket.messages import Identity
from goldticket.services import cards, members
from goldticket.services.context import china_clock
from goldticket.settings import ROLE_MSP
from goldticket.signing import SoftwareSigner, new_member_key

pytestmark = pytest.mark.scenario


def _key(p, member_id, username, role="clerk"):
    ca = p.member_ca(ROLE_MSP[p.evaluate("GetMember", {"id": member_id})["role"]])
    key = new_member_key()
    attributes = {"member": member_id, "role": role, "user": username}
    cert = ca.issue(key.public_key(), common_name=username, attributes=attributes)
    return SoftwareSigner(key, Identity(ca.msp_id, cert))


def _claim(p, signer, card):
    try:
        Contract(p.ledger, clock=lambda: china_clock(p.settings.today)).submit(
            signer, "ClaimIdentity", {"card": card}
        )
    except EndorseError as error:
        typed = error_from_message(error.chaincode_message or "")
        return typed.code if isinstance(typed, DomainError) else str(error)
    return "ok"


def test_a_card_claims_only_what_the_desk_expected(consortium):
    p = consortium.platform
    operator, pin = p.actor("operator"), p.settings.operator_pin
    assert _claim(p, _key(p, "tier2", "tier2.nobody"), "BS1") == "forbidden"  # nothing expected
    expected = {"member_id": "tier2", "user": "tier2.new", "role": "clerk", "card": "BS2"}
    p.submit(operator, "ExpectIdentity", expected, pin=pin)
    height = p.ledger.height()
    assert _claim(p, _key(p, "tier2", "tier2.new", role="admin"), "BS2") == "forbidden"  # another role
    assert _claim(p, _key(p, "tier2", "tier2.new"), "BS9") == "forbidden"  # another card
    assert p.ledger.height() == height
    assert _claim(p, _key(p, "tier2", "tier2.new"), "BS2") == "ok"
    assert _claim(p, _key(p, "tier2", "tier2.new"), "BS2") == "forbidden"  # once


def test_the_desk_cannot_expect_for_itself(consortium):
    """ExpectIdentity is the operator desk's alone; a member's clerk is refused."""
    p = consortium.platform
    with pytest.raises(DomainError) as refused:
        p.submit(
            consortium.tier1,
            "ExpectIdentity",
            {"member_id": "tier1", "user": "tier1.x", "role": "admin", "card": "BS3"},
            pin=PIN,
        )
    assert refused.value.code == "forbidden"


def test_the_users_own_pin_registers_the_card(consortium):
    p = consortium.platform
    members.add_user(p, p.desk(), member_id="tier3", username="tier3.own")
    opened = cards.issue_card(p, p.desk(), "tier3.own")
    assert opened["status"] == "OPENED" and opened["certificate_pem"] is None
    issued = cards.set_pin(p, p.actor("tier3.own"), opened["serial"], "740319")
    assert issued["ledger_status"] in ("ACTIVE", "PENDING_APPROVAL")


@pytest.mark.parametrize("role", ["reader", "operator", "auditor", None])
def test_the_desk_expects_only_an_admin_or_a_clerk(consortium, role):
    """No other role is expected, the portal's read-only `reader` included: a claimed card of
    that role would pass for the member's own read identity. Refused, nothing written."""
    p = consortium.platform
    height = p.ledger.height()
    with pytest.raises(DomainError) as refused:
        p.submit(
            p.actor("operator"),
            "ExpectIdentity",
            {"member_id": "tier2", "user": "tier2.odd", "role": role, "card": "BS7"},
            pin=p.settings.operator_pin,
        )
    assert refused.value.code == "invalid_input"
    assert p.ledger.height() == height


def test_another_organisations_ca_cannot_claim_a_members_expected_card(consortium):
    """A certificate from the banks' CA naming a supplier's user is refused the supplier's
    expected card (the member takes identities from its own MSP), and the card stays expected."""
    p = consortium.platform
    expected = {"member_id": "tier2", "user": "tier2.msp", "role": "clerk", "card": "BS8"}
    p.submit(p.actor("operator"), "ExpectIdentity", expected, pin=p.settings.operator_pin)
    ca = p.member_ca(ROLE_MSP["bank"])
    key = new_member_key()
    cert = ca.issue(
        key.public_key(),
        common_name="tier2.msp",
        attributes={"member": "tier2", "role": "clerk", "user": "tier2.msp"},
    )
    height = p.ledger.height()
    assert _claim(p, SoftwareSigner(key, Identity(ca.msp_id, cert)), "BS8") == "rule_violation"
    assert p.ledger.height() == height
    assert _claim(p, _key(p, "tier2", "tier2.msp"), "BS8") == "ok"
