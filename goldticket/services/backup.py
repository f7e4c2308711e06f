"""``goldticket backup DEST`` and ``goldticket restore SRC``: a consistent copy of a data
directory, taken while the service runs, encrypted and authenticated under the operator
password, and its return (to the same place or another).

What is copied: every SQLite file through SQLite's online backup API (a snapshot of one moment,
whatever writers do meanwhile; never its -wal or -shm files), the audit log whole lines only
(under the log's own lock), every other file as it is. The order makes the copy consistent
where it matters: the portal's read model first, then the cards (registry, tokens, audit log),
the ledger last, so the read model is never ahead of the ledger (it catches up on open) and
every card the registry knows has its key.

How it is kept (docs/backup.md, docs/decisions.md "Backups sealed under the operator password"):
one file, a tar stream of those files and ``backup.json`` (each file's SHA-256 and the
organisation CAs' fingerprints) sealed with AES-256-GCM in 1 MiB chunks under a key from
Scrypt(operator password, a random salt). Each chunk's nonce carries its number and whether it
is the last, and every chunk authenticates the clear header (format, Scrypt parameters, salt),
so no byte of the file can change, no chunk can move, go or be added without the restore
refusing it. The key is in no backup: a backup's token files are as safe as the operator
password, and nobody without it can forge a backup either. Plain copies are staged in a private
directory inside the data directory, never beside the backup.

``restore`` authenticates while it writes into a private directory beside the target and moves
that into place only when every chunk, the last one included, has been checked; otherwise it
removes it and nothing is written.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime as dt
import fcntl
import hashlib
import io
import json
import os
import shutil
import sqlite3
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from typing import IO, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from goldticket.settings import ConfigError, Settings
from goldticket.signing.backup_keys import password_bytes

MANIFEST = "backup.json"
AUDIT_LOG = Path("cards") / "audit.jsonl"
LEDGER = Path("ledger.sqlite")
MSP_DIR = "msp"
# (the shared commit's queue, ledger.sqlite-commits, holds no record: what waits there was never
# acknowledged, and a restored ledger starts with an empty queue)
_SKIP_SUFFIXES = ("-wal", "-shm", "-journal", ".tmp", "-commits", "-commits.lock")
# Not records: the operations console's samples of the last hour (store.ops_history). Restored
# days later they would show a stale hour as the present; the console gathers them again.
_SKIP_FILES = (Path("operations.sqlite"),)
STAGING_PREFIX = ".backup-"  # a backup's private staging directory inside the data directory

MAGIC = b"GOLDTICKET-BACKUP\n"
FORMAT = 2
CHUNK_BYTES = 1 << 20
TAG_BYTES = 16
NONCE_PREFIX_BYTES = 7
SCRYPT_N = 2**17  # 128 MiB and about half a second, once per backup or restore
SCRYPT_N_RANGE = (2**15, 2**20)
SCRYPT_R, SCRYPT_P = 8, 1
MAX_HEADER_BYTES = 4096


class _Refused(Exception):
    """The backup does not open with this password, or was changed."""


def ca_fingerprint(certificate_pem: bytes) -> str:
    """The SHA-256 of a CA certificate's DER, in hex: what ``ledger verify --ca-sha256`` pins."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    return x509.load_pem_x509_certificate(certificate_pem).fingerprint(hashes.SHA256()).hex()


def _is_sqlite(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(16) == b"SQLite format 3\x00"


def _order(relative: Path) -> int:
    if relative == LEDGER:
        return 3
    if relative.name == "portal.sqlite":
        return 0
    if relative.parts[0] == "cards":
        return 1
    return 2


def _private_dir(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)


def _copy_sqlite(source: Path, target: Path) -> None:
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
    finally:
        dst.close()
        src.close()


def _copy_audit_log(source: Path, target: Path) -> None:
    with source.open("rb") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_SH)  # no half-written line from a writer
        data = handle.read()
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data[: data.rfind(b"\n") + 1])


def _copy_file(source: Path, target: Path) -> None:
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with source.open("rb") as origin, os.fdopen(fd, "wb") as out:
        shutil.copyfileobj(origin, out)


def _derive_key(operator_password: str, salt: bytes, n: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=SCRYPT_R, p=SCRYPT_P).derive(password_bytes(operator_password))


def _nonce(prefix: bytes, number: int, last: bool) -> bytes:
    return prefix + number.to_bytes(4, "big") + (b"\x01" if last else b"\x00")


