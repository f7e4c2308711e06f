"""The seed backup kept when a card is issued, encrypted twice so that replacing a card needs
both the user's payment password (PIN) and the operator (the operator password and its token).

The mnemonic is encrypted with AES-256-GCM under a key from Scrypt(PIN, inner salt). That
ciphertext is encrypted again with AES-256-GCM under a random data key of its own, which the
operator's backup key wraps (``backup_keys``: a KEK inside the operator's PKCS#11 token opened
by the operator password, or the software fallback). A record is plain JSON-able data::

    {"version": 2, "kdf": "scrypt", "n": 32768, "r": 8, "p": 1,
     "inner": {"salt": b64, "nonce": b64},
     "outer": {"keys": "pkcs11" | "software", "wrapped_key": b64, "nonce": b64},
     "ciphertext": b64}

Each layer's associated data binds the layer name and the KDF parameters; the outer layer's also
binds the record version, the kind of backup key and the wrapped key. Version 1 records (outer
key from Scrypt(operator password, outer salt)) still open, and :func:`migrate` rewraps one as
version 2 with the operator password alone (the inner layer is unchanged, so no PIN is needed).

A PIN is short, so the inner layer alone resists offline guessing only as long as Scrypt makes
each guess slow; the outer layer is what keeps a stolen record safe, and with the token its key
is not derivable from any password.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import unicodedata
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from .backup_keys import BackupKeys
from .errors import BackupError
from .seed import validate_mnemonic

VERSION = 2
LEGACY_VERSION = 1
KDF = "scrypt"
DEFAULT_N = 2**15
MIN_N = 2**14
MAX_N = 2**18  # 256 MiB of Scrypt memory at r=8: a forged record cannot ask for more
R = 8
P = 1
KEY_BYTES = 32
SALT_BYTES = 16
NONCE_BYTES = 12
_FIELDS = {"version", "kdf", "n", "r", "p", "inner", "outer", "ciphertext"}
_LAYER_FIELDS = {"salt", "nonce"}
_OUTER_FIELDS = {"keys", "wrapped_key", "nonce"}
WRAPPED_KEY_BYTES = KEY_BYTES + 8  # RFC 3394 adds one 64-bit block


def seal(
    mnemonic: str, *, operator_password: str, pin: str, keys: BackupKeys, n: int = DEFAULT_N
) -> dict[str, Any]:
    """A new backup record of ``mnemonic``, opened only by the PIN and the operator's backup
    key (``keys``, opened by the operator password).

    Raises ValueError for an invalid mnemonic, an empty password, a PIN equal to the operator
    password, or a Scrypt cost ``n`` that is not a power of two in MIN_N .. MAX_N; BackupError
    for a wrong operator password.
    """
    mnemonic = validate_mnemonic(mnemonic)
    _check_passwords(operator_password, pin)
    if type(n) is not int or not _valid_n(n):
        raise ValueError(f"scrypt n must be a power of two from {MIN_N} to {MAX_N}")
    inner_salt, inner_nonce = os.urandom(SALT_BYTES), os.urandom(NONCE_BYTES)
    inner_key = _derive_key(pin, inner_salt, n)
    inner = AESGCM(inner_key).encrypt(inner_nonce, mnemonic.encode(), _associated_data("inner", n))
    record = {
        "version": VERSION,
        "kdf": KDF,
        "n": n,
        "r": R,
        "p": P,
        "inner": {"salt": _encode(inner_salt), "nonce": _encode(inner_nonce)},
    }
    return _seal_outer(record, inner, operator_password, keys)


def _seal_outer(
    record: dict[str, Any], inner: bytes, operator_password: str, keys: BackupKeys
) -> dict[str, Any]:
    data_key, wrapped = keys.new_key(operator_password)
    outer = {"keys": keys.kind, "wrapped_key": _encode(wrapped), "nonce": _encode(os.urandom(NONCE_BYTES))}
    nonce = _decode(outer["nonce"], NONCE_BYTES, "outer nonce")
    ciphertext = AESGCM(data_key).encrypt(nonce, inner, _outer_associated_data(record["n"], outer))
    return {**record, "version": VERSION, "outer": outer, "ciphertext": _encode(ciphertext)}


def open_backup(
    record: dict[str, Any], *, operator_password: str, pin: str, keys: BackupKeys | None = None
) -> str:
    """The mnemonic sealed in ``record``.

    Raises BackupError for a wrong operator password or PIN, a record changed anywhere, an
    unknown version, or a version 2 record without its kind of ``keys``; the message never
    contains a password. Raises ValueError for an empty password.
    """
    _check_nonempty(operator_password, pin)
    inner, n = _open_outer(record, operator_password, keys)
    inner_salt, inner_nonce = _layer(record, "inner")
    try:
        plaintext = AESGCM(_derive_key(pin, inner_salt, n)).decrypt(
            inner_nonce, inner, _associated_data("inner", n)
        )
    except InvalidTag:
        raise BackupError("the seed backup could not be opened: wrong PIN or damaged record") from None
    try:
        return validate_mnemonic(plaintext.decode())
    except (UnicodeDecodeError, ValueError):
        raise BackupError("the seed backup holds no valid mnemonic") from None


def migrate(record: dict[str, Any], *, operator_password: str, keys: BackupKeys) -> dict[str, Any]:
    """A version 1 record rewrapped as version 2 under ``keys`` (no PIN needed: the inner
    layer stays as it is); a version 2 record is returned unchanged after a check that it opens
    its outer layer. Raises BackupError as :func:`open_backup`."""
    if not isinstance(operator_password, str) or not operator_password:
        raise ValueError("the operator password must be a non-empty string")
    inner, _ = _open_outer(record, operator_password, keys)
    if record.get("version") == VERSION:
        return record
    base = {key: record[key] for key in ("kdf", "n", "r", "p", "inner")}
    return _seal_outer(base, inner, operator_password, keys)


def _open_outer(record: dict[str, Any], operator_password: str, keys: BackupKeys | None) -> tuple[bytes, int]:
    """The inner ciphertext and the Scrypt cost of ``record``."""
    n = _check_header(record)
    ciphertext = _decode(record["ciphertext"], None, "ciphertext")
    if record["version"] == LEGACY_VERSION:
        outer_salt, outer_nonce = _layer(record, "outer")
        key, nonce, associated = (
            _derive_key(operator_password, outer_salt, n),
            outer_nonce,
            _associated_data("outer", n, LEGACY_VERSION),
        )
    else:
        outer = record["outer"]
        if not isinstance(outer, dict) or set(outer) != _OUTER_FIELDS:
            raise BackupError("malformed seed backup: bad outer layer")
        if keys is None or outer["keys"] != keys.kind:
            raise BackupError(f"this seed backup's key is kept by {outer['keys']!r} backup keys, not here")
        wrapped = _decode(outer["wrapped_key"], WRAPPED_KEY_BYTES, "wrapped key")
        nonce = _decode(outer["nonce"], NONCE_BYTES, "outer nonce")
        key, associated = keys.unwrap(wrapped, operator_password), _outer_associated_data(n, outer)
    try:
        return AESGCM(key).decrypt(nonce, ciphertext, associated), n
    except InvalidTag:
        raise BackupError(
            "the seed backup could not be opened: wrong operator password or damaged record"
        ) from None


def _check_nonempty(operator_password: str, pin: str) -> None:
    for name, value in (("operator password", operator_password), ("PIN", pin)):
        if not isinstance(value, str) or not value:
            raise ValueError(f"the {name} must be a non-empty string")


def _check_passwords(operator_password: str, pin: str) -> None:
    _check_nonempty(operator_password, pin)
    if _password_bytes(operator_password) == _password_bytes(pin):
        raise ValueError("the PIN and the operator password must differ")


def _check_header(record: dict[str, Any]) -> int:
    if not isinstance(record, dict):
        raise BackupError("a seed backup must be a JSON object")
    version = record.get("version")
    if type(version) is not int or version not in (VERSION, LEGACY_VERSION):
        raise BackupError(f"unknown seed backup version: {version!r}")
    if set(record) != _FIELDS:
        raise BackupError("malformed seed backup: unexpected or missing fields")
    n, r, p = record["n"], record["r"], record["p"]
    integers = all(type(value) is int for value in (n, r, p))
    if record["kdf"] != KDF or not integers or (r, p) != (R, P) or not _valid_n(n):
        raise BackupError("unsupported seed backup key derivation")
    return n


def _layer(record: dict[str, Any], name: str) -> tuple[bytes, bytes]:
    layer = record[name]
    if not isinstance(layer, dict) or set(layer) != _LAYER_FIELDS:
        raise BackupError(f"malformed seed backup: bad {name} layer")
    salt = _decode(layer["salt"], SALT_BYTES, f"{name} salt")
    nonce = _decode(layer["nonce"], NONCE_BYTES, f"{name} nonce")
    return salt, nonce


def _valid_n(n: int) -> bool:
    return MIN_N <= n <= MAX_N and n & (n - 1) == 0


def _derive_key(password: str, salt: bytes, n: int) -> bytes:
    return Scrypt(salt=salt, length=KEY_BYTES, n=n, r=R, p=P).derive(_password_bytes(password))


def _password_bytes(password: str) -> bytes:
    # NFKC so that the same password typed on different keyboards or input methods matches
    return unicodedata.normalize("NFKC", password).encode()


def _associated_data(layer: str, n: int, version: int = LEGACY_VERSION) -> bytes:
    # the inner layer's associated data is the same in every version, so migrating a record
    # never needs the PIN
    header = {"layer": layer, "version": version, "kdf": KDF, "n": n, "r": R, "p": P}
    return json.dumps(header, sort_keys=True, separators=(",", ":")).encode()


def _outer_associated_data(n: int, outer: dict[str, Any]) -> bytes:
    header = {
        "layer": "outer",
        "version": VERSION,
        "kdf": KDF,
        "n": n,
        "r": R,
        "p": P,
        "keys": outer["keys"],
        "wrapped_key": outer["wrapped_key"],
    }
    return json.dumps(header, sort_keys=True, separators=(",", ":")).encode()


def _encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _decode(text: object, length: int | None, name: str) -> bytes:
    if not isinstance(text, str):
        raise BackupError(f"malformed seed backup: bad {name}")
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise BackupError(f"malformed seed backup: bad {name}") from None
    # a changed base64 character that decodes to the same bytes is still a changed record
    if _encode(data) != text or (length is not None and len(data) != length):
        raise BackupError(f"malformed seed backup: bad {name}")
    return data
