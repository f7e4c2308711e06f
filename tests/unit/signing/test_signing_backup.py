"""The double-encrypted seed backup: the PIN and the operator's backup key open it, nothing else
does; version 1 records (outer key from the operator password) still open and migrate.

These run on the software backup keys (a KEK in a file under the operator password); the
token's own tests are in tests/functional/signing/test_backup_token.py."""

from __future__ import annotations

import base64
import copy
import json
import os
import random
import stat

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from cryptography.hazmat.primitives.keywrap import aes_key_unwrap

from goldticket.signing.backup import migrate, open_backup, seal
from goldticket.signing.backup_keys import SoftwareBackupKeys
from goldticket.signing.errors import BackupError, SigningError
from goldticket.signing.seed import new_mnemonic

pytestmark = pytest.mark.unit

N = 2**14  # the smallest cost the module accepts, to keep the tests fast
OPERATOR = "desk-Operator-pa55word"
PIN = "135790"
PASSWORDS = (OPERATOR, PIN)
B64_FIELDS = [
    ("inner", "salt"),
    ("inner", "nonce"),
    ("outer", "wrapped_key"),
    ("outer", "nonce"),
    ("ciphertext",),
]
KEYS: SoftwareBackupKeys


@pytest.fixture(scope="module", autouse=True)
def keys(tmp_path_factory) -> SoftwareBackupKeys:
    global KEYS
    KEYS = SoftwareBackupKeys(tmp_path_factory.mktemp("keys") / "backup-key.json", n=N)
    return KEYS


@pytest.fixture(scope="module")
def mnemonic() -> str:
    return new_mnemonic()


@pytest.fixture(scope="module")
def sealed(mnemonic: str, keys) -> dict:
    return seal(mnemonic, operator_password=OPERATOR, pin=PIN, n=N, keys=keys)


def legacy_seal(mnemonic: str, operator_password: str, pin: str) -> dict:
    """A version 1 record, made by hand from its documented format."""

    def layer(name: str, password: str, data: bytes) -> tuple[dict, bytes]:
        salt, nonce = os.urandom(16), os.urandom(12)
        key = Scrypt(salt=salt, length=32, n=N, r=8, p=1).derive(password.encode())
        header = {"layer": name, "version": 1, "kdf": "scrypt", "n": N, "r": 8, "p": 1}
        associated = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
        encoded = {"salt": base64.b64encode(salt).decode(), "nonce": base64.b64encode(nonce).decode()}
        return encoded, AESGCM(key).encrypt(nonce, data, associated)

    inner, data = layer("inner", pin, mnemonic.encode())
    outer, ciphertext = layer("outer", operator_password, data)
    return {
        "version": 1,
        "kdf": "scrypt",
        "n": N,
        "r": 8,
        "p": 1,
        "inner": inner,
        "outer": outer,
        "ciphertext": base64.b64encode(ciphertext).decode(),
    }


def refused(record: dict, operator_password: str = OPERATOR, pin: str = PIN) -> BackupError:
    with pytest.raises(BackupError) as raised:
        open_backup(record, operator_password=operator_password, pin=pin, keys=KEYS)
    for password in (*PASSWORDS, operator_password, pin):
        assert password not in str(raised.value)
    return raised.value


def get(record: dict, field: tuple[str, ...]) -> str:
    return record[field[0]] if len(field) == 1 else record[field[0]][field[1]]


def put(record: dict, field: tuple[str, ...], value: str) -> dict:
    changed = copy.deepcopy(record)
    if len(field) == 1:
        changed[field[0]] = value
    else:
        changed[field[0]][field[1]] = value
    return changed


def test_round_trip(sealed, mnemonic):
    assert open_backup(sealed, operator_password=OPERATOR, pin=PIN, keys=KEYS) == mnemonic


def test_round_trip_through_json(sealed, mnemonic):
    record = json.loads(json.dumps(sealed))
    assert open_backup(record, operator_password=OPERATOR, pin=PIN, keys=KEYS) == mnemonic


def test_record_shape(sealed):
    assert set(sealed) == {"version", "kdf", "n", "r", "p", "inner", "outer", "ciphertext"}
    assert (sealed["version"], sealed["kdf"], sealed["n"], sealed["r"], sealed["p"]) == (2, "scrypt", N, 8, 1)
    assert set(sealed["outer"]) == {"keys", "wrapped_key", "nonce"} and sealed["outer"]["keys"] == "software"
    assert len(base64.b64decode(sealed["inner"]["salt"])) == 16
    assert len(base64.b64decode(sealed["outer"]["nonce"])) == 12
    assert len(base64.b64decode(sealed["outer"]["wrapped_key"])) == 40


def test_the_default_cost_is_2_to_the_15(mnemonic):
    assert seal(mnemonic, operator_password=OPERATOR, pin=PIN, keys=KEYS)["n"] == 2**15


