"""The hash-chained audit log on a real file: tampering is found at the right line, secrets are
refused, and concurrent threads and processes keep one valid chain."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import multiprocessing
import os
import threading
from pathlib import Path

import pytest

from goldticket.signing.audit import GENESIS, AuditLog, VerifyResult, verify
from goldticket.signing.errors import SigningError

pytestmark = pytest.mark.functional

START = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


def ticking_clock():
    seconds = itertools.count()
    return lambda: START + dt.timedelta(seconds=next(seconds))


def canonical(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "audit.jsonl"


@pytest.fixture
def log(path: Path) -> AuditLog:
    return AuditLog(path, clock=ticking_clock())


@pytest.fixture
def five(log: AuditLog, path: Path) -> list[str]:
    for number in range(1, 6):
        log.append({"card": f"card-{number}", "result": "signed"})
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def write_lines(path: Path, lines: list[str]) -> None:
    path.write_text("".join(lines), encoding="utf-8")


def bad_at(path: Path, line: int, reason: str) -> None:
    result = verify(path)
    assert (result.ok, result.first_bad_line, result.entries) == (False, line, line - 1)
    assert result.reason is not None and reason in result.reason


def test_append_then_verify(log, path):
    first = log.append(
        {"card": "c1", "purpose": "proposal", "intent": {"op": "IssueTicket", "amount_fen": 100}}
    )
    second = log.append({"card": "c1", "result": "签收", "reason": "payee accepted"})
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [first, second]
    assert all(line == canonical(json.loads(line)) for line in lines)
    assert "签收" in lines[1]  # stored as UTF-8, not escaped
    assert (first["seq"], first["prev"], first["time"]) == (1, GENESIS, "2026-12-01T09:00:00+00:00")
    assert (second["seq"], second["time"]) == (2, "2026-12-01T09:00:01+00:00")
    assert second["prev"] == hashlib.sha256(lines[0].encode()).hexdigest()
    body = {key: second[key] for key in ("seq", "time", "prev", "entry")}
    assert second["hash"] == hashlib.sha256(canonical(body).encode()).hexdigest()
    assert verify(path) == VerifyResult(ok=True, entries=2, first_bad_line=None, reason=None)
    assert log.verify().ok


def test_times_are_utc(path):
    china = dt.timezone(dt.timedelta(hours=8))
    line = AuditLog(path, clock=lambda: dt.datetime(2026, 12, 1, 17, 30, tzinfo=china)).append({"a": 1})
    assert line["time"] == "2026-12-01T09:30:00+00:00"
    default = AuditLog(path).append({"a": 2})
    assert dt.datetime.fromisoformat(default["time"]).utcoffset() == dt.timedelta(0)


def test_a_naive_clock_is_refused(path):
    with pytest.raises(ValueError, match="aware"):
        AuditLog(path, clock=lambda: dt.datetime(2026, 12, 1)).append({"a": 1})


def test_a_new_instance_continues_the_chain(five, path):
    line = AuditLog(path).append({"card": "card-6"})
    assert line["seq"] == 6
    assert line["prev"] == hashlib.sha256(five[-1].rstrip("\n").encode()).hexdigest()
    assert verify(path) == VerifyResult(ok=True, entries=6)


def test_missing_and_empty_files_verify(path):
    assert verify(path) == VerifyResult(ok=True, entries=0)
    path.touch()
    assert verify(path) == VerifyResult(ok=True, entries=0)
    assert AuditLog(path).append({"a": 1})["seq"] == 1


def test_an_edited_entry_fails_at_its_line(five, path):
    lines = list(five)
    lines[2] = lines[2].replace("card-3", "card-9")
    write_lines(path, lines)
    bad_at(path, 3, "hash")


def test_an_edited_entry_with_a_fresh_hash_fails_at_the_next_line(five, path):
    record = json.loads(five[2])
    record["entry"]["result"] = "refused"
    body = {key: record[key] for key in ("seq", "time", "prev", "entry")}
    record["hash"] = hashlib.sha256(canonical(body).encode()).hexdigest()
    write_lines(path, [*five[:2], canonical(record) + "\n", *five[3:]])
    bad_at(path, 4, "prev")


def test_a_deleted_line_fails_where_it_was(five, path):
    write_lines(path, five[:2] + five[3:])
    bad_at(path, 3, "seq")


def test_a_deleted_first_line_fails_at_line_1(five, path):
    write_lines(path, five[1:])
    bad_at(path, 1, "seq")


def test_two_reordered_lines_fail_at_the_first(five, path):
    write_lines(path, [five[0], five[2], five[1], *five[3:]])
    bad_at(path, 2, "seq")


def test_a_forged_line_with_a_wrong_prev_fails(five, path):
    prev = hashlib.sha256(b"not the last line").hexdigest()
    body = {"seq": 6, "time": "2026-12-01T10:00:00+00:00", "prev": prev, "entry": {"card": "forged"}}
    forged = {**body, "hash": hashlib.sha256(canonical(body).encode()).hexdigest()}
    write_lines(path, [*five, canonical(forged) + "\n"])
    bad_at(path, 6, "prev")


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("\n", "not JSON"),
        ("[1, 2]\n", "not an audit line"),
        ('{"seq":6}\n', "not an audit line"),
    ],
)
def test_garbage_lines_fail(five, path, line, reason):
    write_lines(path, [*five, line])
    bad_at(path, 6, reason)


def test_a_reformatted_line_fails(five, path):
    lines = list(five)
    lines[1] = json.dumps(json.loads(lines[1]), sort_keys=True) + "\n"  # same data, other spacing
    write_lines(path, lines)
    bad_at(path, 2, "canonical")


def test_a_torn_last_line_fails_and_stops_appends(five, path, log):
    write_lines(path, [*five[:4], five[4][:40]])
    bad_at(path, 5, "incomplete")
    with pytest.raises(SigningError, match="damaged line"):
        log.append({"card": "card-6"})


@pytest.mark.parametrize(
    "entry",
    [
        {"pin": "123456"},
        {"card": "c1", "detail": {"password": "x"}},
        {"steps": [{"ok": True}, {"seed": "00"}]},
        {"Mnemonic": "abandon"},
        {"private-key": "00"},
        {"private_key": "00"},
        {"operator_password": "x"},
        {"nested": [[{"new_pin": "1"}]]},
    ],
)
def test_secrets_are_refused(log, path, entry):
    with pytest.raises(ValueError, match="never holds secrets") as raised:
        log.append(entry)
    for value in ("123456", "abandon"):
        assert value not in str(raised.value)
    assert not path.exists()


def test_harmless_keys_and_values_pass(log):
    line = log.append({"code": "wrong_pin", "pin_tries_left": 4, "reason": "wrong PIN; password not shown"})
    assert line["entry"]["pin_tries_left"] == 4


def test_entries_that_are_not_json_are_refused(log, path):
    with pytest.raises(TypeError):
        log.append({"when": dt.date(2026, 12, 1)})
    with pytest.raises(ValueError):
        log.append({"rate": float("nan")})
    with pytest.raises(ValueError):
        log.append(["not", "a", "dict"])  # type: ignore[arg-type]
    assert not path.exists()


def test_four_threads_keep_one_chain(log, path):
    def worker(name: str) -> None:
        for number in range(50):
            log.append({"thread": name, "n": number})

    threads = [threading.Thread(target=worker, args=(f"t{index}",)) for index in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert verify(path) == VerifyResult(ok=True, entries=200)
    entries = [json.loads(line)["entry"] for line in path.read_text(encoding="utf-8").splitlines()]
    for index in range(4):
        assert [entry["n"] for entry in entries if entry["thread"] == f"t{index}"] == list(range(50))


def append_from_process(path: str, name: str) -> None:
    log = AuditLog(path)
    for number in range(50):
        log.append({"process": name, "n": number})


def test_two_processes_keep_one_chain(path):
    context = multiprocessing.get_context("fork")
    processes = [context.Process(target=append_from_process, args=(str(path), name)) for name in ("p1", "p2")]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=60)
    assert [process.exitcode for process in processes] == [0, 0]
    assert verify(path) == VerifyResult(ok=True, entries=100)
    entries = [json.loads(line)["entry"] for line in path.read_text(encoding="utf-8").splitlines()]
    for name in ("p1", "p2"):
        assert [entry["n"] for entry in entries if entry["process"] == name] == list(range(50))


def append_past_a_file_size_limit(path: str) -> None:
    """In a child: appends refused part-way by the kernel (RLIMIT_FSIZE: the write stops at the
    limit, the next one fails, as on a full disk), then the limit lifted and one more append."""
    import resource
    import signal

    log = AuditLog(path)
    log.append({"n": 0})
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of the signal
    limit = os.path.getsize(path) + 40  # room for a part of the next line only
    _, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    for number in (1, 2):
        try:
            log.append({"n": number, "padding": "x" * 200})
        except OSError:
            pass
        else:
            os._exit(3)  # the limit did not stop it
    resource.setrlimit(resource.RLIMIT_FSIZE, (hard, hard))
    log.append({"n": 3})
    os._exit(0)


def test_an_append_cut_short_by_the_disk_leaves_no_damaged_line(path):
    """A write the disk refused part-way (ENOSPC on a full disk, EFBIG here) left a torn last
    line, and every later append refused it ("ends with a damaged line") until someone repaired
    the log: the signing gateway refused every signature even after room came back (seen in
    web/test_full_disk.py). The part written is cut off again."""
    context = multiprocessing.get_context("fork")
    process = context.Process(target=append_past_a_file_size_limit, args=(str(path),))
    process.start()
    process.join(timeout=60)
    assert process.exitcode == 0
    assert verify(path) == VerifyResult(ok=True, entries=2)
    assert [json.loads(line)["entry"]["n"] for line in path.read_text(encoding="utf-8").splitlines()] == [
        0,
        3,
    ]


# The tail remembered between appends (issue #22): an append no longer reads and parses the
# last line when it is the one this log wrote, and must continue exactly as if it had.


def test_two_logs_on_one_file_alternate_and_keep_one_chain(path):
    first, second = AuditLog(path), AuditLog(path)
    for number in range(6):
        (first if number % 2 else second).append({"n": number})
    assert verify(path) == VerifyResult(ok=True, entries=6)


def test_a_last_line_replaced_by_one_of_the_same_size_is_read_again(five, path, log):
    """A remembered tail trusted on the file's size alone would chain the next line to a line
    no longer there: the damaged line must stop appends as it did before."""
    damaged = five[4][:-2] + "x\n"  # same length, no longer JSON
    assert len(damaged) == len(five[4])
    write_lines(path, [*five[:4], damaged])
    with pytest.raises(SigningError, match="damaged line"):
        log.append({"card": "card-6"})


def test_a_last_line_replaced_by_a_valid_one_of_the_same_size_is_chained_to(five, path, log):
    """The next line's prev is the hash of the line the file ends with, as before."""
    other = AuditLog(path.with_name("other.jsonl"), clock=ticking_clock())
    for number in range(1, 6):
        other.append({"card": f"card-{number}", "result": "signed" if number < 5 else "sign_d"})
    replacement = path.with_name("other.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)[4]
    assert len(replacement) == len(five[4]) and replacement != five[4]
    write_lines(path, [*five[:4], replacement])
    line = log.append({"card": "card-6"})
    assert line["prev"] == hashlib.sha256(replacement.rstrip("\n").encode()).hexdigest()


def test_keys_that_are_not_strings_are_written_as_they_read_back(log, path):
    line = log.append({"counts": {1: "a", 10: "b", 2: "c"}})
    assert line["entry"] == {"counts": {"1": "a", "10": "b", "2": "c"}}
    assert verify(path) == VerifyResult(ok=True, entries=1)
    log.append({"n": 2})
    assert verify(path) == VerifyResult(ok=True, entries=2)


def test_a_log_made_0640_is_made_0600_again(log, path):
    log.append({"n": 1})
    os.chmod(path, 0o640)
    log.append({"n": 2})
    assert os.stat(path).st_mode & 0o777 == 0o600
