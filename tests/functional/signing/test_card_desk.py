"""The operator desk's card life cycle: issue, report lost, replace, eliminate, unlock."""

from __future__ import annotations

import pytest
from support import OPERATOR_PASSWORD, PIN, replace_card

from goldticket.domain import InvalidInputError
from goldticket.services import cards, transfers
from goldticket.signing.errors import BackupError, CardRevokedError, CardStateError, WrongPinError
from goldticket.signing.registry import CardRegistry

pytestmark = pytest.mark.functional


def card_of(consortium, actor):
    return consortium.platform.cards.registry.active_card(actor.username)


def test_an_issued_card_is_registered_on_the_ledger_and_backed_up(consortium):
    record = card_of(consortium, consortium.tier1)
    assert record.status == "ACTIVE" and record.backup["version"] == 2
    assert record.backup["outer"]["keys"] == consortium.platform.cards.backup_keys.kind
    assert PIN not in str(record.backup) and OPERATOR_PASSWORD not in str(record.backup)
    public = cards.cards_of(consortium.platform, "tier1.clerk")[0]
    assert "backup" not in public
    card = consortium.platform.cards.service.card_for(record)
    assert card.exists()


def test_a_replaced_card_keeps_the_key_and_the_old_one_is_refused(consortium, issued_ticket):
    platform = consortium.platform
    old = card_of(consortium, consortium.tier1)
    old_public = platform.cards.service.card_for(old).public_key()
    cards.report_lost(platform, platform.desk(), old.serial)
    with pytest.raises(CardRevokedError):
        transfers.offer_transfer(
            platform,
            consortium.tier1,
            ticket_id=issued_ticket["id"],
            to_org_id="tier2",
            amount_fen=1,
            pin=PIN,
        )
    new = replace_card(platform, old.serial, PIN)
    assert new["serial"] != old.serial and new["certificate_pem"] == old.certificate_pem
    new_record = platform.cards.registry.get(new["serial"])
    assert platform.cards.service.card_for(new_record).public_key() == old_public
    assert platform.cards.registry.get(old.serial).status == "REPLACED"
    assert not platform.cards.service.card_for(old).exists()
    offer = transfers.offer_transfer(
        platform, consortium.tier1, ticket_id=issued_ticket["id"], to_org_id="tier2", amount_fen=1, pin=PIN
    )
    assert offer["ticket"]["status"] == "LOCKED_TRANSFER"
    with pytest.raises(CardRevokedError):
        platform.cards.service.sign(
            serial=old.serial,
            pin=PIN,
            purpose="proposal",
            message=b"x",
            intent={"function": "Ping", "request": {}},
        )


@pytest.mark.parametrize(
    ("pin", "password"),
    [("000000", OPERATOR_PASSWORD), (PIN, "wrong password"), ("000000", "wrong password")],
)
def test_recovery_needs_both_passwords(consortium, pin, password):
    platform = consortium.platform
    old = card_of(consortium, consortium.tier2)
    cards.report_lost(platform, platform.desk(), old.serial)
    before = [card["serial"] for card in cards.cards_of(platform, "tier2.clerk")]
    with pytest.raises((BackupError, WrongPinError)):
        replace_card(platform, old.serial, pin, password)
    after = [card for card in cards.cards_of(platform, "tier2.clerk") if card["serial"] not in before]
    assert all(card["status"] == "OPENED" for card in after)  # a replacement waiting, no key moved
    assert platform.cards.registry.get(old.serial).status == "SUSPENDED"


def test_an_eliminated_card_is_revoked_on_the_ledger(consortium):
    platform = consortium.platform
    record = card_of(consortium, consortium.tier3)
    cards.eliminate_card(platform, platform.desk(), record.serial)
    assert platform.cards.registry.get(record.serial).status == "ELIMINATED"
    assert not platform.cards.service.card_for(record).exists()
    identities = [platform.evaluate("GetIdentity", {"key_id": key}) for key in _key_ids(record)]
    assert identities[0]["status"] == "REVOKED"
    with pytest.raises(CardStateError):
        cards.eliminate_card(platform, platform.desk(), record.serial)


def _key_ids(record):
    import hashlib

    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    cert = x509.load_pem_x509_certificate(record.certificate_pem.encode())
    spki = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return [hashlib.sha256(spki).hexdigest()]


def test_a_pin_is_chosen_once_then_only_changed(consortium):
    platform = consortium.platform
    record = card_of(consortium, consortium.bank)
    with pytest.raises(InvalidInputError):
        cards.set_pin(platform, consortium.bank, record.serial, "740319")


def test_the_registry_survives_a_restart(consortium):
    path = consortium.platform.cards.registry.path
    again = CardRegistry(path)
    assert again.active_card("tier1.clerk").serial == card_of(consortium, consortium.tier1).serial
    again.close()


def test_issuing_again_finishes_a_registration_that_failed(consortium):
    """A card personalised but never registered (the ledger call failed) can be issued again."""
    from goldticket.domain import ForbiddenError, NotFoundError
    from goldticket.services import members

    platform = consortium.platform
    members.add_user(platform, platform.desk(), member_id="tier3", username="tier3.second")
    serial = cards.issue_card(platform, platform.desk(), "tier3.second")["serial"]
    record = cards.personalise(platform, serial, PIN, msp_id="OperatorMSP")  # as if the ledger call failed
    request = {"msp_id": record.msp_id, "certificate_pem": record.certificate_pem}
    with pytest.raises(NotFoundError):
        platform.evaluate("GetIdentity", request)
    with pytest.raises(ForbiddenError):
        platform.submit(
            platform.actor("tier3.second"),
            "AcceptTicket",
            {"ticket_id": "x"},
            pin=PIN,
        )
    issued = cards.set_pin(platform, platform.actor("tier3.second"), serial, PIN)
    assert issued["serial"] == serial
    assert platform.evaluate("GetIdentity", request)["status"] == "ACTIVE"
    with pytest.raises(InvalidInputError):
        cards.set_pin(platform, platform.actor("tier3.second"), serial, PIN)


def test_a_replaced_card_cannot_be_eliminated_and_its_replacement_keeps_signing(consortium, issued_ticket):
    platform = consortium.platform
    old = card_of(consortium, consortium.tier1)
    cards.report_lost(platform, platform.desk(), old.serial)
    replace_card(platform, old.serial, PIN)
    with pytest.raises(CardStateError):
        cards.eliminate_card(platform, platform.desk(), old.serial)
    offer = transfers.offer_transfer(
        platform, consortium.tier1, ticket_id=issued_ticket["id"], to_org_id="tier2", amount_fen=1, pin=PIN
    )
    assert offer["offer_id"]


def test_issuing_again_after_a_crash_past_put_key_starts_afresh(consortium):
    from goldticket.services import members

    platform = consortium.platform
    members.add_user(platform, platform.desk(), member_id="tier3", username="tier3.third")
    serial = cards.issue_card(platform, platform.desk(), "tier3.third")["serial"]
    record = platform.cards.registry.get(serial)
    platform.cards.service.card_for(record).put_key(12345, PIN)  # as if issuing stopped right after
    issued = cards.set_pin(platform, platform.actor("tier3.third"), serial, PIN)
    assert issued["status"] == "ACTIVE"
