"""Where the outer layer of seed backups gets its key: a random AES-256 key-encryption key (KEK)
kept in the operator's PKCS#11 token, whose user PIN is the operator password.

Each backup record has its own random data key. The token makes it (a session object), wraps it
under the KEK (CKM_AES_KEY_WRAP, RFC 3394) and later unwraps it, all inside the token; the KEK
is sensitive and never extractable, so a stolen registry plus the operator password is not
enough: the token is needed too. SoftHSM2 stands in for an HSM here (the token lives next to
the cards' tokens); a real HSM works through the same module setting.

With the software card backend there is no token. :class:`SoftwareBackupKeys` is the documented
fallback: the same random KEK, kept in ``<data>/cards/backup-key.json`` (0600) encrypted with
AES-256-GCM under Scrypt(operator password). It still makes every record's outer key random,
but the file and the password together open every backup.
"""

from __future__ import annotations

import abc
import base64
import binascii
import json
import os
import threading
import unicodedata
from collections.abc import Callable
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
MAX_PIN_BYTES = 255  # SoftHSM2's longest user PIN
T = TypeVar("T")


def password_bytes(password: str) -> bytes:
    # NFKC so that the same password typed on different keyboards or input methods matches
    return unicodedata.normalize("NFKC", password).encode()


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
    def change_password(self, old_password: str, new_password: str) -> None:
        """The KEK stays; from now on ``new_password`` opens it. Raises BackupError for a wrong
        ``old_password``."""


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

    def change_password(self, old_password: str, new_password: str) -> None:
        """C_SetPIN on the operator's backup token: its user PIN becomes ``new_password``."""
        new_pin = unicodedata.normalize("NFKC", new_password)
        if not 4 <= len(new_pin.encode()) <= MAX_PIN_BYTES or any(ord(c) < 32 for c in new_pin):
            raise BackupError("the operator password must be 4 to 255 bytes without control characters")

        def set_pin(session: Any) -> None:
            session.set_pin(unicodedata.normalize("NFKC", old_password), new_pin)

        self._with_session(old_password, set_pin, create=False)

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
        from pkcs11 import exceptions as p11

        pin = unicodedata.normalize("NFKC", operator_password)
        if not 4 <= len(pin.encode()) <= MAX_PIN_BYTES or any(ord(c) < 32 for c in pin):
            raise BackupError("the operator password must be 4 to 255 bytes without control characters")
        module, config = self._factory._module, self._factory.config_path
        with module.lock:
            token = module.find_token(config, self._label)
            if token is None:
                if not create or self._factory.token_dir is None:
                    raise BackupError(f"there is no operator backup token labelled {self._label}")
                self._create_token(pin)
                token = module.find_token(config, self._label)
                if token is None:
                    raise SigningError("the operator backup token is not visible after its creation")
            try:
                session = token.open(rw=True, user_pin=pin)
            except (p11.PinIncorrect, p11.PinInvalid, p11.PinLenRange):
                module.refresh()  # python-pkcs11 leaks the session of a failed login
                raise BackupError("the seed backup could not be opened: wrong operator password") from None
            with session:
                try:
                    return operation(session)
                except p11.PKCS11Error as error:
                    raise SigningError(
                        f"the operator backup token failed ({type(error).__name__})"
                    ) from error

    def _create_token(self, pin: str) -> None:
        so_pin = os.urandom(24).hex()
        result = self._factory._softhsm_util(
            "--init-token", "--free", "--label", self._label, answers=f"{so_pin}\n{so_pin}\n{pin}\n{pin}\n"
        )
        self._factory._module.refresh()
        if result.returncode != 0:
            raise SigningError("softhsm2-util could not create the operator backup token")


class SoftwareBackupKeys(BackupKeys):
    """The software fallback: the KEK in a file, encrypted under Scrypt(operator password)."""

    kind = "software"

    def __init__(self, path: Path, *, n: int = 2**15) -> None:
        self.path = Path(path)
        self._n = n
        self._lock = threading.Lock()

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

    def change_password(self, old_password: str, new_password: str) -> None:
        """The same KEK written again under Scrypt(new password)."""
        if not isinstance(new_password, str) or not new_password:
            raise ValueError("the operator password must be a non-empty string")
        kek = self._kek(old_password, create=False)
        with self._lock:
            self._write(new_password, kek)

    def _kek(self, operator_password: str, *, create: bool) -> bytes:
        if not isinstance(operator_password, str) or not operator_password:
            raise ValueError("the operator password must be a non-empty string")
        with self._lock:
            if not self.path.exists():
                if not create:
                    raise BackupError(f"there is no backup key file {self.path}")
                self._write(operator_password, os.urandom(KEY_BYTES))
            try:
                record = json.loads(self.path.read_text(encoding="utf-8"))
                salt, nonce, sealed = (
                    base64.b64decode(record[f], validate=True) for f in ("salt", "nonce", "kek")
                )
                n = int(record["n"])
            except (OSError, ValueError, KeyError, TypeError, binascii.Error):
                raise BackupError(f"the backup key file {self.path} is damaged") from None
            try:
                return AESGCM(_scrypt(operator_password, salt, n)).decrypt(
                    nonce, sealed, b"goldticket backup kek"
                )
            except InvalidTag:
                raise BackupError("the seed backup could not be opened: wrong operator password") from None

    def _write(self, operator_password: str, kek: bytes) -> None:
        salt, nonce = os.urandom(16), os.urandom(12)
        sealed = AESGCM(_scrypt(operator_password, salt, self._n)).encrypt(
            nonce, kek, b"goldticket backup kek"
        )
        record = {
            "n": self._n,
            "salt": base64.b64encode(salt).decode(),
            "nonce": base64.b64encode(nonce).decode(),
            "kek": base64.b64encode(sealed).decode(),
        }
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(record, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.path)


def _scrypt(password: str, salt: bytes, n: int) -> bytes:
    if not 2**14 <= n <= 2**18 or n & (n - 1):
        raise BackupError("the backup key file has an unsupported key derivation")
    return Scrypt(salt=salt, length=KEY_BYTES, n=n, r=8, p=1).derive(password_bytes(password))