def test_layers_follow_the_documented_format(sealed, mnemonic):
    """Open the record by hand: the data key unwrapped by the KEK (itself under the operator
    password in the key file), the outer layer under the data key, the inner under the PIN."""
    kek_file = json.loads(KEYS.path.read_text())
    kek_key = Scrypt(salt=base64.b64decode(kek_file["salt"]), length=32, n=N, r=8, p=1).derive(
        OPERATOR.encode()
    )
    kek = AESGCM(kek_key).decrypt(
        base64.b64decode(kek_file["nonce"]), base64.b64decode(kek_file["kek"]), b"goldticket backup kek"
    )
    data_key = aes_key_unwrap(kek, base64.b64decode(sealed["outer"]["wrapped_key"]))
    outer_header = {
        "layer": "outer",
        "version": 2,
        "kdf": "scrypt",
        "n": N,
        "r": 8,
        "p": 1,
        "keys": "software",
        "wrapped_key": sealed["outer"]["wrapped_key"],
    }
    inner = AESGCM(data_key).decrypt(
        base64.b64decode(sealed["outer"]["nonce"]),
        base64.b64decode(sealed["ciphertext"]),
        json.dumps(outer_header, sort_keys=True, separators=(",", ":")).encode(),
    )
    assert mnemonic.encode() not in inner
    salt, nonce = (base64.b64decode(sealed["inner"][part]) for part in ("salt", "nonce"))
    key = Scrypt(salt=salt, length=32, n=N, r=8, p=1).derive(PIN.encode())
    header = {"layer": "inner", "version": 1, "kdf": "scrypt", "n": N, "r": 8, "p": 1}
    associated = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    assert AESGCM(key).decrypt(nonce, inner, associated) == mnemonic.encode()


def test_the_outer_key_is_random_not_the_password_s(mnemonic, sealed):
    """Two records sealed under one operator password have unrelated wrapped data keys, and the
    key file's KEK is not derivable from the password alone (its own random value)."""
    again = seal(mnemonic, operator_password=OPERATOR, pin=PIN, n=N, keys=KEYS)
    assert again["outer"]["wrapped_key"] != sealed["outer"]["wrapped_key"]
    assert "salt" not in sealed["outer"]


def test_another_deployment_s_key_does_not_open_it(sealed, tmp_path):
    other = SoftwareBackupKeys(tmp_path / "other.json", n=N)
    other.new_key(OPERATOR)  # the same password, another random KEK
    with pytest.raises(BackupError, match="not wrapped"):
        open_backup(sealed, operator_password=OPERATOR, pin=PIN, keys=other)
    with pytest.raises(BackupError, match="kept by 'software'"):
        open_backup(sealed, operator_password=OPERATOR, pin=PIN)
    with pytest.raises(BackupError, match="kept by 'pkcs11'"):
        open_backup(
            {**sealed, "outer": {**sealed["outer"], "keys": "pkcs11"}},
            operator_password=OPERATOR,
            pin=PIN,
            keys=KEYS,
        )


