"""Invoice files: kept in the portal's storage under the data directory, named by their
SHA-256 (the digest that goes on the ledger), so a file is stored once whoever uploads it.

An upload is only staged (``invoices/.staged/<username>/<digest>``, 0600): it is kept for good
when the ticket that names it commits (:func:`keep_staged`) and removed otherwise, once it is
older than :data:`STAGE_TTL` (swept at every upload and every keep). Only a core enterprise's
user may stage one: the portal checks the role before it reads the upload."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

from goldticket import domain as d
from goldticket.settings import Settings

from .directory import check_username

MAX_INVOICE_BYTES = 10 * 1024 * 1024
STAGE_TTL_SECONDS = 3600


def folder(settings: Settings) -> Path:
    return settings.data_dir / "invoices"


def _staging(settings: Settings, username: str) -> Path:
    return folder(settings) / ".staged" / check_username(username)


def _check(data: bytes) -> str:
    if not data:
        raise d.InvalidInputError("the invoice file is empty")
    if len(data) > MAX_INVOICE_BYTES:
        raise d.InvalidInputError("the invoice file is larger than 10 MB")
    return hashlib.sha256(data).hexdigest()


def _write(where: Path, digest: str, data: bytes) -> None:
    where.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = where / digest
    if path.exists():
        os.utime(path)  # staged again: its time starts again
        return
    partial = where / f".{digest}.{os.getpid()}.part"
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)


def store_invoice(settings: Settings, data: bytes) -> str:
    """Keep the file for good; return its SHA-256 (lowercase hex). Raises InvalidInputError."""
    digest = _check(data)
    _write(folder(settings), digest, data)
    return digest


def stage_invoice(settings: Settings, username: str, data: bytes) -> str:
    """Stage ``username``'s upload until its ticket commits; return its SHA-256. Raises
    InvalidInputError."""
    digest = _check(data)
    sweep(settings)
    _write(_staging(settings, username), digest, data)
    return digest


def keep_staged(settings: Settings, username: str, digest: str) -> bool:
    """The ticket naming ``digest`` committed: keep ``username``'s staged file for good. False
    when there is none (issued over the API, or already kept)."""
    if not _is_digest(digest):
        return False
    staged = _staging(settings, username) / digest
    if not staged.is_file():
        return False
    folder(settings).mkdir(mode=0o700, parents=True, exist_ok=True)
    os.replace(staged, folder(settings) / digest)
    sweep(settings)
    return True


def sweep(settings: Settings, now: float | None = None) -> list[Path]:
    """Remove staged files older than STAGE_TTL_SECONDS (their ticket never committed)."""
    now = time.time() if now is None else now
    removed: list[Path] = []
    root = folder(settings) / ".staged"
    if not root.is_dir():
        return removed
    for path in root.glob("*/*"):
        try:
            if now - path.stat().st_mtime > STAGE_TTL_SECONDS:
                path.unlink()
                removed.append(path)
        except FileNotFoundError:
            continue  # another worker swept it
    return removed


def _is_digest(digest: str) -> bool:
    return len(digest) == 64 and all(c in "0123456789abcdef" for c in digest)


def has_invoice(settings: Settings, digest: str) -> bool:
    return _is_digest(digest) and (folder(settings) / digest).is_file()
