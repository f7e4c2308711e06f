"""``goldticket backup DEST`` and ``goldticket restore SRC``: a consistent copy of a data
directory, taken while the service runs, and its return (to the same place or another).

Every SQLite file is copied with SQLite's online backup API (a snapshot of one moment, whatever
writers do meanwhile; never its -wal or -shm files), the audit log whole lines only (under the
log's own lock), every other file as it is, with its permissions. The order makes the copy
consistent where it matters: the portal's read model first, then the cards (registry, tokens,
audit log), the ledger last, so the read model is never ahead of the ledger (it catches up on
open) and every card the registry knows has its key. ``backup.json`` lists each file with its
SHA-256; ``restore`` checks them all before it writes anything, and moves the restored
directory into place only once complete. Nothing in a data directory holds an absolute path
that is not rewritten on open (softhsm2.conf is), so a restored copy works wherever it lands.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
import shutil
import sqlite3
from pathlib import Path
from typing import Any

from goldticket.settings import ConfigError, Settings

MANIFEST = "backup.json"
AUDIT_LOG = Path("cards") / "audit.jsonl"
LEDGER = Path("ledger.sqlite")
_SKIP_SUFFIXES = ("-wal", "-shm", "-journal", ".tmp")


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


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


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
    os.chmod(target, source.stat().st_mode & 0o777)


def _copy_audit_log(source: Path, target: Path) -> None:
    with source.open("rb") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_SH)  # no half-written line from a writer
        data = handle.read()
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, source.stat().st_mode & 0o777)
    with os.fdopen(fd, "wb") as out:
        out.write(data[: data.rfind(b"\n") + 1])


def backup(settings: Settings, destination: Path) -> dict[str, Any]:
    """Copy the data directory of ``settings`` to ``destination`` (which must not exist, or be
    empty). Returns the manifest. Raises ConfigError."""
    source = settings.data_dir
    if not (source / "reader.json").exists():
        raise ConfigError(f"{source} is not an initialised data directory; nothing to back up")
    destination = Path(destination)
    if destination.exists() and any(destination.iterdir()):
        raise ConfigError(f"{destination} is not empty; back up into a new directory")
    if destination.resolve().is_relative_to(source.resolve()):
        raise ConfigError("back up outside the data directory")
    files = sorted(
        (
            path.relative_to(source)
            for path in source.rglob("*")
            if path.is_file() and not path.name.endswith(_SKIP_SUFFIXES)
        ),
        key=lambda relative: (_order(relative), str(relative)),
    )
    _private_dir(destination)
    listed: dict[str, str] = {}
    for relative in files:
        origin, target = source / relative, destination / relative
        _private_dir(target.parent)
        if relative == AUDIT_LOG:
            _copy_audit_log(origin, target)
        elif _is_sqlite(origin):
            _copy_sqlite(origin, target)
        else:
            shutil.copy2(origin, target)
        listed[str(relative)] = _sha256(target)
    manifest = {
        "format": 1,
        "taken_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "source": str(source.resolve()),
        "files": listed,
    }
    fd = os.open(destination / MANIFEST, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(manifest, handle, indent=1, sort_keys=True)
    return manifest


def restore(source: Path, data_dir: Path) -> dict[str, Any]:
    """Restore the backup at ``source`` as ``data_dir`` (which must not exist, or be empty),
    after checking every file against the manifest. Returns the manifest. Raises ConfigError."""
    source, data_dir = Path(source), Path(data_dir)
    try:
        manifest = json.loads((source / MANIFEST).read_text(encoding="utf-8"))
        files: dict[str, str] = manifest["files"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ConfigError(
            f"{source} holds no GoldTicket backup ({MANIFEST} missing or unreadable)"
        ) from error
    for name, digest in files.items():
        path = source / name
        if ".." in Path(name).parts or Path(name).is_absolute():
            raise ConfigError(f"the backup lists a file outside itself: {name}")
        if not path.is_file() or _sha256(path) != digest:
            raise ConfigError(
                f"the backup's {name} is missing or changed since it was taken; nothing restored"
            )
    if data_dir.exists() and any(data_dir.iterdir()):
        raise ConfigError(f"{data_dir} is not empty; restore into a new or empty directory")
    staging = data_dir.parent / f".{data_dir.name}.restore-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    _private_dir(staging)
    try:
        for name in files:
            target = staging / name
            _private_dir(target.parent)
            shutil.copy2(source / name, target)
        if data_dir.exists():
            data_dir.rmdir()
        data_dir.parent.mkdir(parents=True, exist_ok=True)
        os.rename(staging, data_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return manifest