def test_a_wrong_password_never_seals_and_the_key_file_is_private(mnemonic, tmp_path):
    keys = SoftwareBackupKeys(tmp_path / "k" / "backup-key.json", n=N)
    old = os.umask(0)
    try:
        seal(mnemonic, operator_password=OPERATOR, pin=PIN, n=N, keys=keys)
    finally:
        os.umask(old)
    assert stat.S_IMODE(keys.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(keys.path.parent.stat().st_mode) == 0o700
    assert OPERATOR not in keys.path.read_text()
    with pytest.raises(BackupError, match="wrong operator password"):
        seal(mnemonic, operator_password="another desk password", pin=PIN, n=N, keys=keys)


def test_version_1_records_still_open_and_migrate_without_the_pin(mnemonic):
    legacy = legacy_seal(mnemonic, OPERATOR, PIN)
    assert open_backup(legacy, operator_password=OPERATOR, pin=PIN) == mnemonic
    assert open_backup(legacy, operator_password=OPERATOR, pin=PIN, keys=KEYS) == mnemonic
    refused(legacy, operator_password="not the operator password")
    refused(legacy, pin="000000")
    migrated = migrate(legacy, operator_password=OPERATOR, keys=KEYS)
    assert migrated["version"] == 2 and migrated["inner"] == legacy["inner"]
    assert open_backup(migrated, operator_password=OPERATOR, pin=PIN, keys=KEYS) == mnemonic
    assert migrate(migrated, operator_password=OPERATOR, keys=KEYS) == migrated
    with pytest.raises(BackupError):
        migrate(legacy, operator_password="not the operator password", keys=KEYS)


def test_wrong_pin(sealed):
    error = refused(sealed, pin="135791")
    assert isinstance(error, SigningError)
    assert error.code == "forbidden"
    assert "PIN" in str(error)


def test_wrong_operator_password(sealed):
    assert "operator password" in str(refused(sealed, operator_password="desk-Operator-pa55wore"))


def test_both_wrong(sealed):
    refused(sealed, operator_password="nope-nope", pin="000000")


def test_swapped_passwords(sealed):
    refused(sealed, operator_password=PIN, pin=OPERATOR)


@pytest.mark.parametrize("field", B64_FIELDS, ids=lambda field: ".".join(field))
def test_every_sampled_byte_change_is_refused(sealed, field):
    data = bytearray(base64.b64decode(get(sealed, field)))
    for position in sorted({0, len(data) // 2, len(data) - 1}):
        for flip in (0x01, 0x80):
            changed = bytearray(data)
            changed[position] ^= flip
            refused(put(sealed, field, base64.b64encode(bytes(changed)).decode()))


@pytest.mark.parametrize("field", B64_FIELDS, ids=lambda field: ".".join(field))
def test_truncated_or_extended_fields_are_refused(sealed, field):
    data = base64.b64decode(get(sealed, field))
    refused(put(sealed, field, base64.b64encode(data[:-1]).decode()))
    refused(put(sealed, field, base64.b64encode(data + b"\x00").decode()))


def test_non_canonical_base64_is_refused(sealed):
    text = sealed["inner"]["salt"]  # 16 bytes: "...==", the last character carries 4 unused bits
    assert text.endswith("==")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    same_bytes = alphabet[alphabet.index(text[-3]) ^ 1]
    changed = text[:-3] + same_bytes + "=="
    assert base64.b64decode(changed) == base64.b64decode(text)
    refused(put(sealed, ("inner", "salt"), changed))


def test_changed_characters_of_the_serialized_record_are_refused(sealed):
    text = json.dumps(sealed)
    rng = random.Random(20261201)
    checked = 0
    for position in rng.sample(range(len(text)), 24):
        replacement = "A" if text[position] != "A" else "B"
        changed_text = text[:position] + replacement + text[position + 1 :]
        try:
            changed = json.loads(changed_text)
        except json.JSONDecodeError:
            continue  # not a record at all: the caller's JSON parser refuses it
        refused(changed)
        checked += 1
    assert checked >= 12


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("n", 2**15),
        ("n", 2**30),
        ("n", 1000),
        ("n", "16384"),
        ("r", 16),
        ("p", 2),
        ("p", True),
        ("kdf", "argon2id"),
    ],
)
def test_changed_parameters_are_refused(sealed, key, value):
    refused({**sealed, key: value})


@pytest.mark.parametrize("version", [3, 0, "2", 2.0, True, None])
def test_unknown_version_is_refused(sealed, version):
    assert "version" in str(refused({**sealed, "version": version}))


def test_missing_or_extra_fields_are_refused(sealed):
    refused({key: value for key, value in sealed.items() if key != "outer"})
    refused({**sealed, "note": "x"})
    refused({**sealed, "inner": {**sealed["inner"], "tag": "AAAA"}})
    refused({**sealed, "inner": "AAAA"})
    refused({**sealed, "ciphertext": 12})


def test_a_record_must_be_a_mapping():
    refused([])  # type: ignore[arg-type]


def test_serialized_record_holds_no_secret(sealed, mnemonic):
    text = json.dumps(sealed)
    assert mnemonic not in text
    for password in PASSWORDS:
        assert password not in text
    # no word of the seed in any value (words shorter than five letters may appear by chance
    # inside random base64; field names such as "inner" and "outer" are BIP-39 words too)
    values = " ".join(_string_values(sealed))
    for word in mnemonic.split(" "):
        if len(word) >= 5:
            assert word not in values


def _string_values(node):
    if isinstance(node, dict):
        for value in node.values():
            yield from _string_values(value)
    elif isinstance(node, list):
        for value in node:
            yield from _string_values(value)
    elif isinstance(node, str):
        yield node


def test_two_seals_of_one_mnemonic_differ(sealed, mnemonic):
    again = seal(mnemonic, operator_password=OPERATOR, pin=PIN, n=N, keys=KEYS)
    for field in B64_FIELDS:
        assert get(again, field) != get(sealed, field)
    assert open_backup(again, operator_password=OPERATOR, pin=PIN, keys=KEYS) == mnemonic


@pytest.mark.parametrize(("operator_password", "pin"), [("", PIN), (OPERATOR, ""), ("", "")])
def test_empty_passwords_are_refused(sealed, mnemonic, operator_password, pin):
    with pytest.raises(ValueError, match="non-empty"):
        seal(mnemonic, operator_password=operator_password, pin=pin, n=N, keys=KEYS)
    with pytest.raises(ValueError, match="non-empty"):
        open_backup(sealed, operator_password=operator_password, pin=pin, keys=KEYS)


def test_equal_passwords_are_refused(mnemonic):
    with pytest.raises(ValueError, match="differ"):
        seal(mnemonic, operator_password=PIN, pin=PIN, n=N, keys=KEYS)


@pytest.mark.parametrize("n", [2**13, 2**14 + 1, 2**19])
def test_unsupported_costs_are_refused(mnemonic, n):
    with pytest.raises(ValueError, match="power of two"):
        seal(mnemonic, operator_password=OPERATOR, pin=PIN, n=n, keys=KEYS)


def test_an_invalid_mnemonic_is_not_sealed():
    with pytest.raises(ValueError, match="invalid mnemonic"):
        seal("not a mnemonic", operator_password=OPERATOR, pin=PIN, n=N, keys=KEYS)
