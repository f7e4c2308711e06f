"""Members control their own identities, and an invoice is its document: the attacks the
trust-boundaries review reproduced, on whichever ledger ``--ledger`` names."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from support import PIN, TODAY

from goldticket.domain import ForbiddenError, RuleViolationError, StateConflictError
from goldticket.messages import Identity
from goldticket.services import cards, members, tickets, transfers
from goldticket.signing import SoftwareSigner, new_member_key

pytestmark = pytest.mark.scenario
MATURITY = TODAY + dt.timedelta(days=90)


@pytest.fixture
def tier1_admin(consortium):
    """tier1's first admin, registered at once: tier1 had no admin yet (onboarding)."""
    admin = members.add_user(
        consortium.platform,
        consortium.platform.desk(),
        member_id="tier1",
        username="tier1.admin",
        role="admin",
        pin=PIN,
    )
    (card,) = cards.cards_of(consortium.platform, "tier1.admin")
    assert cards.ledger_status(
        consortium.platform, consortium.platform.cards.registry.get(card["serial"])
    ) == ("ACTIVE")
    return admin


def _minted(consortium, member_id: str, username: str, role: str = "clerk") -> SoftwareSigner:
    """What the operator can do with OperatorMSP's CA key: a certificate naming another member."""
    ca = consortium.platform.keystore.cas()["OperatorMSP"]
    key = new_member_key()
    attributes = {"member": member_id, "role": role, "user": username}
    cert = ca.issue(key.public_key(), common_name=username, attributes=attributes)
    return SoftwareSigner(key, Identity(ca.msp_id, cert))


def test_the_operator_cannot_make_a_user_of_a_member_that_has_an_admin(
    consortium, issued_ticket, tier1_admin
):
    p = consortium.platform
    forged = _minted(consortium, "tier1", "ghost")
    operator, pin = p.actor("operator"), p.settings.operator_pin
    request = {"msp_id": forged.identity.msp_id, "certificate_pem": forged.identity.certificate_pem.decode()}
    proposed = p.submit(operator, "RegisterIdentity", request, pin=pin).result
    assert proposed["status"] == "PENDING_APPROVAL"
    offer = {"ticket_id": issued_ticket["id"], "to_org_id": "tier3", "amount_fen": 100}
    with pytest.raises(Exception, match="not registered or has been revoked"):
        p.contract.submit(forged, "OfferTransfer", offer)
    # nor can the operator approve it: approval is for the member's own admins
    with pytest.raises(ForbiddenError):
        p.submit(operator, "ApproveIdentity", request, pin=pin)
    # an admin of another member cannot either, even signing the approval itself
    tier2_admin = members.add_user(
        p, p.desk(), member_id="tier2", username="tier2.admin", role="admin", pin=PIN
    )
    with pytest.raises(ForbiddenError, match="own member"):
        p.submit(tier2_admin, "ApproveIdentity", request, pin=PIN)
    members.add_user(p, p.desk(), member_id="tier1", username="tier1.waiting", pin=PIN)
    (waiting,) = cards.cards_of(p, "tier1.waiting")
    with pytest.raises(ForbiddenError, match="own member"):
        cards.approve_card(p, tier2_admin, waiting["serial"], PIN)
    assert p.evaluate("GetTicket", {"ticket_id": issued_ticket["id"]})["status"] == "ACTIVE"


def test_a_new_card_of_a_member_signs_once_its_admin_approves(consortium, issued_ticket, tier1_admin):
    p = consortium.platform
    clerk = members.add_user(p, p.desk(), member_id="tier1", username="tier1.new", pin=PIN)
    (card,) = cards.cards_of(p, "tier1.new")
    assert cards.ledger_status(p, p.cards.registry.get(card["serial"])) == "PENDING_APPROVAL"
    with pytest.raises(ForbiddenError):
        transfers.offer_transfer(
            p, clerk, ticket_id=issued_ticket["id"], to_org_id="tier2", amount_fen=100, pin=PIN
        )
    approved = cards.approve_card(p, tier1_admin, card["serial"], PIN)
    assert approved["ledger_status"] == "ACTIVE"
    with pytest.raises(StateConflictError):
        cards.approve_card(p, tier1_admin, card["serial"], PIN)
    offer = transfers.offer_transfer(
        p, clerk, ticket_id=issued_ticket["id"], to_org_id="tier2", amount_fen=100, pin=PIN
    )
    assert offer["ticket"]["status"] == "LOCKED_TRANSFER"


def test_a_revocation_is_shown_to_the_member(consortium, tier1_admin):
    p = consortium.platform
    (card,) = cards.cards_of(p, "tier1.clerk")
    cards.eliminate_card(p, p.desk(), card["serial"])
    listed = {item["user"]: item for item in p.evaluate("ListIdentities", {"member_id": "tier1"})["items"]}
    assert listed["tier1.clerk"]["status"] == "REVOKED" and listed["tier1.clerk"]["revoked_by"] == "operator"
    assert listed["tier1.admin"]["status"] == "ACTIVE"


def _doc(text: str, amount_fen: int, number: str) -> dict[str, object]:
    return {"number": number, "amount_fen": amount_fen, "sha256": hashlib.sha256(text.encode()).hexdigest()}


def test_one_invoice_document_backs_its_face_amount_once_whatever_its_number(consortium):
    c, p = consortium, consortium.platform
    members.register_member(p, p.desk(), member_id="core2", name="第二核心", role="core")
    core2 = members.add_user(p, p.desk(), member_id="core2", username="core2.clerk", pin=PIN)
    from goldticket.services import credit

    line = credit.grant_credit_line(p, c.bank, core_org_id="core2", limit_fen=10_000_000_000, pin=PIN)
    credit.accept_credit_line(p, core2, credit_line_id=line["id"], pin=PIN)

    def issue(actor, invoice, amount_fen=1_000):
        return tickets.issue_ticket(
            p,
            actor,
            payee_org_id="tier1",
            amount_fen=amount_fen,
            maturity_date=MATURITY,
            invoices=[invoice],
            pin=PIN,
        )

    issue(c.core, _doc("document nine", 1_000, "INV-9"))
    for spelling in ("INV-9 ", "inv-9", "ＩＮＶ－９"):  # the same number, spelled otherwise
        with pytest.raises(RuleViolationError, match="invoice already used"):
            issue(c.core, _doc("document nine", 1_000, spelling), amount_fen=1)
    # another issuer: the document is the first core's (issue #17 point 6)
    with pytest.raises(RuleViolationError, match="belongs to another core enterprise"):
        issue(core2, _doc("document nine", 1_000, "INV-9"), amount_fen=1)
    with pytest.raises(RuleViolationError, match="does not match"):  # known document, other number
        issue(c.core, _doc("document nine", 1_000, "INV-10"), amount_fen=1)
    with pytest.raises(RuleViolationError, match="does not match"):  # known document, other face
        issue(c.core, _doc("document nine", 2_000, "INV-9"), amount_fen=1)
    with pytest.raises(RuleViolationError, match="does not match"):  # known number, other document
        issue(c.core, _doc("document ten", 1_000, "inv-9"), amount_fen=1)
