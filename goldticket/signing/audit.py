"""The signing gateway's audit log: append-only JSON lines, each chained to the one before.

Line ``k`` (counting from 1) is the canonical JSON of::

    {"seq": k, "time": "<UTC ISO 8601>", "prev": "<sha256 hex of line k-1, or 64 zeros>",
     "entry": {...}, "hash": "<sha256 hex of the canonical JSON of seq, time, prev, entry>"}

Canonical JSON: sorted keys, separators ``(",", ":")``, ``ensure_ascii=False``, UTF-8, no NaN.
Changing, deleting, inserting or reordering any line breaks the chain at that line, which
:func:`verify` reports. The chain proves order and integrity against edits, not against someone
who rewrites the whole tail with fresh hashes; anchor the last hash elsewhere for that.

Appends are safe across threads (a lock) and processes (``fcntl.flock`` on the file, which is
opened with ``O_APPEND``); each line is written whole under the lock, and ``append`` returns
only once an ``fsync`` that started after the line was written has ended. Concurrent appends of
one process share that fsync (issue #22: grouped as the ledger groups blocks), so a crash loses
no line of an acknowledged request. The line a log last appended is remembered: the next append
reads back only that line's bytes at the end of the file (one ``pread``) instead of reading and
parsing the last line, and reads it as before whenever the file is another or ends otherwise.
The log never holds secrets: entries with a key such as ``pin`` or ``password`` are refused.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import errno
import fcntl
import functools
import hashlib
import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import AuditLogError

GENESIS = "0" * 64
SECRET_KEYS = frozenset({"pin", "password", "seed", "mnemonic", "private_key"})
_LINE_FIELDS = {"seq", "time", "prev", "entry", "hash"}
_TAIL_CHUNK = 4096


@dataclasses.dataclass(frozen=True)
class VerifyResult:
    """``entries`` counts the lines that verified: all of them when ``ok``, else those before
    ``first_bad_line`` (1-based), whose fault ``reason`` describes."""

    ok: bool
    entries: int
    first_bad_line: int | None = None
    reason: str | None = None


# A str's JSON as canonical_json writes it (ensure_ascii=False), without the encoder's setup.
_json_string: Callable[[str], str] = json.encoder.encode_basestring  # type: ignore[attr-defined]


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def line_hash(seq: int, time: str, prev: str, entry: dict[str, Any]) -> str:
    body = {"seq": seq, "time": time, "prev": prev, "entry": entry}
    return hashlib.sha256(canonical_json(body).encode()).hexdigest()


class AuditLog:
    """An audit log in the JSON-lines file ``path`` (created on the first append).

    ``clock`` returns the current time as an aware datetime (tests inject a fixed one)."""

    def __init__(
        self, path: str | os.PathLike[str], *, clock: Callable[[], dt.datetime] | None = None
    ) -> None:
        self.path = Path(path)
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._lock = threading.Lock()
        self._synced = threading.Condition()
        self._syncing = False
        self._waiting: list[_Written] = []
        self._tail: _Tail | None = None  # the line this log last appended, issue #22

    def append(self, entry: dict[str, Any]) -> dict[str, Any]:
        """Write ``entry`` as the next line and return that line as a dict.

        Raises ValueError if ``entry`` holds a secret-named key at any depth or is not JSON
        (TypeError for values JSON cannot encode); SigningError if the last line of the file is
        damaged, so the chain cannot continue until someone repairs it."""
        if not isinstance(entry, dict):
            raise ValueError("an audit entry must be a dict")
        secret, plain = _walk(entry)
        if secret:
            refuse_secrets(entry)  # raises, naming the key
        entry_json = canonical_json(entry)
        entry = json.loads(entry_json)  # what verify will read back
        if not plain:  # a key that is not a str (1, True) reads back as another, sorted otherwise
            entry_json = canonical_json(entry)
        with self._lock:
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                stat = os.fstat(fd)
                if stat.st_mode & 0o777 != 0o600:
                    os.fchmod(fd, 0o600)  # the owner's alone, a log made 0640 before included
                seq, prev = self._next_position(fd, stat)
                time = self._now()  # under the lock, so times never run backwards down the log
                line_hash_hex, text = _line_texts(seq, time, prev, entry_json)
                data = text.encode()
                self._tail = None  # until the line is known to be whole at the end
                try:
                    _write_all(fd, data)
                except OSError:
                    # a full disk took part of the line: cut it off (a truncation needs no
                    # room), or every later append would refuse the damaged last line for good
                    with contextlib.suppress(OSError):
                        os.ftruncate(fd, stat.st_size)
                    raise
                self._tail = _Tail(stat.st_dev, stat.st_ino, stat.st_size + len(data), data, seq)
                fcntl.flock(fd, fcntl.LOCK_UN)  # the line is whole: others may append
            except BaseException:
                os.close(fd)
                raise
        try:
            self._sync(_Written(fd))
        finally:
            os.close(fd)
        if seq == 1:
            _fsync_directory(self.path.parent)
        return {"seq": seq, "time": time, "prev": prev, "entry": entry, "hash": line_hash_hex}

    def _sync(self, written: _Written) -> None:
        """Return once an fsync that started after ``written``'s line was written has ended
        (raise its error if it failed). Writers that arrive while an fsync runs wait, and the
        first of them fsyncs for all: one fsync per group, as the ledger's group commit."""
        with self._synced:
            self._waiting.append(written)
            while not written.done:
                if self._syncing:
                    self._synced.wait()
                    continue
                self._syncing = True
                group, self._waiting = self._waiting, []
                self._synced.release()
                try:
                    _fsync_group(group)
                finally:
                    self._synced.acquire()
                    self._syncing = False
                    for member in group:
                        if not member.synced:  # the fsync did not get to it
                            member.error = OSError(errno.EIO, "the audit log's fsync was interrupted")
                        member.done = True
                    self._synced.notify_all()
        if written.error is not None:
            raise written.error

    def verify(self) -> VerifyResult:
        return verify(self.path)

    def _now(self) -> str:
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("the audit clock must return an aware datetime")
        return now.astimezone(dt.UTC).isoformat()

    def _next_position(self, fd: int, stat: os.stat_result) -> tuple[int, str]:
        """(seq, prev) of the line to append through ``fd`` (held under the file's flock), from
        the file's last line. When the file is the one this log last appended to, as long as it
        was then, and its last bytes are still that line (read back, one pread), the line is
        not parsed again: what was remembered of it is what reading it would give."""
        tail = self._tail
        if (
            tail is not None
            and (tail.device, tail.inode, tail.size) == (stat.st_dev, stat.st_ino, stat.st_size)
            and _ends_with_line(fd, tail.size, tail.line)
        ):
            return tail.seq + 1, hashlib.sha256(tail.line[:-1]).hexdigest()
        last = _last_line(self.path)
        if last is None:
            return 1, GENESIS
        try:
            record = json.loads(last)
            seq = record["seq"]
        except (ValueError, TypeError, KeyError):
            seq = None
        if type(seq) is not int or not last.endswith(b"\n"):
            raise AuditLogError(f"the audit log {self.path} ends with a damaged line; verify and repair it")
        return seq + 1, hashlib.sha256(last.rstrip(b"\n")).hexdigest()


