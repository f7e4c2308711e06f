"""Where the outer layer of seed backups gets its key: a random AES-256 key-encryption key (KEK)
kept in the operator's PKCS#11 token, whose user PIN is the operator password.

Each backup record has its own random data key. The token makes it (a session object), wraps it
under the KEK (CKM_AES_KEY_WRAP, RFC 3394) and later unwraps it, all inside the token; the KEK
is sensitive and never extractable, so a stolen registry plus the operator password is not
enough: the token is needed too. SoftHSM2 stands in for an HSM here (the token lives next to
the cards' tokens); a real HSM works through the same module setting.

The same token keeps the cards' PIN key (docs/decisions.md, "Card PINs under the operator's
key"): a random 256-bit generic secret, sensitive and never extractable, that only computes
HMAC-SHA256 inside the token. A card's token (or software card file) is never given the user's
PIN itself but ``card_pin(serial, pin)`` = hex(HMAC-SHA256(PIN key, "goldticket card pin v1" ||
serial || PIN)), so a copy of the token files is worth a PIN search only to someone who also
opens the operator token, that is, who knows the operator password.

With the software card backend there is no token. :class:`SoftwareBackupKeys` is the documented
fallback: the same random KEK and PIN key, kept in ``<data>/cards/backup-key.json`` and
``<data>/cards/pin-key.json`` (0600) encrypted with AES-256-GCM under Scrypt(operator
password). It still makes every record's outer key random, but the files and the password
together open every backup.

Either way the operator password opens these keys; :meth:`BackupKeys.change_password` moves
them to a new one (C_SetPIN on the token, or the files sealed again) and nothing else changes:
seed backups and card PINs stay as they are.
"""

from __future__ import annotations

import abc
import base64
import binascii
import contextlib
import fcntl
import hashlib
import hmac
import json
import os
import threading
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

from .errors import BackupError, SigningError

KEY_BYTES = 32
TOKEN_LABEL = "GTOPBACKUP"  # the operator's backup token (card serials are BS + 16 hex digits)
KEK_LABEL = "goldticket-backup-kek"
PIN_KEY_LABEL = "goldticket-card-pin-key"
PIN_KEY_FILE = "pin-key.json"
CARD_PIN_CONTEXT = b"goldticket card pin v1\x00"
MAX_PIN_BYTES = 255  # SoftHSM2's longest user PIN
T = TypeVar("T")


def password_bytes(password: str) -> bytes:
    # NFKC so that the same password typed on different keyboards or input methods matches
    return unicodedata.normalize("NFKC", password).encode()


def card_pin_message(serial: str, pin: str) -> bytes:
    """What the PIN key MACs for card ``serial`` and the user's ``pin`` (the PIN as typed: a
    card compared it byte for byte before, and still does)."""
    return CARD_PIN_CONTEXT + serial.encode() + b"\x00" + pin.encode("utf-8")


def _check_operator_password(password: str) -> str:
    if not isinstance(password, str) or not password:
        raise SigningError(
            "this process has no operator password (GOLDTICKET_OPERATOR_PASSWORD): the cards here"
            " open only through the operator's PIN key"
        )
    pin = unicodedata.normalize("NFKC", password)
    if not 4 <= len(pin.encode()) <= MAX_PIN_BYTES or any(ord(c) < 32 for c in pin):
        raise BackupError("the operator password must be 4 to 255 bytes without control characters")
    return pin


class BackupKeys(abc.ABC):
    """Makes, wraps and unwraps the data keys of seed backups' outer layer."""

    kind: str

    @abc.abstractmethod
    def new_key(self, operator_password: str) -> tuple[bytes, bytes]:
        """A fresh random data key and that key wrapped under the KEK. Creates the KEK the first
        time. Raises BackupError for a wrong operator password."""

    @abc.abstractmethod
    def unwrap(self, wrapped: bytes, operator_password: str) -> bytes:
        """The data key inside ``wrapped``. Raises BackupError for a wrong operator password or a
        wrapped key that is not this KEK's."""

    @abc.abstractmethod
    def card_pin(self, serial: str, pin: str, operator_password: str) -> str:
        """The PIN card ``serial``'s token (or software card file) is given for the user's
        ``pin``: 64 hex digits of HMAC-SHA256 under the operator's PIN key, which is made the
        first time. Raises BackupError for a wrong operator password, SigningError when there is
        none."""

    @abc.abstractmethod
    def change_password(self, old_password: str, new_password: str) -> None:
        """Open the KEK and the PIN key with ``new_password`` from now on, ``old_password`` no
        longer. Seed backups and cards are untouched. Raises BackupError for a wrong old
        password or an unusable new one."""


