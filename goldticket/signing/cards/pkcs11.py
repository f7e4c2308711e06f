"""A PKCS#11 card: one token per card, the token's label being the card's serial.

In development the tokens live in SoftHSM2 (``token_dir`` given): the factory writes its own
SoftHSM2 configuration, creates a card's token with ``softhsm2-util`` and deletes it when the
card is destroyed. With a real BSIM or HSM module (no ``token_dir``) the token already exists;
the card only logs in with the PIN and stores or uses its key.

The key is imported (the card's key is derived from a seed outside the token, see DOMAIN.md),
as a sensitive, non-extractable, non-copyable token object: the token signs with it but never
gives it out. The public half is a public token object, readable without the PIN.

A SoftHSM2 token is a few files protected by their user PIN alone, and SoftHSM2 counts no wrong
PINs: a copy of them could be searched for a six-digit PIN in minutes. So with the operator's
PIN key (the factory's ``pins``) a token's user PIN is never the user's PIN but ``pins(serial,
PIN)``, 64 hex digits only the operator token computes. A token made before keeps the user's
PIN until it is next used right, and is then moved (C_SetPIN) to the derived one.
"""

from __future__ import annotations

import _ssl
import contextlib
import ctypes
import dataclasses
import errno
import fcntl
import functools
import hashlib
import hmac
import logging
import os
import shutil
import subprocess
import termios
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pkcs11
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass, Token
from pkcs11 import exceptions as p11

from goldticket.messages.crypto import P256_N, low_s_der

from ..errors import CardLockedError, CardNotFoundError, CardStateError, SigningError, WrongPinError
from .interfaces import Card, CardFactory
from .software import check_digest, check_new_pin, check_serial

if TYPE_CHECKING:
    from pkcs11._pkcs11 import lib as Library

log = logging.getLogger(__name__)

SOFTHSM_MODULE_PATHS = (
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
)
# DER of the OID 1.2.840.10045.3.1.7 (prime256v1, NIST P-256): the token's CKA_EC_PARAMS.
P256_PARAMETERS = bytes.fromhex("06082a8648ce3d030107")
SOFTHSM_UTIL_TIMEOUT_SECONDS = 30
# How long a card's token session stays logged in after the token accepted its PIN (issue #22):
# within it a signature needs no C_Login (nor the operator token's PIN derivation) when the PIN
# given matches, by a keyed hash, the one the token accepted. 0 logs in for every signature.
SESSION_SECONDS = 300.0
# Key of those hashes: this process's alone, never stored.
_SESSION_PIN_KEY = os.urandom(32)

T = TypeVar("T")


def default_module_path() -> str | None:
    """The SoftHSM2 module, if installed where Debian or Ubuntu put it."""
    return next((path for path in SOFTHSM_MODULE_PATHS if os.path.exists(path)), None)


# Token visibility, measured with SoftHSM 2.6.1 and python-pkcs11 0.10.1: SoftHSM reads its
# token directory only in C_Initialize. A token that another process (softhsm2-util) creates
# afterwards is not listed by C_GetSlotList, so get_slots/get_token do not see it; a token it
# deletes stays listed and fails with CKR_GENERAL_ERROR on use. Only finalising and
# initialising the library again (lib.reinitialize(): ~0.1 ms with a few tokens, ~21 ms with
# 200, as SoftHSM loads every token) shows the change; it also closes every session of the
# process. A failed C_Login leaks its session in python-pkcs11, so we refresh after one too. C_Initialize re-reads SOFTHSM2_CONF
# too, so one loaded module can serve factories with different token directories in turn.
# Hence one _Module per module file, one lock around every use (no session outlives a call),
# a reinitialisation after we create or delete a token, and on a lookup miss or an unexpected
# token error one reinitialisation and retry, which also finds tokens made by other processes.
#
# Token files, read in SoftHSM 2.6.1's source (ObjectFile::store, File::unlock) and seen with
# strace: every C_Login rewrites the token's token.object (it clears CKF_USER_PIN_COUNT_LOW)
# in place: open, fcntl write lock, ftruncate to 0, unlock, and only then, at fclose, write().
# So (1) another process that reads the token in between (its C_Initialize, softhsm2-util's
# slot scan) sees an empty token.object: a token without label or flags, C_GetTokenInfo and
# C_Login fail with CKR_GENERAL_ERROR (the restarted gateway's first signature, defect 7 of
# docs/operations.md; softhsm2-util --init-token exiting 1 after making its token, defect 6);
# (2) a process killed in between, or a write refused by a full disk (defect 5), leaves the
# token.object empty for good: label, flags and both PIN blobs gone, the token's keys with
# them. Hence every use of a token directory, in every process, holds an exclusive flock on
# ``<token dir>/../.tokens.lock`` (no process reads while another writes), a copy of each
# token.object is kept beside it (token.object.bak, which SoftHSM ignores and deletes with the
# token) and put back when a token.object is found empty, and nothing touches a token when
# its disk has less than DISK_RESERVE_BYTES free (ENOSPC instead: 503/507, try again).
DISK_RESERVE_BYTES = 256 * 1024
TOKEN_OBJECT = "token.object"
TOKEN_OBJECT_COPY = "token.object.bak"


