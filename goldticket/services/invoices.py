"""Invoice files: kept in the portal's storage under the data directory, named by their
SHA-256 (the digest that goes on the ledger), so a file is stored once whoever uploads it."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from goldticket import domain as d
from goldticket.settings import Settings

MAX_INVOICE_BYTES = 10 * 1024 * 1024


def folder(settings: Settings) -> Path:
    return settings.data_dir / "invoices"


def store_invoice(settings: Settings, data: bytes) -> str:
    """Keep the file; return its SHA-256 (lowercase hex). Raises InvalidInputError."""
    if not data:
        raise d.InvalidInputError("the invoice file is empty")
    if len(data) > MAX_INVOICE_BYTES:
        raise d.InvalidInputError("the invoice file is larger than 10 MB")
    digest = hashlib.sha256(data).hexdigest()
    where = folder(settings)
    where.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = where / digest
    if not path.exists():
        partial = where / f".{digest}.{os.getpid()}.part"
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)
    return digest


def has_invoice(settings: Settings, digest: str) -> bool:
    return (
        len(digest) == 64
        and all(c in "0123456789abcdef" for c in digest)
        and (folder(settings) / digest).is_file()
    )
