"""Over the API the operator desk proves itself on every action with its admin's card PIN
(``desk_pin``): a session token alone opens no desk."""

from __future__ import annotations

import contextlib

from support import OPERATOR_PIN, PIN

from goldticket.signing.errors import WrongPinError


def test_a_desk_action_needs_the_desk_admins_pin(members, portal) -> None:
    registry = portal.platform.cards.registry
    serial = members.cards["tier1"]
    operator = members.operator
    missing = operator.post(f"/cards/{serial}/report-lost", {}, expect=400)
    assert missing["error"] == "invalid_input"
    wrong = operator.post(f"/cards/{serial}/report-lost", {"desk_pin": "999999"}, expect=403)
    assert wrong["error"] == "wrong_pin"
    assert registry.get(serial).status == "ACTIVE"

    record = registry.get(serial)
    for _ in range(5):  # five wrong PINs lock the clerk's card
        with contextlib.suppress(WrongPinError):
            portal.platform.cards.service.check_pin(record, "999999")
    assert registry.get(serial).locked
    operator.post(f"/cards/{serial}/unlock", {"desk_pin": "999999"}, expect=403)
    assert registry.get(serial).locked
    unlocked = operator.post(f"/cards/{serial}/unlock", {"desk_pin": OPERATOR_PIN}, expect=200)
    assert unlocked["card_id"] == serial and not registry.get(serial).locked
    entries = portal.platform.cards.service.audit.path.read_text(encoding="utf-8")
    assert '"desk":"card unlock"' in entries and OPERATOR_PIN not in entries and PIN not in entries
