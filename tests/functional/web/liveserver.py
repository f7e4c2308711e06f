"""`goldticket serve` as a real process for the web tests: a data directory with a small
consortium (made through the services, as `goldticket init` and the desk would), the server
on a free 127.0.0.1 port with its log in a file, and a plain HTTP client (the standard
library's, so nothing of Flask's test client hides what gunicorn answers)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from apiclient import PASSWORD
from support import OPERATOR_PASSWORD, OPERATOR_PIN, PIN, TODAY, free_port

from goldticket.services import accounts, credit, members, setup
from goldticket.settings import Settings

# (member id, role, username); every user's password is PASSWORD and card PIN is PIN
CONSORTIUM = [
    ("core", "core", "core.clerk"),
    ("tier1", "supplier", "tier1.clerk"),
    ("tier2", "supplier", "tier2.clerk"),
    ("bank", "bank", "bank.credit"),
]


def server_env(data_dir: Path, database_url: str = "") -> dict[str, str]:
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
    if database_url:
        env["GOLDTICKET_DATABASE_URL"] = database_url
    return env


def build_consortium(env: dict[str, str], *, credit_limit_fen: int = 10**12) -> int:
    """`goldticket init`, the CONSORTIUM's members, users, cards and logins, and a credit line
    of the bank to the core; returns the ledger height after it."""
    portal = setup.init_portal(Settings.from_env(env))
    try:
        platform = portal.platform
        actors = {}
        for member_id, role, username in CONSORTIUM:
            members.register_member(platform, platform.desk(), member_id=member_id, name=member_id, role=role)
            actors[member_id] = members.add_user(
                platform, platform.desk(), member_id=member_id, username=username, pin=PIN
            )
            accounts.ensure_account(
                portal, username=username, org_id=member_id, role="clerk", password=PASSWORD
            )
        line = credit.grant_credit_line(
            platform, actors["bank"], core_org_id="core", limit_fen=credit_limit_fen, pin=PIN
        )
        credit.accept_credit_line(platform, actors["core"], credit_line_id=line["id"], pin=PIN)
        portal.follower.catch_up()
        return int(platform.ledger.height())
    finally:
        portal.close()


def request(
    url: str,
    method: str = "GET",
    body: object = None,
    headers: dict[str, str] | None = None,
    timeout: float = 60,
) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, raw body) of one request; HTTP errors are answers, not exceptions."""
    data = json.dumps(body).encode() if body is not None else None
    sent = {"Content-Type": "application/json"} if data is not None else {}
    prepared = urllib.request.Request(url, data=data, method=method, headers={**sent, **(headers or {})})
    try:
        with urllib.request.urlopen(prepared, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def request_json(url: str, method: str = "GET", body: object = None, **kw: Any) -> tuple[int, Any]:
    status, _, raw = request(url, method, body, **kw)
    return status, json.loads(raw)


class Server:
    """``goldticket serve`` in its own process group; its output goes to ``log``."""

    def __init__(self, env: dict[str, str], log: Path, *, workers: int = 2, threads: int = 4) -> None:
        self.env, self.log = env, log
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers, self.threads = workers, threads

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        command = [sys.executable, "-m", "goldticket.cli", "serve", "--port", str(self.port)]
        command += ["--workers", str(self.workers), "--threads", str(self.threads)]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command, env=self.env, start_new_session=True, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"goldticket serve ended: {self.log.read_text()[-2000:]}")
            try:
                if request(self.url + "/healthz", timeout=5)[0] == 200:
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("goldticket serve did not answer within 60 s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)

    def token(self, username: str) -> str:
        status, body = request_json(
            self.url + "/api/v1/auth/token", "POST", {"username": username, "password": PASSWORD}
        )
        assert status == 200, body
        return str(body["token"])
