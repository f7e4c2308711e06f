"""Both card backends pass one suite: the software card (a PIN-sealed file) and a PKCS#11 token
in SoftHSM2, each as a real card would be used (the PIN as is) and as this platform uses them
(the PIN derived with the operator's PIN key, ``+pins``). A few tests at the end look at what
only one backend has."""

from __future__ import annotations

import base64
import os
import stat
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pkcs11
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, decode_dss_signature

from goldticket.messages.crypto import is_low_s, sha256
from goldticket.signing.backup_keys import BackupKeys, CardPins, SoftwareBackupKeys, TokenBackupKeys
from goldticket.signing.cards.interfaces import Card, CardFactory
from goldticket.signing.cards.pkcs11 import Pkcs11CardFactory, default_module_path
from goldticket.signing.cards.software import SoftwareCardFactory
from goldticket.signing.errors import CardNotFoundError, CardStateError, WrongPinError

pytestmark = pytest.mark.functional

PIN = "135790"
OPERATOR_PASSWORD = "operator desk password"
MODULE_PATH = default_module_path()
NO_SOFTHSM = "SoftHSM2 is not installed (apt-get install softhsm2)"


def new_scalar() -> int:
    return ec.generate_private_key(ec.SECP256R1()).private_numbers().private_value


def public_key_of(scalar: int) -> ec.EllipticCurvePublicKey:
    return ec.derive_private_key(scalar, ec.SECP256R1()).public_key()


def verifies(public_key: ec.EllipticCurvePublicKey, digest: bytes, signature: bytes) -> bool:
    """What goldticket.messages.verify_signature checks, over a digest instead of the data."""
    try:
        public_key.verify(signature, digest, ec.ECDSA(Prehashed(hashes.SHA256())))
    except InvalidSignature:
        return False
    return is_low_s(signature)


def make_factory(backend: str, directory: Path) -> CardFactory:
    """``backend`` is software or pkcs11, with ``+pins`` for the operator's PIN key."""
    factory: CardFactory
    if backend.startswith("software"):
        factory = SoftwareCardFactory(directory / "cards", scrypt_n=2**14)
        keys: BackupKeys = SoftwareBackupKeys(directory / "backup-key.json", n=2**14)
    else:
        assert MODULE_PATH is not None
        factory = Pkcs11CardFactory(MODULE_PATH, token_dir=directory / "tokens")
        keys = TokenBackupKeys(factory)
    if backend.endswith("+pins"):
        factory.pins = CardPins(keys, OPERATOR_PASSWORD)
    return factory


@pytest.fixture(
    params=[
        "software",
        "software+pins",
        pytest.param("pkcs11", marks=pytest.mark.skipif(MODULE_PATH is None, reason=NO_SOFTHSM)),
        pytest.param("pkcs11+pins", marks=pytest.mark.skipif(MODULE_PATH is None, reason=NO_SOFTHSM)),
    ]
)
def factory(request: pytest.FixtureRequest, tmp_path: Path) -> CardFactory:
    return make_factory(request.param, tmp_path)


@pytest.fixture
def card(factory: CardFactory) -> Card:
    return factory.card("BSIM-0001")


def test_public_key_is_the_half_of_the_stored_scalar(card: Card) -> None:
    scalar = new_scalar()
    assert not card.exists()
    card.put_key(scalar, PIN)
    assert card.exists()
    assert card.public_key() == public_key_of(scalar)


def test_signatures_are_der_low_s_and_verify(card: Card) -> None:
    scalar = new_scalar()
    card.put_key(scalar, PIN)
    public_key = card.public_key()
    # About half of raw ECDSA signatures have a high S: eight digests all but surely meet one.
    for index in range(8):
        digest = sha256(b"proposal %d" % index)
        signature = card.sign_digest(digest, PIN)
        decode_dss_signature(signature)  # DER, or ValueError
        assert verifies(public_key, digest, signature)
        assert not verifies(public_key, sha256(b"another proposal"), signature)


def test_wrong_pin_is_refused_and_the_right_one_still_works(card: Card) -> None:
    card.put_key(new_scalar(), PIN)
    digest = sha256(b"transfer")
    for wrong in ("135791", "", PIN + " "):
        with pytest.raises(WrongPinError) as refused:
            card.sign_digest(digest, wrong)
        assert refused.value.code == "wrong_pin"
        assert PIN not in str(refused.value) and (not wrong or wrong not in str(refused.value))
    assert verifies(card.public_key(), digest, card.sign_digest(digest, PIN))


