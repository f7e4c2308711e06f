"""`goldticket serve` as a real process group (gunicorn workers + the signing gateway), killed
with SIGKILL in the middle of writes, restarted, and every request retried with its
Idempotency-Key: each acknowledged write is on the ledger exactly once, every retry answers,
and the read model equals a rebuild."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from apiclient import PASSWORD
from support import OPERATOR_PASSWORD, OPERATOR_PIN, PIN, TODAY, free_port

from goldticket.services import accounts, members, setup
from goldticket.settings import Settings

pytestmark = [pytest.mark.functional, pytest.mark.slow]


def _request(url: str, method: str = "GET", body: object = None, headers: dict[str, str] | None = None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


class Server:
    def __init__(self, env: dict[str, str], port: int) -> None:
        self.env, self.port = env, port
        self.url = f"http://127.0.0.1:{port}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "goldticket.cli", "serve", "--port", str(self.port), "--workers", "2"],
            env=self.env,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if _request(self.url + "/healthz")[0] == 200:
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("goldticket serve did not answer within 60 s")

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=30)


def test_kill_minus_nine_in_the_middle_of_writes(tmp_path: Path):
    data_dir = tmp_path / "var"
    env = {
        **os.environ,
        "GOLDTICKET_DATA_DIR": str(data_dir),
        "GOLDTICKET_ENV": "test",
        "GOLDTICKET_TODAY": TODAY.isoformat(),
        "GOLDTICKET_OPERATOR_PASSWORD": OPERATOR_PASSWORD,
        "GOLDTICKET_OPERATOR_PIN": OPERATOR_PIN,
        "GOLDTICKET_CARD_KDF_N": "16384",
        "GOLDTICKET_PASSWORD_MEMORY_KIB": "8192",
        "GOLDTICKET_SIGNER_RATE": "1000",
    }
    for name in ("GOLDTICKET_SIGNER_URL", "GOLDTICKET_SIGNER_SECRET", "GOLDTICKET_DATABASE_URL"):
        env.pop(name, None)
    portal = setup.init_portal(Settings.from_env(env))
    for member_id, role, username in (("core", "core", "core.clerk"), ("bank", "bank", "bank.credit")):
        members.register_member(
            portal.platform, portal.platform.desk(), member_id=member_id, name=member_id, role=role
        )
        members.add_user(
            portal.platform, portal.platform.desk(), member_id=member_id, username=username, pin=PIN
        )
        accounts.ensure_account(portal, username=username, org_id=member_id, role="clerk", password=PASSWORD)
    portal.close()

    server = Server(env, free_port())
    server.start()
    try:
        status, login = _request(
            server.url + "/api/v1/auth/token", "POST", {"username": "bank.credit", "password": PASSWORD}
        )
        auth = {"Authorization": f"Bearer {login['token']}"}
        acknowledged: dict[int, dict] = {}
        sent: list[int] = []
        stop = threading.Event()

        def write_until_killed() -> None:
            number = 0
            while not stop.is_set():
                number += 1
                sent.append(number)
                body = {"core_org_id": "core", "limit_fen": number, "pin": PIN}
                try:
                    code, answer = _request(
                        server.url + "/api/v1/credit-lines",
                        "POST",
                        body,
                        {**auth, "Idempotency-Key": f"w-{number}"},
                    )
                except OSError:
                    return
                if code == 201:
                    acknowledged[number] = answer

        writer = threading.Thread(target=write_until_killed)
        writer.start()
        deadline = time.monotonic() + 30
        while len(acknowledged) < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        server.kill()
        stop.set()
        writer.join(timeout=30)
        assert len(acknowledged) >= 5

        server.start()
        retried = {}
        for number in sent:
            body = {"core_org_id": "core", "limit_fen": number, "pin": PIN}
            code, answer = _request(
                server.url + "/api/v1/credit-lines", "POST", body, {**auth, "Idempotency-Key": f"w-{number}"}
            )
            assert code == 201, (number, answer)
            retried[number] = answer
        for number, answer in acknowledged.items():
            assert retried[number] == answer  # the first answer, not a second write

        status, lines = _request(server.url + "/api/v1/credit-lines?per_page=500", headers=auth)
        limits = sorted(line["limit_fen"] for line in lines["items"])
        assert limits == sorted(sent)  # every write exactly once
        result = subprocess.run(
            [sys.executable, "-m", "goldticket.cli", "reindex", "--json"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        assert json.loads(result.stdout)["blocks"] > len(sent)
        status, rebuilt = _request(server.url + "/api/v1/credit-lines?per_page=500", headers=auth)
        assert rebuilt == lines
    finally:
        server.stop()