class CardPins:
    """A card factory's ``pins``: :meth:`BackupKeys.card_pin` with the operator password this
    process holds (GOLDTICKET_OPERATOR_PASSWORD). After the operator password changes, set
    ``operator_password`` to the new one."""

    def __init__(self, keys: BackupKeys, operator_password: str) -> None:
        self.keys = keys
        self.operator_password = operator_password

    def __repr__(self) -> str:
        return f"CardPins({self.keys.kind})"

    def __call__(self, serial: str, pin: str) -> str:
        return self.keys.card_pin(serial, pin, self.operator_password)


class TokenBackupKeys(BackupKeys):
    """The KEK in a PKCS#11 token labelled :data:`TOKEN_LABEL`, opened by the operator password.
    On SoftHSM2 the token is created at first use; on another module it must exist."""

    kind = "pkcs11"

    def __init__(self, factory: Any, label: str = TOKEN_LABEL) -> None:
        from .cards.pkcs11 import Pkcs11CardFactory

        if not isinstance(factory, Pkcs11CardFactory):
            raise TypeError("TokenBackupKeys needs a Pkcs11CardFactory")
        self._factory = factory
        self._label = label

    def new_key(self, operator_password: str) -> tuple[bytes, bytes]:
        from pkcs11 import Attribute, KeyType, Mechanism

        def make(session: Any) -> tuple[bytes, bytes]:
            kek = self._kek(session, create=True)
            data_key = session.generate_key(
                KeyType.AES,
                KEY_BYTES * 8,
                store=False,
                template={Attribute.SENSITIVE: False, Attribute.EXTRACTABLE: True},
            )
            wrapped = kek.wrap_key(data_key, mechanism=Mechanism.AES_KEY_WRAP)
            return bytes(data_key[Attribute.VALUE]), bytes(wrapped)

        return self._with_session(operator_password, make, create=True)

    def unwrap(self, wrapped: bytes, operator_password: str) -> bytes:
        from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass
        from pkcs11 import exceptions as p11

        def open_key(session: Any) -> bytes:
            kek = self._kek(session, create=False)
            try:
                key = kek.unwrap_key(
                    ObjectClass.SECRET_KEY,
                    KeyType.AES,
                    wrapped,
                    mechanism=Mechanism.AES_KEY_WRAP,
                    template={
                        Attribute.SENSITIVE: False,
                        Attribute.EXTRACTABLE: True,
                        Attribute.TOKEN: False,
                    },
                )
            except p11.PKCS11Error:
                raise BackupError("the seed backup's key is not wrapped by this operator token") from None
            return bytes(key[Attribute.VALUE])

        return self._with_session(operator_password, open_key, create=False)

    def card_pin(self, serial: str, pin: str, operator_password: str) -> str:
        from pkcs11 import Mechanism

        message = card_pin_message(serial, pin)

        def mac(create: bool) -> str:
            return self._with_session(
                operator_password,
                lambda session: bytes(
                    self._pin_key(session, create=create).sign(message, mechanism=Mechanism.SHA256_HMAC)
                ).hex(),
                create=create,
            )

        try:
            return mac(False)
        except _Missing:  # the first card of this token makes the PIN key, under the lock file
            return mac(True)

    def change_password(self, old_password: str, new_password: str) -> None:
        old, new = _check_operator_password(old_password), _check_operator_password(new_password)
        self._with_session(old_password, lambda session: session.set_pin(old, new), create=False)

    def _pin_key(self, session: Any, *, create: bool) -> Any:
        from pkcs11 import Attribute, KeyType, ObjectClass
        from pkcs11 import exceptions as p11

        try:
            return session.get_key(object_class=ObjectClass.SECRET_KEY, label=PIN_KEY_LABEL)
        except p11.NoSuchKey:
            if not create:
                raise _Missing("the operator token holds no PIN key") from None
        # A generic secret that only MACs (SoftHSM2 allows CKM_SHA256_HMAC on CKK_GENERIC_SECRET
        # keys of 32 bytes or more); sensitive and never extractable, like the KEK.
        return session.generate_key(
            KeyType.GENERIC_SECRET,
            KEY_BYTES * 8,
            label=PIN_KEY_LABEL,
            store=True,
            template={
                Attribute.TOKEN: True,
                Attribute.PRIVATE: True,
                Attribute.SENSITIVE: True,
                Attribute.EXTRACTABLE: False,
                Attribute.SIGN: True,
                Attribute.VERIFY: False,
                Attribute.ENCRYPT: False,
                Attribute.DECRYPT: False,
                Attribute.WRAP: False,
                Attribute.UNWRAP: False,
                Attribute.DERIVE: False,
            },
        )

    def _kek(self, session: Any, *, create: bool) -> Any:
        from pkcs11 import Attribute, KeyType, ObjectClass
        from pkcs11 import exceptions as p11

        try:
            return session.get_key(object_class=ObjectClass.SECRET_KEY, label=KEK_LABEL)
        except p11.NoSuchKey:
            if not create:
                raise BackupError("the operator token holds no backup key") from None
        return session.generate_key(
            KeyType.AES,
            KEY_BYTES * 8,
            label=KEK_LABEL,
            store=True,
            template={
                Attribute.TOKEN: True,
                Attribute.PRIVATE: True,
                Attribute.SENSITIVE: True,
                Attribute.EXTRACTABLE: False,
                Attribute.WRAP: True,
                Attribute.UNWRAP: True,
                Attribute.ENCRYPT: False,
                Attribute.DECRYPT: False,
            },
        )

    def _with_session(self, operator_password: str, operation: Callable[[Any], T], *, create: bool) -> T:
        """``operation`` in a read-write session of the operator token, logged in with the
        operator password. With ``create`` a missing token is made (on SoftHSM2), and the whole
        call holds a lock file that every process on this token directory takes to create."""
        from pkcs11 import exceptions as p11

        pin = _check_operator_password(operator_password)
        module, config = self._factory._module, self._factory.config_path
        with module.lock, self._creation_lock(create):
            token = module.find_token(config, self._label, fresh=create)
            if token is None:
                if not create or self._factory.token_dir is None:
                    raise _Missing(f"there is no operator backup token labelled {self._label}")
                self._create_token(pin)
                token = module.find_token(config, self._label)
                if token is None:
                    raise SigningError("the operator backup token is not visible after its creation")
            module.check_room(config)  # a login rewrites token.object: never on a full disk
            for attempt in range(2):
                try:
                    session = token.open(rw=True, user_pin=pin)
                    break
                except (p11.PinIncorrect, p11.PinInvalid, p11.PinLenRange):
                    module.refresh()  # python-pkcs11 leaks the session of a failed login
                    raise BackupError("the operator token does not open: wrong operator password") from None
                except p11.PKCS11Error as error:
                    # once more on a fresh view of the token directory (a token replaced by
                    # another process, a token.object put back from its copy)
                    module.refresh()
                    found = module.find_token(config, self._label) if not attempt else None
                    if found is None:
                        raise SigningError(
                            f"the operator backup token failed ({type(error).__name__})"
                        ) from error
                    token = found
            with session:
                try:
                    return operation(session)
                except p11.PKCS11Error as error:
                    raise SigningError(
                        f"the operator backup token failed ({type(error).__name__})"
                    ) from error

    @contextlib.contextmanager
    def _creation_lock(self, create: bool) -> Iterator[None]:
        token_dir = self._factory.token_dir
        if not create or token_dir is None:
            yield
            return
        fd = os.open(token_dir.parent / ".operator-token.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _create_token(self, pin: str) -> None:
        so_pin = os.urandom(24).hex()
        result = self._factory._softhsm_util(
            "--init-token", "--free", "--label", self._label, answers=f"{so_pin}\n{so_pin}\n{pin}\n{pin}\n"
        )
        self._factory._module.refresh()
        if result.returncode != 0:
            raise SigningError("softhsm2-util could not create the operator backup token")


class SoftwareBackupKeys(BackupKeys):
    """The software fallback: the KEK and the PIN key in files, each encrypted under
    Scrypt(operator password)."""

    kind = "software"

    def __init__(self, path: Path, *, n: int = 2**15) -> None:
        self.path = Path(path)
        self.pin_key_path = self.path.with_name(PIN_KEY_FILE)
        self._n = n
        self._lock = threading.Lock()
        # The PIN key opened last, and for which password and file: one Scrypt run per process
        # rather than one per signature (the KEK is opened each time, as it is used rarely).
        self._pin_key_cache: tuple[bytes, bytes] | None = None

    def new_key(self, operator_password: str) -> tuple[bytes, bytes]:
        kek = self._kek(operator_password, create=True)
        data_key = os.urandom(KEY_BYTES)
        return data_key, aes_key_wrap(kek, data_key)

    def unwrap(self, wrapped: bytes, operator_password: str) -> bytes:
        kek = self._kek(operator_password, create=False)
        try:
            return aes_key_unwrap(kek, wrapped)
        except InvalidUnwrap:
            raise BackupError(
                "the seed backup's key is not wrapped by this deployment's backup key"
            ) from None

    def card_pin(self, serial: str, pin: str, operator_password: str) -> str:
        _check_operator_password(operator_password)
        with self._lock:
            try:
                stat = self.pin_key_path.stat()
                stamp = f"{stat.st_ino}:{stat.st_mtime_ns}".encode()
            except FileNotFoundError:
                stamp = b""
            tag = hashlib.sha256(stamp + b"\x00" + password_bytes(operator_password)).digest()
            if self._pin_key_cache is not None and hmac.compare_digest(self._pin_key_cache[0], tag):
                key = self._pin_key_cache[1]
            else:
                key = self._open(self.pin_key_path, _PIN_KEY_SEAL, operator_password, create=True)
                self._pin_key_cache = (tag, key) if stamp else None
        return hmac.new(key, card_pin_message(serial, pin), hashlib.sha256).hexdigest()

    def change_password(self, old_password: str, new_password: str) -> None:
        _check_operator_password(new_password)
        with self._lock:
            keys = [
                (path, seal, self._open(path, seal, old_password, create=False))
                for path, seal in ((self.path, _KEK_SEAL), (self.pin_key_path, _PIN_KEY_SEAL))
                if path.exists()
            ]
            for path, seal, key in keys:
                self._write(path, seal, new_password, key, replace=True)
            self._pin_key_cache = None

    def _kek(self, operator_password: str, *, create: bool) -> bytes:
        if not isinstance(operator_password, str) or not operator_password:
            raise ValueError("the operator password must be a non-empty string")
        with self._lock:
            return self._open(self.path, _KEK_SEAL, operator_password, create=create)

    def _open(self, path: Path, seal: bytes, operator_password: str, *, create: bool) -> bytes:
        """The key sealed in ``path``, made first if ``create`` and there is none. Call with the
        lock held."""
        if not path.exists():
            if not create:
                raise BackupError(f"there is no backup key file {path}")
            self._write(path, seal, operator_password, os.urandom(KEY_BYTES), replace=False)
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            salt, nonce, sealed = (
                base64.b64decode(record[f], validate=True) for f in ("salt", "nonce", "kek")
            )
            n = int(record["n"])
        except (OSError, ValueError, KeyError, TypeError, binascii.Error):
            raise BackupError(f"the backup key file {path} is damaged") from None
        try:
            return AESGCM(_scrypt(operator_password, salt, n)).decrypt(nonce, sealed, seal)
        except InvalidTag:
            raise BackupError("the operator's key file does not open: wrong operator password") from None

    def _write(self, path: Path, seal: bytes, operator_password: str, key: bytes, *, replace: bool) -> None:
        """Seal ``key`` into ``path``. A new file never replaces one another process made
        meanwhile (that one wins, and is the one opened next)."""
        salt, nonce = os.urandom(16), os.urandom(12)
        sealed = AESGCM(_scrypt(operator_password, salt, self._n)).encrypt(nonce, key, seal)
        record = {
            "n": self._n,
            "salt": base64.b64encode(salt).decode(),
            "nonce": base64.b64encode(nonce).decode(),
            "kek": base64.b64encode(sealed).decode(),
        }
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(record, handle)
                handle.flush()
                os.fsync(handle.fileno())
            if replace:
                os.replace(tmp, path)
            else:
                with contextlib.suppress(FileExistsError):
                    os.link(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)


_KEK_SEAL = b"goldticket backup kek"
_PIN_KEY_SEAL = b"goldticket card pin key"


class _Missing(BackupError):
    """The operator token or one of its keys is not there (yet)."""


def _scrypt(password: str, salt: bytes, n: int) -> bytes:
    if not 2**14 <= n <= 2**18 or n & (n - 1):
        raise BackupError("the backup key file has an unsupported key derivation")
    return Scrypt(salt=salt, length=KEY_BYTES, n=n, r=8, p=1).derive(password_bytes(password))