def test_a_pin_change_takes_the_old_pin_and_leaves_the_key(card: Card) -> None:
    scalar = new_scalar()
    card.put_key(scalar, PIN)
    digest = sha256(b"after the change")
    with pytest.raises(WrongPinError):
        card.change_pin("135791", "864213")
    with pytest.raises(ValueError):
        card.change_pin(PIN, "12")
    card.change_pin(PIN, "864213")
    with pytest.raises(WrongPinError):
        card.sign_digest(digest, PIN)
    assert verifies(public_key_of(scalar), digest, card.sign_digest(digest, "864213"))
    assert card.public_key() == public_key_of(scalar)


def test_a_card_takes_one_key(card: Card) -> None:
    scalar = new_scalar()
    card.put_key(scalar, PIN)
    with pytest.raises(CardStateError):
        card.put_key(new_scalar(), "24680")
    assert card.public_key() == public_key_of(scalar)
    card.sign_digest(sha256(b"still the first key"), PIN)


def test_a_destroyed_card_is_gone(card: Card) -> None:
    card.put_key(new_scalar(), PIN)
    card.destroy()
    assert not card.exists()
    with pytest.raises(CardNotFoundError):
        card.sign_digest(sha256(b"after elimination"), PIN)
    with pytest.raises(CardNotFoundError):
        card.public_key()
    card.destroy()  # idempotent


def test_a_card_without_a_key(factory: CardFactory) -> None:
    card = factory.card("BSIM-EMPTY")
    assert not card.exists()
    with pytest.raises(CardNotFoundError):
        card.sign_digest(sha256(b"x"), PIN)
    with pytest.raises(CardNotFoundError):
        card.public_key()
    card.destroy()


def test_two_cards_are_independent(factory: CardFactory) -> None:
    first, second = factory.card("BSIM-0001"), factory.card("BSIM-0002")
    first.put_key(new_scalar(), PIN)
    second.put_key(new_scalar(), "97531")
    assert first.public_key() != second.public_key()
    digest = sha256(b"who signed")
    with pytest.raises(WrongPinError):
        second.sign_digest(digest, PIN)
    assert verifies(first.public_key(), digest, first.sign_digest(digest, PIN))
    assert not verifies(second.public_key(), digest, first.sign_digest(digest, PIN))
    first.destroy()
    assert second.exists() and not first.exists()
    assert verifies(second.public_key(), digest, second.sign_digest(digest, "97531"))


def test_cards_sign_from_many_threads(factory: CardFactory) -> None:
    cards = [factory.card("BSIM-0001"), factory.card("BSIM-0002")]
    for card in cards:
        card.put_key(new_scalar(), PIN)
    keys = [card.public_key() for card in cards]
    digest = sha256(b"concurrent")

    def sign(index: int) -> bool:
        if index % 5 == 4:
            with pytest.raises(WrongPinError):
                cards[index % 2].sign_digest(digest, "000000")
            return True
        return verifies(keys[index % 2], digest, cards[index % 2].sign_digest(digest, PIN))

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert all(pool.map(sign, range(20)))


@pytest.mark.parametrize("serial", ["", "abc", "../../etc/passwd", "BSIM 1", "B" * 33, "卡-0001"])
def test_serials_are_letters_digits_and_dashes(factory: CardFactory, serial: str) -> None:
    with pytest.raises(ValueError):
        factory.card(serial)


def test_bad_inputs_are_refused(card: Card) -> None:
    with pytest.raises(ValueError):
        card.put_key(new_scalar(), "123")  # shorter than any token accepts
    with pytest.raises(ValueError):
        card.put_key(new_scalar(), "1234\n5678")
    with pytest.raises(ValueError):
        card.put_key(0, PIN)
    assert not card.exists()
    card.put_key(new_scalar(), PIN)
    with pytest.raises(ValueError):
        card.sign_digest(b"not a digest", PIN)


# PKCS#11 only --------------------------------------------------------------------------------


