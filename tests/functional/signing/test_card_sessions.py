"""PKCS#11 card sessions kept logged in (issue #22): a SoftHSM2 card logs in once for its
session window instead of once per signature, and nothing of the PIN's protection weakens.
The PIN is still checked on every request (against the one the token last accepted, by a keyed
hash in memory; any other goes to the token, which decides), a wrong one is still counted and
locks the card, and the kept session is dropped when the PIN changes (in this process or
another), when the card is locked, suspended, replaced or destroyed, and when its window ends."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

import pytest
from support import PIN
from test_cards import MODULE_PATH, NO_SOFTHSM, new_scalar, public_key_of, verifies

from goldticket.messages.crypto import sha256
from goldticket.signing.backup_keys import CardPins, TokenBackupKeys
from goldticket.signing.cards import pkcs11 as pkcs11_cards
from goldticket.signing.cards.pkcs11 import Pkcs11CardFactory
from goldticket.signing.errors import CardLockedError, CardNotFoundError, CardRevokedError, WrongPinError

pytestmark = [
    pytest.mark.functional,
    pytest.mark.skipif(MODULE_PATH is None, reason=NO_SOFTHSM),
]

SERIAL, OTHER = "BS00000000000000A1", "BS00000000000000B2"
NEW_PIN = "864209"
PASSWORD = "operator desk password"
DIGEST = sha256(b"a message to sign")


def make_factory(directory: Path, window: float = pkcs11_cards.SESSION_SECONDS) -> Pkcs11CardFactory:
    assert MODULE_PATH is not None
    factory = Pkcs11CardFactory(MODULE_PATH, token_dir=directory / "tokens", session_seconds=window)
    factory.pins = CardPins(TokenBackupKeys(factory), PASSWORD)
    return factory


@pytest.fixture
def factory(tmp_path: Path) -> Pkcs11CardFactory:
    return make_factory(tmp_path)


@pytest.fixture
def logins(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The serial of every C_Login on a card's token."""
    seen: list[str] = []
    real = pkcs11_cards.Pkcs11Card._login

    def counted(self, token, pin, *, rw=False):  # type: ignore[no-untyped-def]
        seen.append(self.serial)
        return real(self, token, pin, rw=rw)

    monkeypatch.setattr(pkcs11_cards.Pkcs11Card, "_login", counted)
    return seen


def test_a_card_logs_in_once_for_many_signatures(factory, logins):
    scalar = new_scalar()
    factory.card(SERIAL).put_key(scalar, PIN)
    logins.clear()
    for number in range(5):
        digest = sha256(f"message {number}".encode())
        assert verifies(public_key_of(scalar), digest, factory.card(SERIAL).sign_digest(digest, PIN))
    assert logins == [SERIAL]


def test_a_wrong_pin_never_signs_through_a_kept_session(factory, logins):
    scalar = new_scalar()
    card = factory.card(SERIAL)
    card.put_key(scalar, PIN)
    card.sign_digest(DIGEST, PIN)
    for wrong in ("975310", PIN + "0", "", PIN[:-1]):
        with pytest.raises(WrongPinError):
            card.sign_digest(DIGEST, wrong)
    assert verifies(public_key_of(scalar), DIGEST, card.sign_digest(DIGEST, PIN))


def test_after_a_pin_change_the_old_pin_no_longer_signs(factory):
    scalar = new_scalar()
    card = factory.card(SERIAL)
    card.put_key(scalar, PIN)
    card.sign_digest(DIGEST, PIN)  # a session is kept for PIN
    card.change_pin(PIN, NEW_PIN)
    with pytest.raises(WrongPinError):
        card.sign_digest(DIGEST, PIN)
    assert verifies(public_key_of(scalar), DIGEST, card.sign_digest(DIGEST, NEW_PIN))
    with pytest.raises(WrongPinError):
        factory.card(SERIAL).sign_digest(DIGEST, PIN)


def change_pin_in_another_process(directory: str) -> None:
    factory = make_factory(Path(directory))
    factory.card(SERIAL).change_pin(PIN, NEW_PIN)


def test_after_a_pin_change_in_another_process_the_old_pin_no_longer_signs(factory, tmp_path):
    scalar = new_scalar()
    card = factory.card(SERIAL)
    card.put_key(scalar, PIN)
    card.sign_digest(DIGEST, PIN)  # this process keeps a session opened with PIN
    context = multiprocessing.get_context("spawn")  # a fresh process: its own PKCS#11 library
    child = context.Process(target=change_pin_in_another_process, args=(str(tmp_path),))
    child.start()
    child.join(timeout=120)
    assert child.exitcode == 0
    with pytest.raises(WrongPinError):
        card.sign_digest(DIGEST, PIN)
    assert verifies(public_key_of(scalar), DIGEST, card.sign_digest(DIGEST, NEW_PIN))


