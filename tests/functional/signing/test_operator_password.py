"""The operator password is changed by its owner (the desk): the backup token's PIN (C_SetPIN)
or the software key file, after every version 1 seed backup is rewrapped; the old password
then opens nothing and every backup opens under the new one with the user's PIN."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pytest
from support import OPERATOR_PASSWORD, PIN

from goldticket.services import operator_password
from goldticket.signing.backup import open_backup
from goldticket.signing.errors import BackupError

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "unit" / "signing"))
pytestmark = pytest.mark.functional
NEW = "a brand new operator password"


def test_the_operator_password_changes_and_version_1_backups_are_rewrapped(consortium):
    from test_signing_backup import legacy_seal

    platform = consortium.platform
    registry, keys = platform.cards.registry, platform.cards.backup_keys
    card = registry.active_card("tier1.clerk")
    mnemonic = open_backup(card.backup, operator_password=OPERATOR_PASSWORD, pin=PIN, keys=keys)
    registry.replace_backup(card.serial, legacy_seal(mnemonic, OPERATOR_PASSWORD, PIN))
    with pytest.raises(BackupError):
        operator_password.change_operator_password(
            platform, platform.desk(), old_password="not the operator password", new_password=NEW
        )
    assert registry.get(card.serial).backup["version"] == 1  # nothing changed
    done = operator_password.change_operator_password(
        platform, platform.desk(), old_password=OPERATOR_PASSWORD, new_password=NEW
    )
    assert done["rewrapped"] == 1 and done["backups"] >= 7
    for record in registry.all_cards():
        if record.backup is None:
            continue
        assert record.backup["version"] == 2
        with pytest.raises(BackupError):
            open_backup(record.backup, operator_password=OPERATOR_PASSWORD, pin=PIN, keys=keys)
    assert (
        open_backup(registry.get(card.serial).backup, operator_password=NEW, pin=PIN, keys=keys) == mnemonic
    )
    # the serving process then runs with the new password: a user's new PIN seals under it
    platform.settings = dataclasses.replace(platform.settings, operator_password=NEW)
    from goldticket.services import cards

    cards.set_pin(platform, consortium.tier2, registry.active_card("tier2.clerk").serial, "740319", PIN)


def test_a_weak_new_operator_password_is_refused(consortium):
    platform = consortium.platform
    for weak in ("short", "1234567890123", OPERATOR_PASSWORD):
        with pytest.raises(Exception) as refused:
            operator_password.change_operator_password(
                platform, platform.desk(), old_password=OPERATOR_PASSWORD, new_password=weak
            )
        assert getattr(refused.value, "code", "") == "invalid_input"