@dataclasses.dataclass(frozen=True)
class _Tail:
    """The line this log last appended (with its newline), and the file it ended then."""

    device: int
    inode: int
    size: int
    line: bytes
    seq: int


def _ends_with_line(fd: int, size: int, line: bytes) -> bool:
    """Whether the file ends, at ``size``, with the whole line ``line`` (the file's start or a
    newline before it)."""
    start = size - len(line)
    if start < 0:
        return False
    before = 1 if start > 0 else 0
    return os.pread(fd, len(line) + before, start - before) == (b"\n" if before else b"") + line


def _line_texts(seq: int, time: str, prev: str, entry_json: str) -> tuple[str, str]:
    """(hash, the line with its newline) for an entry whose canonical JSON is ``entry_json``:
    the canonical JSON of the line's fields written out in their sorted order (entry, hash,
    prev, seq, time), the entry encoded once instead of once per document."""
    rest = f',"prev":{_json_string(prev)},"seq":{seq},"time":{_json_string(time)}}}'
    digest = hashlib.sha256(f'{{"entry":{entry_json}{rest}'.encode()).hexdigest()
    return digest, f'{{"entry":{entry_json},"hash":"{digest}"{rest}\n'


class _Written:
    """A line written through ``fd`` (still open) and waiting for an fsync to cover it."""

    __slots__ = ("fd", "synced", "done", "error")

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.synced = False  # the group's fsync got to it (ended, well or not)
        self.done = False  # its writer may go (set under the condition)
        self.error: OSError | None = None


def _fsync_group(group: list[_Written]) -> None:
    """fsync each file the group's lines went to, once (one file unless the log was replaced
    meanwhile); every member learns its own file's outcome."""
    outcomes: dict[tuple[int, int], OSError | None] = {}
    for member in group:
        stat = os.fstat(member.fd)
        key = (stat.st_dev, stat.st_ino)
        if key not in outcomes:
            try:
                os.fsync(member.fd)
                outcomes[key] = None
            except OSError as error:
                outcomes[key] = error
        member.error = outcomes[key]
        member.synced = True