@pytest.fixture
def softhsm(tmp_path: Path) -> Pkcs11CardFactory:
    if MODULE_PATH is None:
        pytest.skip(NO_SOFTHSM)
    factory = make_factory("pkcs11", tmp_path)
    assert isinstance(factory, Pkcs11CardFactory)
    return factory


def test_the_token_never_gives_out_the_key(softhsm: Pkcs11CardFactory) -> None:
    softhsm.card("BSIM-0001").put_key(new_scalar(), PIN)
    library = pkcs11.lib(os.path.realpath(softhsm.module_path))
    token = library.get_token(token_label="BSIM-0001")
    with token.open(rw=True, user_pin=PIN) as session:
        key = session.get_key(object_class=pkcs11.ObjectClass.PRIVATE_KEY, label="BSIM-0001")
        assert key[pkcs11.Attribute.SENSITIVE] is True
        assert key[pkcs11.Attribute.EXTRACTABLE] is False
        assert key[pkcs11.Attribute.COPYABLE] is False
        # The key is imported (derived from the card's seed outside the token), so by the
        # PKCS#11 definitions it was not always sensitive nor never extractable: both say how
        # the key began, not what it is now. What matters holds: its value cannot be read and
        # neither flag can be turned back.
        assert key[pkcs11.Attribute.NEVER_EXTRACTABLE] is False
        assert key[pkcs11.Attribute.ALWAYS_SENSITIVE] is False
        with pytest.raises(pkcs11.exceptions.AttributeSensitive):
            key[pkcs11.Attribute.VALUE]
        with pytest.raises(pkcs11.exceptions.AttributeReadOnly):
            key[pkcs11.Attribute.EXTRACTABLE] = True
        with pytest.raises(pkcs11.exceptions.AttributeReadOnly):
            key[pkcs11.Attribute.SENSITIVE] = False


def test_tokens_made_by_another_process_are_seen(softhsm: Pkcs11CardFactory) -> None:
    card = softhsm.card("BSIM-0009")
    assert not card.exists()  # the library is loaded and has listed the tokens
    environment = dict(os.environ, SOFTHSM2_CONF=str(softhsm.config_path))
    command = ["softhsm2-util", "--init-token", "--free", "--label", "BSIM-0009", "--so-pin", "0000"]
    subprocess.run([*command, "--pin", "test-only"], env=environment, capture_output=True, check=True)
    with pytest.raises(CardStateError):
        card.put_key(new_scalar(), PIN)
    subprocess.run(
        ["softhsm2-util", "--delete-token", "--token", "BSIM-0009"],
        env=environment,
        capture_output=True,
        check=True,
    )
    card.put_key(new_scalar(), PIN)
    assert card.exists()
    subprocess.run(
        ["softhsm2-util", "--delete-token", "--token", "BSIM-0009"],
        env=environment,
        capture_output=True,
        check=True,
    )
    with pytest.raises(CardNotFoundError):
        card.sign_digest(sha256(b"after an outside deletion"), PIN)
    assert not card.exists()


def test_factories_on_two_token_directories_take_turns(tmp_path: Path) -> None:
    if MODULE_PATH is None:
        pytest.skip(NO_SOFTHSM)
    first = make_factory("pkcs11", tmp_path / "first")
    second = make_factory("pkcs11", tmp_path / "second")
    first.card("BSIM-0001").put_key(new_scalar(), PIN)
    assert not second.card("BSIM-0001").exists()
    second.card("BSIM-0001").put_key(new_scalar(), PIN)
    assert first.card("BSIM-0001").public_key() != second.card("BSIM-0001").public_key()


# Software only -------------------------------------------------------------------------------


def test_the_file_holds_no_readable_key(tmp_path: Path) -> None:
    factory = SoftwareCardFactory(tmp_path / "cards", scrypt_n=2**14)
    scalar = new_scalar()
    factory.card("BSIM-0001").put_key(scalar, PIN)
    path = tmp_path / "cards" / "BSIM-0001.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["BSIM-0001.json"]  # no temporary left
    content = path.read_bytes()
    raw = scalar.to_bytes(32, "big")
    for encoding in (
        raw,
        raw.hex().encode(),
        raw.hex().upper().encode(),
        base64.b64encode(raw),
        base64.urlsafe_b64encode(raw),
        str(scalar).encode(),
    ):
        assert encoding not in content
    assert PIN.encode() not in content