def clear_openssl_errors() -> None:
    """Empty this thread's OpenSSL error queue. SoftHSM2's C_Initialize leaves an error on it
    (ENGINE NO_SUCH_ENGINE: it asks for the GOST engine, absent from OpenSSL 3), and libcrypto is
    the one Python's ssl module uses, whose SSL_get_error reads that queue first: the thread's
    next read on a TLS socket with a timeout failed with the stale error (the signing gateway's
    kept connections, once a thread had initialised the module again)."""
    clear = _openssl_clear()
    if clear is not None:
        clear()


@functools.cache
def _openssl_clear() -> Any:
    try:
        return ctypes.CDLL(_ssl.__file__).ERR_clear_error  # found in _ssl's libcrypto
    except (OSError, AttributeError):  # a Python without that libcrypto: nothing shared to clear
        return None


class _Module:
    """One PKCS#11 module loaded in this process, shared by every factory that uses it.

    ``lock`` is held around every use: a re-entrant thread lock and, from the first activation
    of a SoftHSM2 configuration under it until its outermost release, the exclusive flock of
    that token directory, which every process using the directory takes."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.lock = _ModuleLock()
        self._library: Library | None = None
        self._config: Path | None = None
        self._tokens: dict[str, Token] | None = None
        self._token_dirs: dict[Path, Path | None] = {}
        # (SoftHSM2 configuration, card serial) -> its token's session kept logged in
        self._sessions: dict[tuple[Path, str], _KeptSession] = {}
        # a card token's token.object, and how it was when this process last used the token
        self._token_objects: dict[tuple[Path, str], Path] = {}
        self._seen: dict[Path, tuple[int, int, int] | None] = {}

    def activate(self, config: Path | None) -> Library:
        """The library, initialised with ``config`` (a SoftHSM2 configuration file) when one is
        given. Call with the lock held."""
        if config is not None:
            token_dir = self._token_dir(config)
            if token_dir is not None:
                self.lock.hold(token_dir.parent / ".tokens.lock")
        if config is not None and config != self._config:
            # SoftHSM2 reads SOFTHSM2_CONF in C_Initialize: set it before the first load.
            os.environ["SOFTHSM2_CONF"] = str(config)
            self._config = config
            if self._library is not None:
                self.refresh()
        if self._library is None:
            self._library = pkcs11.lib(self.path)
        if not self._library.initialized:
            self._repair()
            self._library.initialize()
            clear_openssl_errors()
        return self._library

    def refresh(self) -> None:
        """Finalise and initialise the library: it sees the token directory as it is now.
        C_Finalize closes every session of the process, the kept ones with them."""
        self._tokens = None
        self._sessions.clear()
        self._seen.clear()  # C_Initialize reads every token as it is now
        self._token_objects.clear()
        if self._library is not None:
            self._repair()
            self._library.reinitialize()
            clear_openssl_errors()

    def keep(self) -> None:
        """Copy every changed token.object of the active token directory now (after a token is
        made or its PIN changed: the copy put back after a crash must take the PIN in use)."""
        self._repair()

    def check_room(self, config: Path | None) -> None:
        """Raise ENOSPC if the active token directory's disk has too little room for SoftHSM2
        to rewrite a token.object (it would be left empty)."""
        token_dir = self._token_dir(config) if config is not None else None
        if token_dir is None:
            return
        stats = os.statvfs(token_dir)
        if stats.f_bavail * stats.f_frsize < DISK_RESERVE_BYTES:
            raise OSError(errno.ENOSPC, "the card tokens' disk is full; nothing was signed")

    def _changed_elsewhere(self, config: Path | None, label: str, token: Token) -> bool:
        """Whether token ``label``'s token.object changed since this process last used it (and
        so since C_Initialize, or this process's own last login or PIN change, read it). Every
        process changes a token under the token directory's flock, which we hold."""
        if config is None:
            return False
        path = self._token_objects.get((config, label))
        if path is None:
            path = self.token_object(config, token)
            if path is None:
                return False
            self._token_objects[(config, label)] = path
        seen = self._seen.get(path)
        return seen is not None and _stamp(path) != seen

    def _seen_now(self, config: Path | None, label: str) -> None:
        path = self._token_objects.get((config, label)) if config is not None else None
        if path is not None:
            self._seen[path] = _stamp(path)

    def kept_session(self, config: Path | None, serial: str) -> _KeptSession | None:
        """The session kept logged in for card ``serial``, if it may still serve: opened by this
        process, within its window, and its token's token.object unchanged since the login (a
        PIN changed by another process rewrites it, as does any C_Login). Dropped otherwise.
        Call with the lock held."""
        if config is None:
            return None
        kept = self._sessions.get((config, serial))
        if kept is None:
            return None
        if kept.pid != os.getpid():  # a forked child: the parent's sessions are not its own
            self._sessions.pop((config, serial), None)
            return None
        if time.monotonic() >= kept.until or _stamp(kept.token_object) != kept.stamp:
            self.drop_session(config, serial)
            return None
        return kept

    def keep_session(self, config: Path | None, serial: str, kept: _KeptSession) -> bool:
        """Keep ``kept`` for card ``serial``; False (the caller closes it) where sessions are not
        kept: modules other than SoftHSM2 (no token.object shows a PIN changed elsewhere)."""
        if config is None or kept.token_object is None or kept.stamp is None:
            return False
        self.drop_session(config, serial)
        self._sessions[(config, serial)] = kept
        return True

    def drop_session(self, config: Path | None, serial: str) -> None:
        """Log out and close card ``serial``'s kept session, if any. Call with the lock held."""
        if config is None:
            return
        kept = self._sessions.pop((config, serial), None)
        if kept is not None and kept.pid == os.getpid():
            with contextlib.suppress(p11.PKCS11Error):
                kept.session.close()  # C_Logout, C_CloseSession

    def token_object(self, config: Path | None, token: Token) -> Path | None:
        """The token.object file of a SoftHSM2 ``token`` (its directory is named by a UUID
        whose last 16 hex digits are the token's serial number), None elsewhere."""
        token_dir = self._token_dir(config) if config is not None else None
        if token_dir is None:
            return None
        number = bytes(token.serial).decode("ascii", "replace").strip().lower()
        if len(number) != 16:
            return None
        try:
            entries = list(os.scandir(token_dir))
        except OSError:
            return None
        found = [
            Path(entry.path) / TOKEN_OBJECT
            for entry in entries
            if entry.is_dir(follow_symlinks=False) and entry.name.replace("-", "").lower().endswith(number)
        ]
        return found[0] if len(found) == 1 else None

    def _token_dir(self, config: Path) -> Path | None:
        if config not in self._token_dirs:
            self._token_dirs[config] = _configured_token_dir(config) if config.exists() else None
        return self._token_dirs[config]

    def _repair(self) -> None:
        """Put back each token.object found empty (a process killed while SoftHSM2 rewrote it,
        a full disk) from its copy, and copy each one that changed. Call with the lock held."""
        token_dir = self._token_dir(self._config) if self._config is not None else None
        if token_dir is None:
            return
        try:
            entries = list(os.scandir(token_dir))
        except OSError:
            return
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                _repair_token(Path(entry.path))

    def find_token(self, config: Path | None, label: str, *, fresh: bool = False) -> Token | None:
        """The token labelled ``label``, looking again after a refresh if it is not known, or
        in any case if ``fresh`` (a token deleted elsewhere stays known until a refresh)."""
        library = self.activate(config)
        if fresh:
            self.refresh()
        if self._tokens is not None:
            if label in self._tokens:
                return self._tokens[label]
            self.refresh()
        self._tokens = _tokens_by_label(library)
        return self._tokens.get(label)

    def run(self, config: Path | None, label: str, operation: Callable[[Token], T]) -> T:
        """``operation`` on the token labelled ``label`` under the lock, retried once after a
        refresh if the token fails (it may have been deleted or replaced by another process).
        Raises CardNotFoundError if there is no such token, OSError ENOSPC on a full disk."""
        with self.lock:
            for attempt in range(2):
                try:
                    token = self.find_token(config, label)
                    if token is None:
                        raise CardNotFoundError(f"card {label} holds no key")
                    if self._changed_elsewhere(config, label, token):
                        # another process changed the token (its PIN, say): SoftHSM2 keeps what
                        # it loaded, the old PIN included, until C_Initialize reads it again
                        self.refresh()
                        token = self.find_token(config, label)
                        if token is None:
                            raise CardNotFoundError(f"card {label} holds no key")
                    self.check_room(config)
                    result = operation(token)
                    self._seen_now(config, label)
                    return result
                except p11.PKCS11Error as error:
                    if attempt:
                        raise SigningError(
                            f"card {label}: the token failed ({type(error).__name__})"
                        ) from error
                    self.refresh()
        raise AssertionError("unreachable")