def refuse_secrets(value: Any, where: str = "entry") -> None:
    """Raise ValueError if a dict anywhere in ``value`` has a key named like a secret: ``pin``,
    ``password``, ``seed``, ``mnemonic``, ``private_key``, in any case, with ``-`` or ``_``, or
    ending in ``_<name>`` (``operator_password``, ``new_pin``). The message names the key, not
    its value."""
    paths = secret_paths(value, where)
    if paths:
        raise ValueError(
            f"the audit log never holds secrets: {paths[0].rsplit('.', 1)[0]} has a key "
            f"{paths[0].rsplit('.', 1)[-1]!r}"
        )


def _walk(value: Any) -> tuple[bool, bool]:
    """(whether a dict anywhere in ``value`` has a secret-named key, whether every dict key in
    it is a plain str) in one pass without paths: :func:`secret_paths` names the key when
    there is one. Plain keys make the canonical JSON read back as itself."""
    plain = True
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, inner in item.items():
                if type(key) is not str:
                    plain = False
                if _is_secret_key(str(key)):
                    return True, plain
                if isinstance(inner, dict | list | tuple):
                    stack.append(inner)
        elif isinstance(item, list | tuple):
            stack.extend(inner for inner in item if isinstance(inner, dict | list | tuple))
    return False, plain


def secret_paths(value: Any, where: str = "entry") -> list[str]:
    """Where, in ``value``, a dict has a key named like a secret (``entry.intent.x_pin``)."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if _is_secret_key(str(key)):
                found.append(f"{where}.{key}")
            else:
                found.extend(secret_paths(item, f"{where}.{key}"))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found.extend(secret_paths(item, f"{where}[{index}]"))
    return found


@functools.lru_cache(maxsize=4096)  # the same few dozen keys on every line (issue #22)
def _is_secret_key(key: str) -> bool:
    name = key.lower().replace("-", "_")
    return any(name == secret or name.endswith("_" + secret) for secret in SECRET_KEYS)


def verify(path: str | os.PathLike[str]) -> VerifyResult:
    """Check every line's hash, the chain of ``prev`` hashes and consecutive ``seq`` numbers
    from 1. A missing or empty file verifies as ok with 0 entries."""
    try:
        file = open(path, "rb")  # noqa: SIM115 - held open across the lock below
    except FileNotFoundError:
        return VerifyResult(ok=True, entries=0)
    with file:
        fcntl.flock(file.fileno(), fcntl.LOCK_SH)  # no half-written line from a writer
        prev = GENESIS
        number = 0
        for number, raw in enumerate(file, start=1):
            reason = _check_line(raw, number, prev)
            if reason is not None:
                return VerifyResult(ok=False, entries=number - 1, first_bad_line=number, reason=reason)
            prev = hashlib.sha256(raw.rstrip(b"\n")).hexdigest()
    return VerifyResult(ok=True, entries=number)


def _check_line(raw: bytes, number: int, prev: str) -> str | None:
    if not raw.endswith(b"\n"):
        return "incomplete last line"
    text = raw[:-1]
    try:
        record = json.loads(text)
    except ValueError:
        return "not JSON"
    if not isinstance(record, dict) or set(record) != _LINE_FIELDS:
        return "not an audit line"
    if canonical_json(record).encode() != text:
        return "not canonical JSON"
    if type(record["seq"]) is not int or record["seq"] != number:
        return f"seq {record['seq']!r} where {number} was due"
    if record["prev"] != prev:
        return "prev does not match the line before"
    if not isinstance(record["entry"], dict) or not isinstance(record["time"], str):
        return "malformed entry or time"
    if record["hash"] != line_hash(record["seq"], record["time"], record["prev"], record["entry"]):
        return "hash does not match the line"
    return None


def _last_line(path: Path) -> bytes | None:
    """The file's last line including its newline, or None for a missing or empty file."""
    try:
        file = open(path, "rb")  # noqa: SIM115 - read backwards in chunks
    except FileNotFoundError:
        return None
    with file:
        end = file.seek(0, os.SEEK_END)
        if end == 0:
            return None
        tail = b""
        position = end
        while position > 0:
            step = min(_TAIL_CHUNK, position)
            position -= step
            file.seek(position)
            tail = file.read(step) + tail
            newline = tail.rfind(b"\n", 0, len(tail) - 1)
            if newline != -1:
                return tail[newline + 1 :]
        return tail


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