def test_a_different_cards_session_is_never_used(factory, tmp_path):
    mine, theirs = new_scalar(), new_scalar()
    factory.card(SERIAL).put_key(mine, PIN)
    factory.card(OTHER).put_key(theirs, NEW_PIN)
    assert verifies(public_key_of(mine), DIGEST, factory.card(SERIAL).sign_digest(DIGEST, PIN))
    with pytest.raises(WrongPinError):
        factory.card(OTHER).sign_digest(DIGEST, PIN)  # SERIAL's PIN, SERIAL's session kept
    assert verifies(public_key_of(theirs), DIGEST, factory.card(OTHER).sign_digest(DIGEST, NEW_PIN))
    assert verifies(public_key_of(mine), DIGEST, factory.card(SERIAL).sign_digest(DIGEST, PIN))
    # the same serial in another token directory (another deployment on this machine) is
    # another card: the session kept for the first is not its
    elsewhere = make_factory(tmp_path / "elsewhere")
    elsewhere.pins = factory.pins  # even with one PIN key and one PIN
    stranger = new_scalar()
    elsewhere.card(SERIAL).put_key(stranger, PIN)
    assert verifies(public_key_of(mine), DIGEST, factory.card(SERIAL).sign_digest(DIGEST, PIN))  # kept
    signature = elsewhere.card(SERIAL).sign_digest(DIGEST, PIN)
    assert verifies(public_key_of(stranger), DIGEST, signature)
    assert not verifies(public_key_of(mine), DIGEST, signature)


def test_a_session_is_kept_no_longer_than_its_window(tmp_path, logins):
    factory = make_factory(tmp_path, window=0.2)
    factory.card(SERIAL).put_key(new_scalar(), PIN)
    logins.clear()
    factory.card(SERIAL).sign_digest(DIGEST, PIN)
    factory.card(SERIAL).sign_digest(DIGEST, PIN)
    time.sleep(0.3)
    factory.card(SERIAL).sign_digest(DIGEST, PIN)
    assert logins == [SERIAL, SERIAL]


def test_no_session_is_kept_with_a_window_of_zero(tmp_path, logins):
    factory = make_factory(tmp_path, window=0)
    factory.card(SERIAL).put_key(new_scalar(), PIN)
    logins.clear()
    for _ in range(3):
        factory.card(SERIAL).sign_digest(DIGEST, PIN)
    assert logins == [SERIAL] * 3


def test_a_destroyed_card_cannot_sign_through_a_kept_session(factory):
    card = factory.card(SERIAL)
    card.put_key(new_scalar(), PIN)
    card.sign_digest(DIGEST, PIN)
    card.destroy()
    with pytest.raises(CardNotFoundError):
        card.sign_digest(DIGEST, PIN)


def test_a_changed_pin_key_is_not_served_by_a_kept_session(factory):
    """The session was opened with the PIN derived under the operator's PIN key; a factory
    given no PIN key (or another) passes the token another PIN, which the token must judge."""
    card = factory.card(SERIAL)
    card.put_key(new_scalar(), PIN)
    card.sign_digest(DIGEST, PIN)
    factory.pins = None
    with pytest.raises(WrongPinError):
        factory.card(SERIAL).sign_digest(DIGEST, PIN)


# Through the signing service: the registry's checks come before any kept session.


def _service_and_serial(consortium):
    cards = consortium.platform.cards
    if cards.default_backend != "pkcs11":
        pytest.skip("the platform's cards are not PKCS#11 here")
    return cards.service, cards.registry, cards.registry.active_card(consortium.tier1.username).serial


def _kept(serial: str) -> bool:
    return any(key[1] == serial for module in pkcs11_cards._MODULES.values() for key in module._sessions)


def test_a_locked_card_cannot_sign_through_a_kept_session(consortium):
    service, registry, serial = _service_and_serial(consortium)
    service.prove_pin(serial=serial, pin=PIN)
    assert _kept(serial)
    # wrong PINs tried elsewhere (another worker process) lock the card in the shared registry
    for _ in range(5):
        registry.reserve_try(serial)
    with pytest.raises(CardLockedError):
        service.prove_pin(serial=serial, pin=PIN)
    assert not _kept(serial)


def test_wrong_pins_through_the_service_still_lock_a_card_with_a_kept_session(consortium):
    service, registry, serial = _service_and_serial(consortium)
    service.prove_pin(serial=serial, pin=PIN)
    for left in (4, 3, 2, 1, 0):
        with pytest.raises(WrongPinError) as wrong:
            service.prove_pin(serial=serial, pin="975310")
        assert wrong.value.tries_left == left
    with pytest.raises(CardLockedError):
        service.prove_pin(serial=serial, pin=PIN)
    assert not _kept(serial)


def test_a_suspended_card_cannot_sign_through_a_kept_session(consortium):
    service, registry, serial = _service_and_serial(consortium)
    service.prove_pin(serial=serial, pin=PIN)
    assert _kept(serial)
    registry.suspend(serial)
    with pytest.raises(CardRevokedError):
        service.prove_pin(serial=serial, pin=PIN)
    assert not _kept(serial)


def test_a_right_pin_through_a_kept_session_reserves_no_try(consortium, monkeypatch):
    """The try counter's durable write (an fsync) is for PINs the token must judge; the PIN a
    kept session was opened with is known right. Any other PIN is still counted first."""
    service, registry, serial = _service_and_serial(consortium)
    reserved: list[str] = []
    real = type(registry).reserve_try

    def counted(self, card):  # type: ignore[no-untyped-def]
        reserved.append(card)
        return real(self, card)

    monkeypatch.setattr(type(registry), "reserve_try", counted)
    for _ in range(4):
        service.prove_pin(serial=serial, pin=PIN)
    assert reserved == [serial]
    with pytest.raises(WrongPinError) as wrong:
        service.prove_pin(serial=serial, pin="975310")
    assert wrong.value.tries_left == 4 and reserved == [serial, serial]
    service.prove_pin(serial=serial, pin=PIN)
    assert registry.tries_left(serial) == 5
