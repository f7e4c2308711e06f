"""`goldticket serve` keeps its children alive: kill -9 of the signing gateway or of the
gunicorn master (real processes) brings them back within 10 s; meanwhile a write answers 503
`gateway_unavailable` with Retry-After (never a 500, never a refused connection) and /healthz
says `degraded`; SIGTERM to serve leaves no process behind."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from liveserver import Server, build_consortium, request, request_json, server_env
from support import PIN

pytestmark = [pytest.mark.functional, pytest.mark.slow]

BACK_WITHIN = 10.0


def _parent_of(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def _descendants(root: int) -> dict[int, str]:
    """Every living process under ``root``: pid -> command line."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            parent = _parent_of(int(entry.name))
            if parent is not None:
                parents[int(entry.name)] = parent
    found: dict[int, str] = {}
    frontier = [root]
    while frontier:
        current = frontier.pop()
        for pid, parent in parents.items():
            if parent == current and pid not in found:
                found[pid] = _command_line(pid)
                frontier.append(pid)
    return found


def _command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _child(server: Server, marker: str) -> int:
    """The pid of serve's child whose command line holds ``marker``, once it runs."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for pid, command in _descendants(server.process.pid).items():
            if marker in command and _parent_of(pid) == server.process.pid:
                return pid
        time.sleep(0.1)
    raise AssertionError(f"no child of serve runs {marker!r}")


@pytest.fixture
def server(tmp_path: Path):
    env = server_env(tmp_path / "var")
    build_consortium(env)
    with Server(env, tmp_path / "serve.log") as running:
        yield running


def _offer_credit(server: Server, auth: dict[str, str], number: int) -> tuple[int, dict[str, str], bytes]:
    body = {"core_org_id": "core", "limit_fen": number, "pin": PIN}
    return request(
        server.url + "/api/v1/credit-lines", "POST", body, {**auth, "Idempotency-Key": f"k{number}"}
    )


def test_a_killed_signing_gateway_answers_503_then_comes_back(server: Server):
    auth = {"Authorization": f"Bearer {server.token('bank.credit')}"}
    assert _offer_credit(server, auth, 1)[0] == 201
    gateway = _child(server, "signer serve")
    os.kill(gateway, signal.SIGKILL)
    killed = time.monotonic()

    outage = []
    number = 1
    while True:
        number += 1
        status, headers, raw = _offer_credit(server, auth, number)
        if status == 201:
            break
        outage.append((status, headers, raw))
        assert time.monotonic() - killed < BACK_WITHIN, outage[-1]
        if len(outage) == 1:
            assert request_json(server.url + "/healthz")[1]["status"] in ("degraded", "ok")
        time.sleep(0.05)
    back = time.monotonic() - killed
    print(f"signing gateway back after {back:.2f} s; {len(outage)} writes refused meanwhile")
    assert back < BACK_WITHIN
    assert outage, "the outage was too short to see"
    for status, headers, raw in outage:
        assert status == 503, raw
        assert int(headers["Retry-After"]) >= 1
        assert b'"error":"gateway_unavailable"' in raw.replace(b" ", b"")
    assert _child(server, "signer serve") != gateway
    assert request_json(server.url + "/healthz")[1]["status"] == "ok"
    assert "restarting" in server.log.read_text()


def test_healthz_says_degraded_while_the_gateway_is_down(server: Server):
    gateway = _child(server, "signer serve")
    os.kill(gateway, signal.SIGSTOP)  # alive but answering nothing: as down as a dead one
    try:
        status, body = request_json(server.url + "/healthz")
        assert (status, body["status"], body["signer"]) == (200, "degraded", "unavailable")
    finally:
        os.kill(gateway, signal.SIGCONT)
    assert request_json(server.url + "/healthz")[1]["status"] == "ok"


def test_a_killed_gunicorn_master_is_restarted_and_sigterm_leaves_nothing(server: Server):
    master = _child(server, "gunicorn")
    old_workers = set(_descendants(master))
    seen = set(_descendants(server.process.pid))
    os.kill(master, signal.SIGKILL)
    killed = time.monotonic()
    while True:  # back: a new master answers, and none of the old one's orphaned workers is left
        try:
            answered = request(server.url + "/healthz", timeout=2)[0] == 200
        except OSError:
            answered = False
        orphans = [pid for pid in old_workers if _alive(pid)]
        if answered and not orphans and _child(server, "gunicorn") != master:
            break
        assert time.monotonic() - killed < BACK_WITHIN, server.log.read_text()[-2000:]
        time.sleep(0.1)
    print(f"gunicorn back after {time.monotonic() - killed:.2f} s")
    auth = {"Authorization": f"Bearer {server.token('bank.credit')}"}
    assert _offer_credit(server, auth, 7)[0] == 201

    seen |= set(_descendants(server.process.pid))
    server.process.send_signal(signal.SIGTERM)
    server.process.wait(timeout=30)
    deadline = time.monotonic() + 15
    while any(_alive(pid) for pid in seen) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = {pid: _command_line(pid) for pid in seen if _alive(pid)}
    assert not left, left


def test_ctrl_c_stops_everything_without_a_restart(server: Server):
    children = set(_descendants(server.process.pid))
    assert len(children) >= 4  # the gateway, the master, two workers
    os.killpg(server.process.pid, signal.SIGINT)  # what a terminal's Ctrl-C sends: the whole group
    assert server.process.wait(timeout=30) == 0
    deadline = time.monotonic() + 15
    while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in children if _alive(pid)]
    assert "restarting" not in server.log.read_text()
