"""A full disk under writes: the data directory on a small tmpfs this test mounts (root only,
skipped otherwise), a file filling it but for a little room, and `goldticket serve` taking
writes until the room is gone. Every answer is a 2xx, or 507/503 in the JSON envelope (never a
500, never HTML); nothing is corrupt afterwards (`goldticket ledger verify`, SQLite's
integrity_check on every database, every 2xx on the ledger exactly once, no key pending); once
the filler is removed the service takes writes again."""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import drills
import mixed_load
import pytest
from apiclient import MATURITY, PASSWORD
from liveserver import Server, build_consortium, server_env
from support import TODAY

pytestmark = [pytest.mark.functional, pytest.mark.slow]

ROOM_KB = 384
mixed_load.RETRY_FOR = (
    5.0  # a full disk stays full: give up on a write soon, send it again later  # left free after the filler
)
WRITES = 400  # at most, and at most SECONDS
SECONDS = 60.0


@contextlib.contextmanager
def tmpfs(path: Path, size_kb: int) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    path.mkdir(mode=0o700)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kb}k,mode=0700", "tmpfs", str(path)])
    if mounted.returncode != 0:
        pytest.skip("mount -t tmpfs refused here")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=True)


def _free_kb(path: Path) -> int:
    stats = os.statvfs(path)
    return stats.f_bavail * stats.f_frsize // 1024


def test_a_full_disk_answers_507_or_503_in_the_envelope_and_corrupts_nothing(tmp_path: Path) -> None:
    built = tmp_path / "built"
    start = build_consortium(server_env(built))
    used_kb = sum(f.stat().st_size for f in built.rglob("*") if f.is_file()) // 1024
    with tmpfs(tmp_path / "var", used_kb + 16 * 1024) as data:
        shutil.copytree(built, data, dirs_exist_ok=True, symlinks=True)
        env = server_env(data)
        # the SoftHSM configuration names its token directory by absolute path: point it here
        for conf in data.rglob("softhsm2.conf"):
            conf.write_text(conf.read_text().replace(str(built), str(data)))
        with Server(env, tmp_path / "serve.log") as server:
            tokens = mixed_load.tokens(server.url, PASSWORD)
            filler = data / "filler"
            with filler.open("wb") as out:
                out.write(b"\0" * max(0, (_free_kb(data) - ROOM_KB) * 1024))
            client = mixed_load.Client(
                server.url,
                tokens,
                "disk",
                MATURITY.isoformat(),
                TODAY.isoformat(),
                time.perf_counter(),
                random.Random(3),
            )
            began, full = time.monotonic(), 0
            for _ in range(WRITES):
                if time.monotonic() - began > SECONDS or full >= 10:
                    break
                with contextlib.suppress(mixed_load.Broken):
                    client.step_write()
                if client.attempts and client.attempts[-1].status in (503, 507):
                    full += 1
            answers = [(a.status, a.error) for a in client.attempts]
            assert full >= 1, f"the disk never filled: {answers[-5:]}"
            bad = [
                a
                for a in client.attempts
                if a.status is None or (a.status >= 500 and a.status not in (503, 507))
            ]
            assert not bad, bad[:5]
            assert not client.attempts or all(not a.error.startswith("not_json") for a in client.attempts)
            filler.unlink()
            client.finish()  # the writes given up on, again under their keys: the recovery path
            client.step_write()  # room again: the next write goes through
            assert client.attempts[-1].status in (200, 201), client.attempts[-1]
        for database in [data / "ledger.sqlite", data / "portal.sqlite", *data.rglob("registry.sqlite")]:
            with contextlib.closing(sqlite3.connect(database)) as connection:
                assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",), database
        result = mixed_load.Result(1, 0.0, client.attempts, client.acknowledged, [])
        drills.check_exactly_once(env, start, result)
        print(json.dumps(mixed_load.Result(1, 1.0, client.attempts, [], []).summary()["statuses"]))