class _Sealer(io.RawIOBase):
    """A write-only stream that seals what it is given in chunks; :meth:`finish` seals the last."""

    def __init__(self, out: IO[bytes], key: bytes, prefix: bytes, associated: bytes) -> None:
        self._out, self._aead, self._prefix, self._associated = out, AESGCM(key), prefix, associated
        self._buffer = bytearray()
        self._number = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._buffer += data
        while len(self._buffer) > CHUNK_BYTES:  # keep at least one byte back for the last chunk
            self._seal(bytes(self._buffer[:CHUNK_BYTES]), last=False)
            del self._buffer[:CHUNK_BYTES]
        return len(data)

    def finish(self) -> None:
        self._seal(bytes(self._buffer), last=True)
        self._buffer.clear()

    def _seal(self, chunk: bytes, *, last: bool) -> None:
        if self._number >= 2**32:
            raise ConfigError("the data directory is too large for one backup")
        nonce = _nonce(self._prefix, self._number, last)
        self._out.write(self._aead.encrypt(nonce, chunk, self._associated))
        self._number += 1


class _Opener(io.RawIOBase):
    """A read-only stream of the plaintext of a sealed backup; every byte it returns comes from
    a chunk already authenticated. Raises _Refused."""

    def __init__(self, source: IO[bytes], key: bytes, prefix: bytes, associated: bytes) -> None:
        self._source, self._aead, self._prefix, self._associated = source, AESGCM(key), prefix, associated
        self._plain = b""
        self._number = 0
        self._pending = source.read(CHUNK_BYTES + TAG_BYTES)
        self.finished = False

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        while not self._plain and not self.finished:
            self._next_chunk()
        size = min(len(target), len(self._plain))
        target[:size] = self._plain[:size]
        self._plain = self._plain[size:]
        return size

    def drain(self) -> None:
        """Read and check the rest, up to and including the last chunk."""
        while not self.finished:
            self._next_chunk()
        self._plain = b""

    def _next_chunk(self) -> None:
        sealed = self._pending
        if len(sealed) < TAG_BYTES:
            raise _Refused("the backup ends before its last chunk")
        self._pending = self._source.read(CHUNK_BYTES + TAG_BYTES)
        last = not self._pending
        try:
            self._plain = self._aead.decrypt(
                _nonce(self._prefix, self._number, last), sealed, self._associated
            )
        except InvalidTag:
            raise _Refused("a chunk does not authenticate") from None
        self._number += 1
        self.finished = last


def backup(settings: Settings, destination: Path, *, scrypt_n: int = SCRYPT_N) -> dict[str, Any]:
    """Seal a consistent copy of the data directory of ``settings`` into the new file
    ``destination``, under the operator password of ``settings``. Returns the manifest.
    Raises ConfigError."""
    source = settings.data_dir
    if not (source / "reader.json").exists():
        raise ConfigError(f"{source} is not an initialised data directory; nothing to back up")
    destination = Path(destination)
    if destination.exists():
        raise ConfigError(f"{destination} exists; back up into a new file")
    if destination.resolve().is_relative_to(source.resolve()):
        raise ConfigError("back up outside the data directory")
    if not destination.parent.is_dir():
        raise ConfigError(f"{destination.parent} is not a directory")
    password = _operator_password(settings)
    files = sorted(
        (
            path.relative_to(source)
            for path in source.rglob("*")
            if path.is_file()
            and not path.name.endswith(_SKIP_SUFFIXES)
            and path.relative_to(source) not in _SKIP_FILES
            and not path.relative_to(source).parts[0].startswith(STAGING_PREFIX)
        ),
        key=lambda relative: (_order(relative), str(relative)),
    )
    salt, prefix = os.urandom(16), os.urandom(NONCE_PREFIX_BYTES)
    header = _header_line(scrypt_n, salt, prefix)
    key = _derive_key(password, salt, scrypt_n)
    partial = destination.with_name(f".{destination.name}.{os.getpid()}.part")
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=source))
    listed: dict[str, str] = {}
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(MAGIC + header)
            sealer = _Sealer(out, key, prefix, hashlib.sha256(MAGIC + header).digest())
            with tarfile.open(fileobj=sealer, mode="w|", format=tarfile.PAX_FORMAT) as archive:  # type: ignore[call-overload]
                for number, relative in enumerate(files):
                    origin, copy = source / relative, staging / str(number)
                    if not origin.exists():
                        continue  # removed meanwhile (a card destroyed): not part of this moment
                    if relative == AUDIT_LOG:
                        _copy_audit_log(origin, copy)
                    elif _is_sqlite(origin):
                        _copy_sqlite(origin, copy)
                    else:
                        _copy_file(origin, copy)
                    listed[relative.as_posix()] = _add(
                        archive, relative.as_posix(), copy, origin.stat().st_mode
                    )
                    copy.unlink()
                manifest = {
                    "format": FORMAT,
                    "taken_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
                    "source": str(source.resolve()),
                    "files": listed,
                    "cas": _cas_of(source),
                }
                data = json.dumps(manifest, indent=1, sort_keys=True).encode()
                info = tarfile.TarInfo(MANIFEST)
                info.size, info.mode = len(data), 0o600
                archive.addfile(info, io.BytesIO(data))
            sealer.finish()
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(partial, destination)  # never replaces a file made meanwhile
        except FileExistsError:
            raise ConfigError(f"{destination} exists; back up into a new file") from None
    finally:
        partial.unlink(missing_ok=True)
        shutil.rmtree(staging, ignore_errors=True)
    return manifest


