"""BSIM seeds: a BIP-39 mnemonic and the member's P-256 signing key derived from it.

A real BSIM card generates the seed and derives the key inside its secure element; neither ever
leaves the card. This module does the same computation in software for the operation desk's
two moments that need it: **issue** (a new seed, whose mnemonic is sealed in the double-encrypted
backup, see :mod:`goldticket.signing.backup`) and **replace** (the mnemonic recovered from that
backup re-derives the same key for the new card, so the on-ledger identity survives).

The mnemonic, the BIP-39 seed and the private value exist in process memory only while a card is
issued or replaced; callers drop every reference as soon as the key is on the card. Python cannot
truly wipe memory: ``str``, ``bytes`` and ``int`` objects are immutable, may be copied by the
interpreter and stay in freed memory until it is reused. Dropping references is the best this
process can do; the card is what keeps the key unexportable.

Derivation: BIP-39 (mnemonic + optional passphrase -> 64-byte seed, PBKDF2-HMAC-SHA512), then
SLIP-0010 on NIST P-256 (master key from HMAC-SHA512 keyed ``b"Nist256p1 seed"``) along
:data:`DERIVATION_PATH`.
"""

from __future__ import annotations

import os

from cryptography.hazmat.primitives.asymmetric import ec
from mnemonic import Mnemonic
from slip10 import HARDENED_INDEX, SLIP10

#: The one path every card derives its signing key at. All steps are hardened, so no public
#: parent key can derive it. 44' follows BIP-44's purpose field; 9999' is an unregistered coin
#: type reserved for GoldTicket; account 0', change 0', index 0'. Never change it: the keys of
#: every issued card, and every backup, depend on it.
DERIVATION_PATH = "m/44'/9999'/0'/0'/0'"

CURVE_NAME = "secp256r1"
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
MNEMONIC_WORDS = 24
ENTROPY_BYTES = 32

_ENGLISH = Mnemonic("english")


def new_mnemonic() -> str:
    """A fresh BIP-39 English mnemonic of 24 words (256 bits of entropy from ``os.urandom``)."""
    return _ENGLISH.to_mnemonic(os.urandom(ENTROPY_BYTES))


def validate_mnemonic(mnemonic: str) -> str:
    """The mnemonic with its words separated by single spaces.

    Raises ValueError if it is not a BIP-39 English mnemonic (unknown word, wrong length or a
    failed checksum). The message never repeats the words.
    """
    if not isinstance(mnemonic, str):
        raise ValueError("a mnemonic must be a string")
    normalized = " ".join(mnemonic.split())
    if not _ENGLISH.check(normalized):
        raise ValueError("invalid mnemonic: unknown word, wrong length or failed checksum")
    return normalized


def derive_private_value(mnemonic: str, passphrase: str = "") -> int:
    """The P-256 private scalar of a card: BIP-39 seed of ``mnemonic`` and ``passphrase``, then
    SLIP-0010 along :data:`DERIVATION_PATH`. The same mnemonic always gives the same key.

    Raises ValueError for an invalid mnemonic.
    """
    seed = Mnemonic.to_seed(validate_mnemonic(mnemonic), passphrase)
    try:
        return private_value_from_seed(seed)
    finally:
        del seed  # see the module docstring: this only drops the reference


def private_value_from_seed(seed: bytes, path: str = DERIVATION_PATH) -> int:
    """SLIP-0010 on NIST P-256: the private scalar at ``path`` (hardened steps only) below the
    master key of ``seed``. Raises ValueError for a path with a non-hardened step."""
    node = SLIP10.from_seed(seed, curve_name=CURVE_NAME)
    indexes = _hardened_indexes(path)
    private_bytes: bytes = node.get_privkey_from_path(indexes)
    return int.from_bytes(private_bytes, "big")


def public_key_of(private_value: int) -> ec.EllipticCurvePublicKey:
    """The P-256 public key of a private scalar. Raises ValueError outside 1 .. n-1."""
    if not 0 < private_value < P256_ORDER:
        raise ValueError("a P-256 private value must lie in 1 .. n-1")
    return ec.derive_private_key(private_value, ec.SECP256R1()).public_key()


def _hardened_indexes(path: str) -> list[int]:
    parts = path.split("/")
    if parts[0] != "m":
        raise ValueError(f"a derivation path starts with 'm': {path!r}")
    indexes = []
    for part in parts[1:]:
        if not (part[-1:] in ("'", "h", "H") and part[:-1].isascii() and part[:-1].isdigit()):
            raise ValueError(f"only hardened steps are allowed: {path!r}")
        number = int(part[:-1])
        if number >= HARDENED_INDEX:
            raise ValueError(f"a step must be below 2**31: {path!r}")
        indexes.append(number + HARDENED_INDEX)
    return indexes
