"""The console under `goldticket serve` (gunicorn with two workers and the signing gateway as
its own process): the page's data requests land on either worker and still show one history
(shared in operations.sqlite, never a ring per worker), and the gateway's signatures reach the
console and Prometheus (/metrics/signer) from the other process."""

from __future__ import annotations

import http.cookiejar
import json
import re
import time
import urllib.parse
import urllib.request
from pathlib import Path

from liveserver import Server, build_consortium, request, server_env
from support import OPERATOR_PASSWORD, PIN


def operator_session(url: str) -> urllib.request.OpenerDirector:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{url}/login", timeout=30).read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token, page[:300]
    form = urllib.parse.urlencode(
        {"username": "operator", "password": OPERATOR_PASSWORD, "csrf_token": token.group(1)}
    )
    opener.open(f"{url}/login", data=form.encode(), timeout=30).read()
    return opener


def test_the_workers_show_one_history_and_the_gateways_figures(tmp_path: Path) -> None:
    env = server_env(tmp_path / "var")
    build_consortium(env)
    with Server(env, tmp_path / "serve.log", workers=2) as server:
        auth = {"Authorization": f"Bearer {server.token('bank.credit')}"}
        status, _, body = request(
            server.url + "/api/v1/credit-lines",
            "POST",
            {"core_org_id": "core", "limit_fen": 5, "pin": PIN},
            auth,
        )
        assert status == 201, body
        opener = operator_session(server.url)
        seen = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and len({taken for taken, _, _ in seen}) < 3:
            with opener.open(server.url + "/operations/status.json", timeout=30) as answer:
                shown = json.loads(answer.read())["status"]
            seen.append((shown["taken"], shown["samples"], shown["gateway"]))
            if len(seen) == 1:  # a write signed by the gateway process, between two samples
                body = {"core_org_id": "core", "limit_fen": 6, "pin": PIN}
                assert request(server.url + "/api/v1/credit-lines", "POST", body, auth)[0] == 201
            time.sleep(0.5)
        takens = [taken for taken, _, _ in seen]
        counts = [count for _, count, _ in seen]
        # one history: the newest sample never goes back and the count never drops, whichever
        # worker answered (a ring per worker would alternate between two histories)
        assert takens == sorted(takens) and counts == sorted(counts), seen
        assert len(set(takens)) >= 3 and counts[-1] >= 3, seen
        gateway = seen[-1][2]
        assert gateway["mode"] == "gateway" and gateway["up"]
        assert gateway["signatures_hour"] >= 2, seen  # its proposal and its transaction
        status, headers, raw = request(server.url + "/metrics/signer")
        assert status == 200 and headers["Content-Type"].startswith("text/plain")
        assert re.search(r'goldticket_signer_signatures_total\{purpose="transaction"\} [1-9]', raw.decode())
        assert (tmp_path / "var" / "operations.sqlite").stat().st_mode & 0o777 == 0o600