def _add(archive: tarfile.TarFile, name: str, copy: Path, mode: int) -> str:
    """Add the staged ``copy`` as ``name``; its SHA-256."""
    digest = hashlib.sha256()
    with copy.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
        info = tarfile.TarInfo(name)
        info.size = copy.stat().st_size
        info.mode = (mode & 0o700) | 0o600
        handle.seek(0)
        archive.addfile(info, handle)
    return digest.hexdigest()


def _cas_of(data_dir: Path) -> dict[str, str]:
    cas: dict[str, str] = {}
    for path in sorted((data_dir / MSP_DIR).glob("*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        cas[record["msp_id"]] = ca_fingerprint(record["certificate_pem"].encode())
    return cas


def _header_line(n: int, salt: bytes, prefix: bytes) -> bytes:
    header = {
        "format": FORMAT,
        "cipher": "AES-256-GCM",
        "chunk": CHUNK_BYTES,
        "kdf": "scrypt",
        "n": n,
        "r": SCRYPT_R,
        "p": SCRYPT_P,
        "salt": base64.b64encode(salt).decode(),
        "nonce_prefix": base64.b64encode(prefix).decode(),
    }
    return json.dumps(header, sort_keys=True).encode() + b"\n"


def _operator_password(settings: Settings) -> str:
    """The operator password of ``settings``, once it has opened the operator's keys (a backup
    under a mistyped password could never be restored)."""
    from goldticket.signing.errors import SigningError

    from .signing_setup import Cards

    if not settings.operator_password:
        raise ConfigError("set GOLDTICKET_OPERATOR_PASSWORD: a backup is sealed under the operator password")
    try:
        Cards.open(settings).pins("BACKUP-CHECK", "backup check")
    except SigningError as error:
        raise ConfigError(
            f"GOLDTICKET_OPERATOR_PASSWORD does not open the operator's keys: {error}"
        ) from None
    return settings.operator_password


@contextlib.contextmanager
def _opened(source: Path, operator_password: str) -> Iterator[_Opener]:
    """The plaintext stream of the sealed backup ``source``. Raises ConfigError or _Refused."""
    if source.is_dir():
        if (source / MANIFEST).exists():
            raise ConfigError(
                f"{source} is a backup of an earlier version (a directory, not sealed): it is not"
                " restored, as nothing proves it unchanged; docs/backup.md says how to check one"
            )
        raise ConfigError(f"{source} is a directory, not a GoldTicket backup")
    try:
        handle = source.open("rb")
    except OSError as error:
        raise ConfigError(f"{source} cannot be read: {error.strerror}") from None
    with handle:
        if handle.read(len(MAGIC)) != MAGIC:
            raise ConfigError(f"{source} is not a GoldTicket backup")
        line = handle.readline(MAX_HEADER_BYTES)
        try:
            header = json.loads(line)
            n, salt, prefix = header["n"], header["salt"], header["nonce_prefix"]
            salt, prefix = base64.b64decode(salt, validate=True), base64.b64decode(prefix, validate=True)
            valid = (
                header["format"] == FORMAT
                and header["kdf"] == "scrypt"
                and header["cipher"] == "AES-256-GCM"
                and header["chunk"] == CHUNK_BYTES
                and (header["r"], header["p"]) == (SCRYPT_R, SCRYPT_P)
                and type(n) is int
                and SCRYPT_N_RANGE[0] <= n <= SCRYPT_N_RANGE[1]
                and n & (n - 1) == 0
                and len(salt) == 16
                and len(prefix) == NONCE_PREFIX_BYTES
            )
        except (ValueError, KeyError, TypeError, binascii.Error):
            valid = False
        if not valid:
            raise _Refused("the header is not one this version writes")
        key = _derive_key(operator_password, salt, n)
        yield _Opener(handle, key, prefix, hashlib.sha256(MAGIC + line).digest())


def _read(source: Path, operator_password: str, take: Callable[[str, int, IO[bytes]], str]) -> dict[str, Any]:
    """Walk the sealed backup ``source``: ``take(name, mode, stream)`` for every file but the
    manifest, returning the file's SHA-256. Every chunk is checked, the last one included, and
    the files against the manifest. Returns the manifest. Raises ConfigError."""
    refused = ConfigError(
        f"the backup {source} does not open with this operator password, or it was changed since"
        " it was taken; nothing restored"
    )
    if not operator_password:
        raise ConfigError(
            "set GOLDTICKET_OPERATOR_PASSWORD to the operator password the backup was taken under"
        )
    seen: dict[str, str] = {}
    manifest: Any = None
    try:
        with _opened(Path(source), operator_password) as plain:
            with tarfile.open(fileobj=plain, mode="r|") as archive:  # type: ignore[call-overload]
                for member in archive:
                    name = _checked_name(member)
                    if manifest is not None or name in seen:
                        raise _Refused("a file after the manifest, or twice")
                    stream = archive.extractfile(member)
                    if stream is None:
                        raise _Refused("not a regular file")
                    if name == MANIFEST:
                        manifest = json.loads(stream.read(16 << 20))
                        continue
                    seen[name] = take(name, member.mode, stream)
            plain.drain()
    except (_Refused, tarfile.TarError, ValueError, KeyError, TypeError, EOFError):
        raise refused from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or manifest.get("files") != seen:
        raise refused
    return manifest


def _checked_name(member: tarfile.TarInfo) -> str:
    path = PurePosixPath(member.name)
    if (
        not member.isreg()
        or path.is_absolute()
        or not path.parts
        or any(part in ("", ".", "..") for part in path.parts)
        or path.parts[0].startswith(STAGING_PREFIX)
    ):
        raise _Refused(f"a member that is not a plain relative file: {member.name!r}")
    return path.as_posix()


def restore(source: Path, data_dir: Path, operator_password: str) -> dict[str, Any]:
    """Restore the sealed backup ``source`` as ``data_dir`` (which must not exist, or be empty),
    checking every byte under ``operator_password``. Returns the manifest. Raises ConfigError,
    with nothing written, for a wrong password or any change to the backup."""
    source, data_dir = Path(source), Path(data_dir)
    if data_dir.exists() and any(data_dir.iterdir()):
        raise ConfigError(f"{data_dir} is not empty; restore into a new or empty directory")
    if not source.exists():
        raise ConfigError(f"there is no backup at {source}")
    data_dir.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{data_dir.name}.restore-", dir=data_dir.parent))

    def write(name: str, mode: int, stream: IO[bytes]) -> str:
        target = staging / name
        _private_dir(target.parent)
        digest = hashlib.sha256()
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, (mode & 0o700) | 0o600)
        with os.fdopen(fd, "wb") as out:
            for chunk in iter(lambda: stream.read(1 << 20), b""):
                digest.update(chunk)
                out.write(chunk)
        return digest.hexdigest()

    try:
        manifest = _read(source, operator_password, write)
        if data_dir.exists():
            data_dir.rmdir()
        os.rename(staging, data_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return manifest


def trusted_cas(source: Path, operator_password: str) -> dict[str, bytes]:
    """The organisation CA certificates (MSP id -> PEM) inside the sealed backup ``source``,
    once every byte of it is checked under ``operator_password``: what ``ledger verify --backup``
    trusts. Raises ConfigError."""
    cas: dict[str, bytes] = {}

    def take(name: str, mode: int, stream: IO[bytes]) -> str:
        data = stream.read()
        if PurePosixPath(name).parent == PurePosixPath(MSP_DIR) and name.endswith(".json"):
            record = json.loads(data)
            cas[str(record["msp_id"])] = str(record["certificate_pem"]).encode()
        return hashlib.sha256(data).hexdigest()

    _read(Path(source), operator_password, take)
    return cas
