"""A software card: the member's key in a file, encrypted under a key derived from the PIN.

For development and for deployments without a secure element. The PIN is checked by
decrypting: the private scalar is sealed with AES-256-GCM under scrypt(PIN), so a wrong PIN
fails the GCM tag. scrypt is memory-hard (n = 2**15, r = 8: 32 MiB and ~70 ms per try), which
makes guessing from a stolen file slow but not impossible for a short PIN. So with the
operator's PIN key (the factory's ``pins``) the scrypt input is not the PIN but ``pins(serial,
PIN)``, which only the operator's key computes (record version 2); a version 1 record, sealed
under the PIN itself, is sealed again that way when its PIN is next used right. Every signature
pays one scrypt run; that is the price of never keeping the key or the PIN in memory between
signatures.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import json
import logging
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from goldticket.messages.crypto import P256_N, to_low_s

from ..errors import CardNotFoundError, CardStateError, SigningError, WrongPinError
from .interfaces import Card, CardFactory, PinDeriver

log = logging.getLogger(__name__)

RECORD_VERSION = 2  # sealed under the PIN derived with the operator's PIN key
PLAIN_PIN_VERSION = 1  # sealed under the PIN itself (before PIN keys, or a factory without one)
SCRYPT_N = 2**15
SCRYPT_R = 8
SCRYPT_P = 1
# Accepted when reading a record: refuses parameters that are too weak or that would make
# a tampered file cost gigabytes of memory.
SCRYPT_N_RANGE = (2**14, 2**20)

SERIAL_PATTERN = re.compile(r"[A-Za-z0-9-]{4,32}")


def check_serial(serial: str) -> str:
    """The serial, if it is 4-32 letters, digits or dashes (a file name and a token label)."""
    if not SERIAL_PATTERN.fullmatch(serial):
        raise ValueError("a card serial is 4-32 letters, digits or dashes")
    return serial


def check_new_pin(pin: str) -> None:
    """A PIN both card backends accept: 4-255 UTF-8 bytes (PKCS#11 tokens' usual range), no
    control characters. Raises ValueError without repeating the PIN."""
    if not 4 <= len(pin.encode("utf-8")) <= 255 or any(ord(char) < 32 or ord(char) == 127 for char in pin):
        raise ValueError("a PIN is 4-255 bytes of printable characters")


def check_digest(digest: bytes) -> None:
    if len(digest) != 32:
        raise ValueError("a SHA-256 digest is 32 bytes")


class SoftwareCardFactory(CardFactory):
    """Cards stored as ``<directory>/<serial>.json``, owner-only."""

    name = "software"

    def __init__(self, directory: Path, *, scrypt_n: int = SCRYPT_N) -> None:
        if not _valid_scrypt_n(scrypt_n):
            raise ValueError("scrypt n is a power of two between 2**14 and 2**20")
        self.directory = Path(directory)
        self.scrypt_n = scrypt_n

    def card(self, serial: str) -> SoftwareCard:
        return SoftwareCard(check_serial(serial), self.directory, self.scrypt_n, pins=self.pins)


class SoftwareCard(Card):
    def __init__(
        self, serial: str, directory: Path, scrypt_n: int = SCRYPT_N, *, pins: PinDeriver | None = None
    ) -> None:
        self.serial = check_serial(serial)
        self.path = directory / f"{serial}.json"
        self._scrypt_n = scrypt_n
        self._pins = pins

    def __repr__(self) -> str:
        return f"SoftwareCard({self.serial!r})"

    def put_key(self, private_value: int, pin: str) -> None:
        """Seal ``private_value`` under ``pin``. Raises CardStateError if the card holds a key,
        ValueError for a scalar outside [1, n) or an unusable PIN."""
        if not 0 < private_value < P256_N:
            raise ValueError("a P-256 private scalar lies in [1, n)")
        check_new_pin(pin)
        if self.path.exists():
            raise CardStateError(f"card {self.serial} already holds a key")
        record = self._seal(private_value, pin)
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        _create_file(self.path, record, self.serial)
        log.info("software card %s personalised", self.serial)

    def public_key(self) -> ec.EllipticCurvePublicKey:
        """Raises CardNotFoundError if the card holds no key."""
        return self._read_record().public_key

    def sign_digest(self, digest: bytes, pin: str) -> bytes:
        """Raises WrongPinError, CardNotFoundError, SigningError for a damaged record."""
        check_digest(digest)
        record = self._read_record()
        private_key = ec.derive_private_key(self._open(record, pin), ec.SECP256R1())
        if record.version == PLAIN_PIN_VERSION and self._pins is not None:
            _replace_file(self.path, self._seal(private_key.private_numbers().private_value, pin))
            log.info(
                "software card %s: sealed again under the PIN derived with the operator's key", self.serial
            )
        return to_low_s(private_key.sign(digest, ec.ECDSA(utils.Prehashed(hashes.SHA256()))))

    def change_pin(self, old_pin: str, new_pin: str) -> None:
        """Seal the key again under ``new_pin``. Raises WrongPinError, CardNotFoundError,
        ValueError for an unusable new PIN."""
        check_new_pin(new_pin)
        scalar = self._open(self._read_record(), old_pin)
        _replace_file(self.path, self._seal(scalar, new_pin))
        log.info("software card %s: PIN changed", self.serial)

    def _seal(self, private_value: int, pin: str) -> bytes:
        """A record of ``private_value`` sealed under ``pin`` (derived when there is a PIN key)."""
        version = RECORD_VERSION if self._pins is not None else PLAIN_PIN_VERSION
        public_key = ec.derive_private_key(private_value, ec.SECP256R1()).public_key()
        salt, nonce = os.urandom(16), os.urandom(12)
        key = _derive_key(self._sealing_pin(version, pin), salt, self._scrypt_n, SCRYPT_R, SCRYPT_P)
        ciphertext = AESGCM(key).encrypt(
            nonce, private_value.to_bytes(32, "big"), _bound(self.serial, version)
        )
        record = {
            "version": version,
            "kdf": "scrypt",
            "n": self._scrypt_n,
            "r": SCRYPT_R,
            "p": SCRYPT_P,
            "salt": _b64(salt),
            "nonce": _b64(nonce),
            "ciphertext": _b64(ciphertext),
            "public_key": public_key.public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            ).decode(),
        }
        return json.dumps(record, indent=1, sort_keys=True).encode()

    def _open(self, record: _Record, pin: str) -> int:
        """The private scalar in ``record``. Raises WrongPinError, SigningError."""
        key = _derive_key(self._sealing_pin(record.version, pin), record.salt, record.n, record.r, record.p)
        try:
            scalar = AESGCM(key).decrypt(record.nonce, record.ciphertext, _bound(self.serial, record.version))
        except InvalidTag:
            raise WrongPinError("wrong PIN") from None
        value = int.from_bytes(scalar, "big")
        # The PEM is not under the GCM tag: make sure it is the half of the sealed key.
        if (
            not 0 < value < P256_N
            or ec.derive_private_key(value, ec.SECP256R1()).public_key() != record.public_key
        ):
            raise SigningError(f"card {self.serial}: its record is damaged")
        return value

    def _sealing_pin(self, version: int, pin: str) -> str:
        if version == PLAIN_PIN_VERSION:
            return pin
        if self._pins is None:
            raise SigningError(
                f"card {self.serial} opens only with the operator's PIN key, which this process lacks"
            )
        return self._pins(self.serial, pin)

    def destroy(self) -> None:
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_NOFOLLOW)
        except FileNotFoundError:
            return
        # Best effort: on journaling or copy-on-write file systems and on SSDs the old blocks
        # may survive, but they hold only the PIN-sealed ciphertext.
        try:
            os.write(fd, bytes(os.fstat(fd).st_size))
            os.fsync(fd)
        finally:
            os.close(fd)
        self.path.unlink(missing_ok=True)
        _fsync_directory(self.path.parent)
        log.info("software card %s destroyed", self.serial)

    def exists(self) -> bool:
        return self.path.exists()

    def _read_record(self) -> _Record:
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW)
        except FileNotFoundError:
            raise CardNotFoundError(f"card {self.serial} holds no key") from None
        with os.fdopen(fd, "rb") as file:
            raw = file.read()
        try:
            return _Record.parse(json.loads(raw))
        except (ValueError, KeyError, TypeError):
            raise SigningError(
                f"card {self.serial}: its record is damaged or of an unknown version"
            ) from None


@dataclasses.dataclass(frozen=True)
class _Record:
    version: int
    n: int
    r: int
    p: int
    salt: bytes
    nonce: bytes
    ciphertext: bytes
    public_key: ec.EllipticCurvePublicKey

    @classmethod
    def parse(cls, record: dict[str, Any]) -> _Record:
        """Raises ValueError, KeyError or TypeError for anything but a version 1 or 2 record."""
        if record["version"] not in (PLAIN_PIN_VERSION, RECORD_VERSION) or record["kdf"] != "scrypt":
            raise ValueError("unknown card record version")
        n, r, p = record["n"], record["r"], record["p"]
        if not (_valid_scrypt_n(n) and _int_between(r, 1, 16) and _int_between(p, 1, 4)):
            raise ValueError("scrypt parameters out of range")
        public_key = serialization.load_pem_public_key(record["public_key"].encode())
        if not isinstance(public_key, ec.EllipticCurvePublicKey) or public_key.curve.name != "secp256r1":
            raise ValueError("not an ECDSA P-256 key")
        return cls(
            record["version"],
            n,
            r,
            p,
            _unb64(record["salt"]),
            _unb64(record["nonce"]),
            _unb64(record["ciphertext"]),
            public_key,
        )


def _bound(serial: str, version: int) -> bytes:
    """The associated data of a record's ciphertext: the serial, and for version 2 the version."""
    return serial.encode() if version == PLAIN_PIN_VERSION else f"{serial}|v{version}".encode()


def _derive_key(pin: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(pin.encode("utf-8"))


def _valid_scrypt_n(n: object) -> bool:
    return isinstance(n, int) and _int_between(n, *SCRYPT_N_RANGE) and n & (n - 1) == 0


def _int_between(value: object, low: int, high: int) -> bool:
    return type(value) is int and low <= value <= high


def _create_file(path: Path, data: bytes, serial: str) -> None:
    """Write ``path`` whole or not at all, mode 0600, never replacing an existing file: the
    data goes to a private temporary file (mkstemp makes it 0600) that is then hard-linked
    into place, which fails if ``path`` exists, even when two writers race."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            raise CardStateError(f"card {serial} already holds a key") from None
    finally:
        os.unlink(temporary)
    _fsync_directory(path.parent)


def _replace_file(path: Path, data: bytes) -> None:
    """Write ``path`` again, whole or not at all, mode 0600."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
    _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)