@dataclasses.dataclass
class _KeptSession:
    """A card token's session left logged in after a signature, and what it may serve."""

    session: pkcs11.Session
    key: Any  # the card's private key object in that session
    pin_hash: bytes  # HMAC(_SESSION_PIN_KEY, serial, the user's PIN) the token accepted
    pins: Any  # the factory's PIN deriver of that login (None: the PIN itself)
    until: float  # time.monotonic() when the window ends
    token_object: Path | None
    stamp: tuple[int, int, int] | None  # token.object's inode, size and mtime after the login
    pid: int


def _pin_hash(serial: str, pin: str) -> bytes:
    return hmac.new(_SESSION_PIN_KEY, f"{serial}\x00{pin}".encode(), hashlib.sha256).digest()


def _stamp(path: Path | None) -> tuple[int, int, int] | None:
    if path is None:
        return None
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns)


class _ModuleLock:
    """A re-entrant thread lock that also holds, until its outermost release, the exclusive
    flock of every lock file :meth:`hold` was given while it was held."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._depth = 0
        self._held: dict[Path, int] = {}

    def __enter__(self) -> _ModuleLock:
        self._lock.acquire()
        self._depth += 1
        return self

    def __exit__(self, *_: object) -> None:
        self._depth -= 1
        if self._depth == 0:
            held, self._held = self._held, {}
            for fd in held.values():
                os.close(fd)  # releases the flock
        self._lock.release()

    def hold(self, path: Path) -> None:
        """Take the exclusive flock of ``path`` (made 0600) until the outermost release."""
        if self._depth == 0:
            raise RuntimeError("the module lock is not held")
        if path in self._held:
            return
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(fd)
            raise
        self._held[path] = fd


def _repair_token(directory: Path) -> None:
    current, copy = directory / TOKEN_OBJECT, directory / TOKEN_OBJECT_COPY
    try:
        data = current.read_bytes()
    except FileNotFoundError:
        return  # a token being made or deleted by softhsm2-util (under the lock): not ours
    except OSError:
        return
    if not data:
        if copy.exists() and copy.stat().st_size:
            # a rename needs no room on a full disk; the copy is made again below when it can be
            os.replace(copy, current)
            log.warning(
                "token %s: its token.object was empty (a kill or a full disk); put back", directory.name
            )
            _copy_quietly(current, copy)
        else:
            log.error("token %s: its token.object is empty and has no copy", directory.name)
        return
    try:
        same = copy.read_bytes() == data
    except OSError:
        same = False
    if not same:
        _copy_quietly(current, copy, data)


def _copy_quietly(source: Path, target: Path, data: bytes | None = None) -> None:
    """``target`` with ``source``'s bytes, replaced atomically; left as it was if the disk
    is full (the copy is made again at the next look)."""
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        content = source.read_bytes() if data is None else data
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except OSError:
        with contextlib.suppress(OSError):
            temporary.unlink()


def _tokens_by_label(library: Library) -> dict[str, Token]:
    tokens: dict[str, Token] = {}
    for slot in library.get_slots(token_present=True):
        try:
            token = slot.get_token()
        except p11.PKCS11Error:  # a slot left over by a token deleted elsewhere
            continue
        if token.flags & pkcs11.TokenFlag.TOKEN_INITIALIZED:
            tokens.setdefault(token.label, token)
    return tokens


_MODULES: dict[str, _Module] = {}
_MODULES_LOCK = threading.Lock()


def _module(path: str) -> _Module:
    # One entry per file: /usr/lib/softhsm/libsofthsm2.so is a symlink, and two lib objects on
    # one dlopen handle would finalise each other.
    real_path = os.path.realpath(path)
    with _MODULES_LOCK:
        if real_path not in _MODULES:
            _MODULES[real_path] = _Module(real_path)
        return _MODULES[real_path]


class Pkcs11CardFactory(CardFactory):
    """Cards on the tokens of one PKCS#11 module. With ``token_dir`` the module is SoftHSM2 and
    the factory manages its tokens there, with its configuration in ``token_dir/../softhsm2.conf``
    (left as it is if it already points at ``token_dir``)."""

    name = "pkcs11"

    def __init__(
        self, module_path: str, token_dir: Path | None = None, *, session_seconds: float = SESSION_SECONDS
    ) -> None:
        if not os.path.exists(module_path):
            raise ValueError(f"no PKCS#11 module at {module_path}")
        self.module_path = module_path
        self.token_dir = Path(token_dir).resolve() if token_dir is not None else None
        self.config_path = _write_softhsm_config(self.token_dir) if self.token_dir is not None else None
        self._module = _module(module_path)
        self.session_seconds = session_seconds

    def card(self, serial: str) -> Pkcs11Card:
        return Pkcs11Card(check_serial(serial), self)

    def _softhsm_util(
        self, *arguments: str, answers: str | None = None
    ) -> subprocess.CompletedProcess[bytes]:
        """Run softhsm2-util on this factory's token directory. ``answers`` are typed at its
        prompts through a pseudo-terminal: it reads PINs from a terminal only, and this keeps
        them off its command line, which any local user can read in /proc."""
        executable = shutil.which("softhsm2-util")
        if executable is None or self.config_path is None:
            raise SigningError("softhsm2-util is not installed")
        command = [executable, *arguments, "--module", self._module.path]
        environment = dict(os.environ, SOFTHSM2_CONF=str(self.config_path))
        terminal, tool_side = os.openpty()
        try:
            settings = termios.tcgetattr(tool_side)
            settings[3] &= ~termios.ECHO  # lflag: do not echo the PINs back to us
            termios.tcsetattr(tool_side, termios.TCSANOW, settings)
            if answers is not None:
                os.write(terminal, answers.encode("utf-8"))
            return subprocess.run(
                command,
                stdin=tool_side,
                capture_output=True,
                env=environment,
                timeout=SOFTHSM_UTIL_TIMEOUT_SECONDS,
                check=False,
            )
        finally:
            os.close(tool_side)
            os.close(terminal)


class Pkcs11Card(Card):
    def __init__(self, serial: str, factory: Pkcs11CardFactory) -> None:
        self.serial = check_serial(serial)
        self._factory = factory
        self._module = factory._module
        self._config = factory.config_path

    def __repr__(self) -> str:
        return f"Pkcs11Card({self.serial!r})"

    def put_key(self, private_value: int, pin: str) -> None:
        """On SoftHSM2, create the token with ``pin`` (derived, with the operator's PIN key) as
        its user PIN and a random security officer PIN that is thrown away (so nobody can reset
        the user PIN); elsewhere log in to the existing token. Raises CardStateError if the card
        holds a key, CardNotFoundError if a real token is missing, WrongPinError, ValueError for
        a bad scalar or PIN."""
        if not 0 < private_value < P256_N:
            raise ValueError("a P-256 private scalar lies in [1, n)")
        check_new_pin(pin)
        pin = self._token_pins(pin)[0]
        with self._module.lock:
            if self._factory.token_dir is None:
                token = self._module.find_token(self._config, self.serial)
                if token is None:
                    raise CardNotFoundError(f"no token labelled {self.serial}")
                self._store_key(token, private_value, pin)
                return
            if self._module.find_token(self._config, self.serial, fresh=True) is not None:
                raise CardStateError(f"card {self.serial} already holds a key")
            self._create_token(pin)
            try:
                token = self._module.find_token(self._config, self.serial)
                if token is None:
                    raise SigningError(f"card {self.serial}: the new token is not visible")
                self._store_key(token, private_value, pin)
            except Exception:
                self._delete_token()
                raise
        log.info("pkcs11 card %s personalised", self.serial)

    def public_key(self) -> ec.EllipticCurvePublicKey:
        """Raises CardNotFoundError if the card holds no key."""

        def read(token: Token) -> ec.EllipticCurvePublicKey:
            with token.open() as session:
                point = _public_key_object(session, self.serial)[Attribute.EC_POINT]
            return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), _unwrap_ec_point(point))

        return self._module.run(self._config, self.serial, read)

    def sign_digest(self, digest: bytes, pin: str) -> bytes:
        """Raises WrongPinError, CardLockedError, CardNotFoundError.

        On SoftHSM2 the token's session stays logged in for the factory's ``session_seconds``
        after the token accepted ``pin``: a later signature with the same PIN (compared by a
        keyed hash) uses it; any other PIN closes it and goes to the token, which decides."""
        signature = self.sign_kept(digest, pin)
        if signature is not None:
            return signature
        pin_hash = _pin_hash(self.serial, pin)
        token_pin, legacy = self._token_pins(pin)

        def sign(token: Token, pin: str, move_to: str | None = None) -> bytes:
            session = self._login(token, pin, rw=move_to is not None)
            kept = False
            try:
                try:
                    key = session.get_key(object_class=ObjectClass.PRIVATE_KEY, label=self.serial)
                except p11.NoSuchKey:
                    raise CardNotFoundError(f"card {self.serial} holds no key") from None
                if not isinstance(key, pkcs11.SignMixin):
                    raise SigningError(f"card {self.serial}: its key cannot sign")
                # SoftHSM2 refuses CKM_ECDSA_SHA256; CKM_ECDSA signs the digest as given.
                raw = key.sign(digest, mechanism=Mechanism.ECDSA)
                if move_to is not None:
                    session.set_pin(pin, move_to)
                    self._module.keep()  # the copy of token.object takes the new PIN too
                    log.info(
                        "pkcs11 card %s: its token's PIN is now derived with the operator's key", self.serial
                    )
                elif self._factory.session_seconds > 0:
                    token_object = self._module.token_object(self._config, token)
                    kept = self._module.keep_session(
                        self._config,
                        self.serial,
                        _KeptSession(
                            session=session,
                            key=key,
                            pin_hash=pin_hash,
                            pins=self._factory.pins,
                            until=time.monotonic() + self._factory.session_seconds,
                            token_object=token_object,
                            stamp=_stamp(token_object),  # after the login, which rewrote it
                            pid=os.getpid(),
                        ),
                    )
            finally:
                if not kept:
                    session.close()
            return _der_signature(raw)

        try:
            return self._module.run(self._config, self.serial, lambda token: sign(token, token_pin))
        except WrongPinError:
            if legacy is None:
                raise
        # A token made before PINs were derived takes the PIN itself; if it does, it is moved.
        return self._module.run(self._config, self.serial, lambda token: sign(token, legacy, token_pin))

    def sign_kept(self, digest: bytes, pin: str) -> bytes | None:
        """Sign through the session kept for this card if ``pin`` is the PIN its token accepted
        (compared by a keyed hash); None otherwise, having closed that session and left the
        PIN to the token (``sign_digest``). Never counts as a PIN try: it cannot fail on a PIN."""
        check_digest(digest)
        if not isinstance(pin, str):
            return None
        pin_hash = _pin_hash(self.serial, pin)

        def sign_in(kept: _KeptSession | None) -> bytes | None:
            # kept_session checked the window, this process, and that the token's token.object
            # is as the login left it (a PIN changed or a token deleted or made again elsewhere
            # rewrites or removes it): no token lookup is needed to trust the session's key
            if kept is None:
                return None
            if kept.pins is not self._factory.pins or not hmac.compare_digest(kept.pin_hash, pin_hash):
                self._module.drop_session(self._config, self.serial)  # the token judges this PIN
                return None
            self._module.check_room(self._config)
            try:
                raw = kept.key.sign(digest, mechanism=Mechanism.ECDSA)
            except p11.PKCS11Error:
                self._module.drop_session(self._config, self.serial)
                return None
            return _der_signature(raw)

        with self._module.lock:
            if self._module.kept_session(self._config, self.serial) is None:
                return None  # nothing kept: no initialisation, no token lookup either
            # a kept session means no reinitialisation since its login: activate only takes the
            # token directory's flock, under which the session is checked again
            self._module.activate(self._config)
            return sign_in(self._module.kept_session(self._config, self.serial))

    def forget_session(self) -> None:
        """Log out the session kept for this card, if any (the card was locked or revoked)."""
        with self._module.lock:
            self._module.drop_session(self._config, self.serial)

    def change_pin(self, old_pin: str, new_pin: str) -> None:
        """C_SetPIN from ``old_pin`` to ``new_pin`` (both derived, as every PIN the token sees).
        Raises WrongPinError, CardLockedError, CardNotFoundError, ValueError for a bad new PIN."""
        check_new_pin(new_pin)
        old, legacy = self._token_pins(old_pin)
        new = self._token_pins(new_pin)[0]

        def set_pin(token: Token, pin: str) -> None:
            with self._login(token, pin, rw=True) as session:
                session.set_pin(pin, new)
            self._module.keep()  # the copy of token.object takes the new PIN too

        try:
            self._module.run(self._config, self.serial, lambda token: set_pin(token, old))
        except WrongPinError:
            if legacy is None:
                raise
            self._module.run(self._config, self.serial, lambda token: set_pin(token, legacy))
        log.info("pkcs11 card %s: PIN changed", self.serial)

    def _token_pins(self, pin: str) -> tuple[str, str | None]:
        """The PIN this card's token is given for the user's ``pin``, and the PIN a token made
        before PINs were derived may still take (None without the operator's PIN key)."""
        derive = self._factory.pins
        if derive is None:
            return pin, None
        return derive(self.serial, pin), pin

    def destroy(self) -> None:
        """Delete the card's SoftHSM2 token. On other modules erasing the private key needs a
        login the interface does not give, so this raises CardStateError there."""
        if self._factory.token_dir is None:
            raise CardStateError("this card's token can only be erased by its security officer")
        with self._module.lock:
            self._module.drop_session(self._config, self.serial)
            if self._module.find_token(self._config, self.serial, fresh=True) is None:
                return
            self._delete_token()
            if self._module.find_token(self._config, self.serial) is not None:
                raise SigningError(f"card {self.serial}: its token could not be deleted")
        log.info("pkcs11 card %s destroyed", self.serial)

    def exists(self) -> bool:
        def has_key(token: Token) -> bool:
            with token.open() as session:
                # list(), not any(): a half-read search would end after its session closed.
                return bool(list(session.get_objects(_public_key_template(self.serial))))

        try:
            return self._module.run(self._config, self.serial, has_key)
        except CardNotFoundError:
            return False

    def _login(self, token: Token, pin: str, *, rw: bool = False) -> pkcs11.Session:
        # A token has one login state per process: a kept session of this card is logged out
        # first (C_Login would refuse "already logged in"), and the PIN given is judged afresh.
        self._module.drop_session(self._config, self.serial)
        try:
            return token.open(rw=rw, user_pin=pin)
        except (p11.PinIncorrect, p11.PinInvalid, p11.PinLenRange):
            error: SigningError = WrongPinError("wrong PIN")
        except p11.PinLocked:
            error = CardLockedError(f"card {self.serial} is locked")
        except p11.PinExpired:
            error = CardStateError(f"card {self.serial}: its PIN has expired")
        # python-pkcs11 does not close the session it opened when C_Login fails; a refresh
        # closes every session of the process, and no other is open while we hold the lock.
        self._module.refresh()
        raise error

    def _store_key(self, token: Token, private_value: int, pin: str) -> None:
        with self._login(token, pin, rw=True) as session:
            if list(session.get_objects({Attribute.LABEL: self.serial})):
                raise CardStateError(f"card {self.serial} already holds a key")
            session.create_object(
                {
                    Attribute.CLASS: ObjectClass.PRIVATE_KEY,
                    Attribute.KEY_TYPE: KeyType.EC,
                    Attribute.EC_PARAMS: P256_PARAMETERS,
                    Attribute.VALUE: private_value.to_bytes(32, "big"),
                    Attribute.TOKEN: True,
                    Attribute.PRIVATE: True,
                    Attribute.SENSITIVE: True,
                    Attribute.EXTRACTABLE: False,
                    Attribute.COPYABLE: False,
                    Attribute.DERIVE: False,
                    Attribute.SIGN: True,
                    Attribute.LABEL: self.serial,
                    Attribute.ID: self.serial.encode(),
                }
            )
            point = (
                ec.derive_private_key(private_value, ec.SECP256R1())
                .public_key()
                .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
            )
            session.create_object(
                {
                    **_public_key_template(self.serial),
                    Attribute.KEY_TYPE: KeyType.EC,
                    Attribute.EC_PARAMS: P256_PARAMETERS,
                    Attribute.EC_POINT: b"\x04\x41" + point,  # DER OCTET STRING of 65 bytes
                    Attribute.TOKEN: True,
                    Attribute.PRIVATE: False,
                    Attribute.VERIFY: True,
                    Attribute.ID: self.serial.encode(),
                }
            )

    def _create_token(self, pin: str) -> None:
        so_pin = os.urandom(24).hex()
        result = self._factory._softhsm_util(
            "--init-token", "--free", "--label", self.serial, answers=f"{so_pin}\n{so_pin}\n{pin}\n{pin}\n"
        )
        self._module.refresh()
        if result.returncode != 0:
            raise SigningError(
                f"card {self.serial}: softhsm2-util could not create the token: {_errors(result)}"
            )

    def _delete_token(self) -> None:
        result = self._factory._softhsm_util("--delete-token", "--token", self.serial)
        self._module.refresh()
        if result.returncode != 0:
            log.warning("pkcs11 card %s: softhsm2-util --delete-token: %s", self.serial, _errors(result))


def _der_signature(raw: bytes) -> bytes:
    """DER ECDSA with low S from a token's r || s."""
    if len(raw) != 64:
        raise SigningError(f"a token's P-256 signature has {len(raw)} bytes, not 64")
    try:
        return low_s_der(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    except ValueError as error:
        raise SigningError("a token's signature is out of range") from error


def _public_key_template(serial: str) -> dict[Attribute, object]:
    return {Attribute.CLASS: ObjectClass.PUBLIC_KEY, Attribute.LABEL: serial}


def _public_key_object(session: pkcs11.Session, serial: str) -> pkcs11.Object:
    objects = list(session.get_objects(_public_key_template(serial)))
    if not objects:
        raise CardNotFoundError(f"card {serial} holds no key")
    if len(objects) > 1 or objects[0][Attribute.EC_PARAMS] != P256_PARAMETERS:
        raise SigningError(f"card {serial}: its token does not hold one P-256 key")
    return objects[0]


def _unwrap_ec_point(value: bytes) -> bytes:
    """The X9.62 point from CKA_EC_POINT: a DER OCTET STRING, or bare on a few modules."""
    if len(value) == 67 and value[:2] == b"\x04\x41":
        return value[2:]
    if len(value) == 65 and value[0] == 4:
        return value
    raise SigningError("a token holds a malformed EC point")


def _errors(result: subprocess.CompletedProcess[bytes]) -> str:
    # Only stderr: stdout echoes the prompts with one '*' per PIN character.
    return result.stderr.decode("utf-8", "replace").strip() or f"exit status {result.returncode}"


def _write_softhsm_config(token_dir: Path) -> Path:
    """``token_dir/../softhsm2.conf`` pointing at ``token_dir``. SoftHSM2 needs an absolute
    path there, so a file that points elsewhere (its data directory was copied or moved) is
    written again for where it is now."""
    token_dir.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # owner-only, as token_dir
    token_dir.mkdir(mode=0o700, exist_ok=True)
    config = token_dir.parent / "softhsm2.conf"
    if config.exists():
        os.chmod(config, 0o600)  # one written 0644 before
    if config.exists() and _configured_token_dir(config) == token_dir:
        return config
    temporary = config.with_name(f".{config.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(
            f"directories.tokendir = {token_dir}\nobjectstore.backend = file\nlog.level = ERROR\n"
            "slots.removable = false\n"
        )
    os.replace(temporary, config)
    return config


def _configured_token_dir(config: Path) -> Path | None:
    for line in config.read_text().splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "directories.tokendir":
            return Path(value.strip()).resolve()
    return None
