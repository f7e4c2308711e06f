"""The operator's PIN key (issue #17, point 8): a card's token or file never sees the user's PIN,
only HMAC-SHA256(PIN key, serial, PIN), and the PIN key never leaves the operator token (or,
with software cards, its file sealed under the operator password). Cards made before move to
the derived PIN on their next right PIN; the operator password can change under them."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pkcs11
import pytest
from pkcs11 import Attribute, ObjectClass
from test_cards import MODULE_PATH, NO_SOFTHSM, PIN, new_scalar, public_key_of, verifies

from goldticket.messages.crypto import sha256
from goldticket.services import Platform, members
from goldticket.signing.backup_keys import (
    PIN_KEY_LABEL,
    TOKEN_LABEL,
    BackupKeys,
    CardPins,
    SoftwareBackupKeys,
    TokenBackupKeys,
    card_pin_message,
)
from goldticket.signing.cards.interfaces import CardFactory
from goldticket.signing.cards.pkcs11 import Pkcs11CardFactory
from goldticket.signing.cards.software import SoftwareCardFactory
from goldticket.signing.errors import BackupError, SigningError, WrongPinError

pytestmark = pytest.mark.functional

PASSWORD = "operator desk password"
SERIAL = "BS0123456789ABCDEF"


def _made(backend: str, directory: Path) -> tuple[CardFactory, BackupKeys]:
    if backend == "software":
        return (
            SoftwareCardFactory(directory / "software", scrypt_n=2**14),
            SoftwareBackupKeys(directory / "backup-key.json", n=2**14),
        )
    if MODULE_PATH is None:
        pytest.skip(NO_SOFTHSM)
    factory = Pkcs11CardFactory(MODULE_PATH, token_dir=directory / "tokens")
    return factory, TokenBackupKeys(factory)


@pytest.fixture(params=["software", "pkcs11"])
def made(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[CardFactory, BackupKeys]:
    return _made(request.param, tmp_path)


def test_a_card_made_before_keeps_its_pin_and_moves_to_the_derived_one(
    made: tuple[CardFactory, BackupKeys],
) -> None:
    factory, keys = made
    scalar = new_scalar()
    factory.card(SERIAL).put_key(scalar, PIN)  # no PIN key yet: the token takes the PIN itself
    digest = sha256(b"first use after the upgrade")
    factory.pins = CardPins(keys, PASSWORD)
    card = factory.card(SERIAL)
    with pytest.raises(WrongPinError):
        card.sign_digest(digest, "975310")
    assert verifies(public_key_of(scalar), digest, card.sign_digest(digest, PIN))
    # moved: the token (or file) now opens only with the derived PIN
    factory.pins = None
    with pytest.raises((WrongPinError, SigningError)):
        factory.card(SERIAL).sign_digest(digest, PIN)
    factory.pins = CardPins(keys, PASSWORD)
    assert verifies(public_key_of(scalar), digest, factory.card(SERIAL).sign_digest(digest, PIN))


def test_a_pin_change_moves_a_card_made_before(made: tuple[CardFactory, BackupKeys]) -> None:
    factory, keys = made
    scalar = new_scalar()
    factory.card(SERIAL).put_key(scalar, PIN)
    factory.pins = CardPins(keys, PASSWORD)
    factory.card(SERIAL).change_pin(PIN, "864213")
    digest = sha256(b"after the change")
    assert verifies(public_key_of(scalar), digest, factory.card(SERIAL).sign_digest(digest, "864213"))
    factory.pins = None
    with pytest.raises((WrongPinError, SigningError)):
        factory.card(SERIAL).sign_digest(digest, "864213")


def test_the_token_pin_is_the_operator_keys_mac_of_serial_and_pin(
    made: tuple[CardFactory, BackupKeys],
) -> None:
    _, keys = made
    derived = keys.card_pin(SERIAL, PIN, PASSWORD)
    assert len(derived) == 64 and int(derived, 16) >= 0
    assert keys.card_pin(SERIAL, PIN, PASSWORD) == derived  # the same key each time
    assert keys.card_pin("BS0123456789ABCDEE", PIN, PASSWORD) != derived  # per card
    assert keys.card_pin(SERIAL, "135791", PASSWORD) != derived
    # not a MAC anyone could compute without the key (a key of zeros, or of the password)
    for guess in (bytes(32), PASSWORD.encode()):
        assert hmac.new(guess, card_pin_message(SERIAL, PIN), hashlib.sha256).hexdigest() != derived
    with pytest.raises(BackupError, match="wrong operator password"):
        keys.card_pin(SERIAL, PIN, "not the operator password")
    with pytest.raises(SigningError, match="GOLDTICKET_OPERATOR_PASSWORD"):
        keys.card_pin(SERIAL, PIN, "")


def test_cards_keep_working_after_the_operator_password_changes(made: tuple[CardFactory, BackupKeys]) -> None:
    factory, keys = made
    pins = factory.pins = CardPins(keys, PASSWORD)
    scalar = new_scalar()
    factory.card(SERIAL).put_key(scalar, PIN)
    with pytest.raises(BackupError, match="wrong operator password"):
        keys.change_password("not the operator password", "a new operator password")
    keys.change_password(PASSWORD, "a new operator password")
    digest = sha256(b"after the password change")
    with pytest.raises(BackupError, match="wrong operator password"):
        factory.card(SERIAL).sign_digest(digest, PIN)
    pins.operator_password = "a new operator password"
    assert verifies(public_key_of(scalar), digest, factory.card(SERIAL).sign_digest(digest, PIN))


def test_the_pin_key_never_leaves_the_operator_token(tmp_path: Path) -> None:
    factory, keys = _made("pkcs11", tmp_path)
    keys.card_pin(SERIAL, PIN, PASSWORD)
    module = factory._module  # type: ignore[attr-defined]
    with module.lock:
        token = module.find_token(factory.config_path, TOKEN_LABEL)  # type: ignore[attr-defined]
        with token.open(user_pin=PASSWORD) as session:
            key = session.get_key(object_class=ObjectClass.SECRET_KEY, label=PIN_KEY_LABEL)
            assert key[Attribute.SENSITIVE] and key[Attribute.NEVER_EXTRACTABLE]
            assert not key[Attribute.EXTRACTABLE]
            assert key[Attribute.SIGN] and not key[Attribute.ENCRYPT] and not key[Attribute.WRAP]
            with pytest.raises(pkcs11.exceptions.AttributeSensitive):
                key[Attribute.VALUE]


def test_the_software_pin_key_file_is_sealed_under_the_operator_password(tmp_path: Path) -> None:
    _, keys = _made("software", tmp_path)
    keys.card_pin(SERIAL, PIN, PASSWORD)
    assert isinstance(keys, SoftwareBackupKeys)
    record = json.loads(keys.pin_key_path.read_text())
    assert set(record) == {"n", "salt", "nonce", "kek"}
    assert keys.pin_key_path.stat().st_mode & 0o777 == 0o600
    other = SoftwareBackupKeys(tmp_path / "backup-key.json", n=2**14)  # a fresh process
    assert other.card_pin(SERIAL, PIN, PASSWORD) == keys.card_pin(SERIAL, PIN, PASSWORD)
    with pytest.raises(BackupError, match="wrong operator password"):
        other.card_pin(SERIAL, PIN, "not the operator password")


def test_a_pin_change_through_the_signing_service_counts_a_wrong_old_pin(platform: Platform) -> None:
    members.register_member(
        platform, platform.desk(), member_id="s1", name="苏州精密", name_en="Suzhou", role="supplier"
    )
    members.add_user(platform, platform.desk(), member_id="s1", username="s1.clerk", pin=PIN)
    service, record = platform.cards.service, platform.cards.registry.cards_of("s1.clerk")[0]
    with pytest.raises(WrongPinError) as wrong:
        service.change_pin(record, "975310", "864213")
    assert wrong.value.tries_left == 4
    with pytest.raises(ValueError):
        service.change_pin(record, PIN, "12")
    service.change_pin(record, PIN, "864213")
    service.check_pin(record, "864213")
    with pytest.raises(WrongPinError):
        service.check_pin(record, PIN)
    assert platform.cards.registry.get(record.serial).wrong_pins == 1
