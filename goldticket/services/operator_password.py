"""The operator password changed: the PIN of the operator's backup token (C_SetPIN), or the
software fallback's key file sealed again, after every seed backup still sealed the version 1
way (its outer key derived from the old password itself) is rewrapped as version 2 under the
token's key. Version 2 records keep their wrapped keys: the token's key does not change, only
the password that opens it. Afterwards GOLDTICKET_OPERATOR_PASSWORD must name the new one."""

from __future__ import annotations

from typing import Any

from goldticket import domain as d
from goldticket.signing.backup import migrate

from .context import Desk
from .platform import Platform


def check_new_password(platform: Platform, old_password: str, new_password: Any) -> str:
    minimum = 12 if platform.settings.env == "prod" else 10
    if not isinstance(new_password, str) or not minimum <= len(new_password) <= 256:
        raise d.InvalidInputError(f"the operator password is {minimum} to 256 characters")
    if new_password == old_password:
        raise d.InvalidInputError("the new operator password must differ from the old one")
    if new_password.isdigit():
        raise d.InvalidInputError("the operator password must not be digits only (a PIN)")
    return new_password


def change_operator_password(
    platform: Platform, desk: Desk, *, old_password: str, new_password: str
) -> dict[str, Any]:
    """Rewrap every version 1 seed backup with ``old_password``, then make ``new_password`` the
    one that opens the operator's backup key; every backup is checked to open under it. Raises
    BackupError for a wrong old password (before anything changes), InvalidInputError."""
    check_new_password(platform, old_password, new_password)
    registry, keys = platform.cards.registry, platform.cards.backup_keys
    records = [record for record in registry.all_cards() if record.backup is not None]
    rewrapped = {}
    for record in records:  # opens every outer layer: a wrong old password stops here
        assert record.backup is not None
        migrated = migrate(record.backup, operator_password=old_password, keys=keys)
        if migrated is not record.backup:
            rewrapped[record.serial] = migrated
    if not records:
        keys.new_key(old_password)  # the old password must open the key even with no card yet
    for serial, backup in rewrapped.items():
        registry.replace_backup(serial, backup)
    keys.change_password(old_password, new_password)
    # the cards' PINs are derived under the PIN key the operator password opens: this process
    # opens it with the new one from now on (others: restart with GOLDTICKET_OPERATOR_PASSWORD)
    platform.cards.pins.operator_password = new_password
    for record in registry.all_cards():
        if record.backup is not None:
            migrate(record.backup, operator_password=new_password, keys=keys)
    platform.audit_desk(desk, "operator password", rewrapped=len(rewrapped), backups=len(records))
    return {"backups": len(records), "rewrapped": len(rewrapped), "changed": True}
