"""The registry of financings (#21: 中国人民银行征信中心 动产融资统一登记公示系统, 中登网) as an
adapter. The registry is outside this project: the bank files the filing the platform prepared
and obtains a registration number. ``RegistryAdapter`` is the interface; ``FileRegistry`` is the
file-based implementation: it writes each filing (its machine-readable JSON and its PDF) to an
outbox folder the bank's registry operator picks up, and reads the registry's answer
(registration number, date registered, expiry) from an inbox file the bank places there. No
network service is pretended. A real deployment plugs in an adapter that files through the
registry's own interface (docs/decisions.md). Folders 0700, files 0600."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any, Protocol

FILING_SCHEMA = "goldticket.registry.filing/1"
_FILING_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class RegistryError(Exception):
    """A filing could not be written, or an answer is missing or malformed."""


def filing_bytes(filing: dict[str, Any]) -> bytes:
    """The machine-readable filing: canonical JSON (sorted keys, UTF-8, no spaces), the bytes
    whose SHA-256 the bank records on the ledger with the registration."""
    return json.dumps(filing, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def filing_sha256(filing: dict[str, Any]) -> str:
    return hashlib.sha256(filing_bytes(filing)).hexdigest()


@dataclasses.dataclass(frozen=True)
class Filing:
    """One filing: its id (the financing application's), the machine-readable content and its PDF."""

    filing_id: str
    content: dict[str, Any]
    pdf: bytes

    @property
    def sha256(self) -> str:
        return filing_sha256(self.content)


@dataclasses.dataclass(frozen=True)
class FilingReceipt:
    """What filing produced: the filing's SHA-256 and where it went (paths, or the registry's
    own reference in a networked adapter)."""

    filing_id: str
    sha256: str
    locations: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class RegistryAnswer:
    """The registry's answer the bank obtained: registration number, date registered, expiry."""

    filing_id: str
    registration_number: str
    registered_on: dt.date
    expires_on: dt.date
    registry: str = "中登网"


class RegistryAdapter(Protocol):
    def file_filing(self, filing: Filing) -> FilingReceipt:
        """Hand the filing to the registry. Raises RegistryError."""

    def answer(self, filing_id: str) -> RegistryAnswer | None:
        """The registry's answer to the filing, once there is one. Raises RegistryError for a
        malformed one."""


def _require_id(filing_id: str) -> str:
    if not isinstance(filing_id, str) or not _FILING_ID.match(filing_id):
        raise RegistryError(f"not a filing id: {filing_id!r}")
    return filing_id


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` readable by the owner only (0600), atomically."""
    temporary = path.with_name(f".{path.name}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except OSError:
        temporary.unlink(missing_ok=True)
        raise


class FileRegistry:
    """``root``/outbox/<filing id>.json and .pdf are written; ``root``/inbox/<filing id>.json is
    read: ``{"registration_number", "registered_on", "expires_on"[, "registry"]}``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.outbox = self.root / "outbox"
        self.inbox = self.root / "inbox"

    def _folders(self) -> None:
        for folder in (self.root, self.outbox, self.inbox):
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.chmod(folder, 0o700)

    def file_filing(self, filing: Filing) -> FilingReceipt:
        filing_id = _require_id(filing.filing_id)
        try:
            self._folders()
            json_path = self.outbox / f"{filing_id}.json"
            pdf_path = self.outbox / f"{filing_id}.pdf"
            _write_private(json_path, filing_bytes(filing.content))
            _write_private(pdf_path, filing.pdf)
        except OSError as error:
            raise RegistryError(f"cannot write filing {filing_id}: {error}") from error
        return FilingReceipt(filing_id, filing.sha256, (str(json_path), str(pdf_path)))

    def answer(self, filing_id: str) -> RegistryAnswer | None:
        path = self.inbox / f"{_require_id(filing_id)}.json"
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as error:
            raise RegistryError(f"cannot read the answer to filing {filing_id}: {error}") from error
        try:
            data = json.loads(raw)
            number = data["registration_number"]
            if not isinstance(number, str) or not number.strip() or len(number) > 64:
                raise ValueError("registration_number")
            registry = data.get("registry") or "中登网"
            if not isinstance(registry, str):
                raise ValueError("registry")
            return RegistryAnswer(
                filing_id,
                number.strip(),
                dt.date.fromisoformat(data["registered_on"]),
                dt.date.fromisoformat(data["expires_on"]),
                registry,
            )
        except (ValueError, KeyError, TypeError) as error:
            raise RegistryError(f"the answer to filing {filing_id} is malformed: {error}") from None


def open_registry(root: Path) -> RegistryAdapter:
    """The deployment's registry adapter (the file-based one; a networked one plugs in here)."""
    return FileRegistry(root)


__all__ = [
    "FILING_SCHEMA",
    "FileRegistry",
    "Filing",
    "FilingReceipt",
    "RegistryAdapter",
    "RegistryAnswer",
    "RegistryError",
    "filing_bytes",
    "filing_sha256",
    "open_registry",
]
