"""The outer seed-backup layer's key lives in the operator's PKCS#11 token (SoftHSM2 here):
random, sensitive, never extractable, opened by the operator password; data keys are wrapped
and unwrapped inside the token."""

from __future__ import annotations

import pytest
from support import OPERATOR_PASSWORD, PIN, replace_card

from goldticket.signing.backup import open_backup, seal
from goldticket.signing.backup_keys import KEK_LABEL, TOKEN_LABEL, TokenBackupKeys
from goldticket.signing.cards.pkcs11 import Pkcs11CardFactory, default_module_path
from goldticket.signing.errors import BackupError
from goldticket.signing.seed import new_mnemonic

pytestmark = [
    pytest.mark.functional,
    pytest.mark.skipif(default_module_path() is None, reason="SoftHSM2 is not installed"),
]
N = 2**14


@pytest.fixture
def factory(tmp_path) -> Pkcs11CardFactory:
    return Pkcs11CardFactory(str(default_module_path()), token_dir=tmp_path / "softhsm" / "tokens")


@pytest.fixture(scope="module")
def mnemonic() -> str:
    return new_mnemonic()


def test_sealed_under_a_token_key_and_opened_only_with_it(factory, mnemonic, tmp_path):
    keys = TokenBackupKeys(factory)
    record = seal(mnemonic, operator_password=OPERATOR_PASSWORD, pin=PIN, n=N, keys=keys)
    assert record["version"] == 2 and record["outer"]["keys"] == "pkcs11"
    assert open_backup(record, operator_password=OPERATOR_PASSWORD, pin=PIN, keys=keys) == mnemonic
    with pytest.raises(BackupError, match="wrong operator password"):
        open_backup(record, operator_password="not the operator password", pin=PIN, keys=keys)
    with pytest.raises(BackupError, match="wrong PIN"):
        open_backup(record, operator_password=OPERATOR_PASSWORD, pin="000000", keys=keys)
    # another token with the same operator password holds another random KEK
    other = TokenBackupKeys(
        Pkcs11CardFactory(str(default_module_path()), token_dir=tmp_path / "other" / "tokens")
    )
    other.new_key(OPERATOR_PASSWORD)
    with pytest.raises(BackupError, match="not wrapped by this operator token"):
        open_backup(record, operator_password=OPERATOR_PASSWORD, pin=PIN, keys=other)


def test_the_kek_never_leaves_the_token(factory):
    import pkcs11
    from pkcs11 import Attribute, ObjectClass

    keys = TokenBackupKeys(factory)
    data_key, wrapped = keys.new_key(OPERATOR_PASSWORD)
    assert len(data_key) == 32 and len(wrapped) == 40
    assert keys.unwrap(wrapped, OPERATOR_PASSWORD) == data_key
    module = factory._module
    with module.lock:
        token = module.find_token(factory.config_path, TOKEN_LABEL)
        with token.open(user_pin=OPERATOR_PASSWORD) as session:
            kek = session.get_key(object_class=ObjectClass.SECRET_KEY, label=KEK_LABEL)
            assert kek[Attribute.SENSITIVE] and not kek[Attribute.EXTRACTABLE]
            with pytest.raises(pkcs11.exceptions.AttributeSensitive):
                kek[Attribute.VALUE]
    with pytest.raises(BackupError, match="wrong operator password"):
        keys.new_key("another desk password")
    damaged = bytes([wrapped[0] ^ 1]) + wrapped[1:]
    with pytest.raises(BackupError, match="not wrapped"):
        keys.unwrap(damaged, OPERATOR_PASSWORD)


def test_the_desk_seals_new_cards_under_the_token(consortium):
    """Issued and replaced cards carry version 2 backups whose key is the operator token's."""
    from goldticket.services import cards as desk

    platform = consortium.platform
    if platform.cards.default_backend != "pkcs11":
        pytest.skip("the software card backend keeps the software fallback")
    card = platform.cards.registry.active_card(consortium.tier1.username)
    assert card.backup is not None and card.backup["version"] == 2
    assert card.backup["outer"]["keys"] == "pkcs11"
    with pytest.raises(BackupError):
        desk.replace_card(
            platform, platform.desk(), card.serial, operator_password="not the operator password"
        )
    replaced = replace_card(platform, card.serial, PIN)
    new = platform.cards.registry.active_card(consortium.tier1.username)
    assert new.serial != card.serial and replaced
    assert new.backup is not None and new.backup["outer"]["keys"] == "pkcs11"
