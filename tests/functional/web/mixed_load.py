"""A mixed load of writes and reads against a running GoldTicket server, for the reliability
drills (tests/functional/web/test_drills.py, tests/integration/test_fabric_drills.py), the soak
script (bench/soak.py) and tools/mixed_load.py.

``clients`` threads run for ``seconds``. Each drives its own tickets through their life: issue
(core), accept (tier1), a transfer offer of half (tier1) and its acceptance (tier2), a financing
application (tier2) and its approval (bank); between writes it reads (the tickets a member
holds, one ticket, and now and then a ticket's PDF certificate). Every write goes under an
Idempotency-Key and is retried under the same key, as a careful client would, on a connection
error, a 5xx, a 429 or a 409 that says "still in progress" / "try again", each retry bounded in
count and time. Every attempt is recorded (status, latency) and every write acknowledged with a
2xx is kept (user, key), so that a test can check the ledger afterwards.

Only the standard library, so that it runs anywhere a Python 3.11 does."""

from __future__ import annotations

import collections
import dataclasses
import hashlib
import http.client
import json
import random
import threading
import time
import urllib.error
import urllib.request
from typing import Any

PIN = "135790"
USERS = ("core.clerk", "tier1.clerk", "tier2.clerk", "bank.credit")
ATTEMPTS = 40  # per write
RETRY_FOR = 45.0  # seconds a write is retried at most
READ_SHARE = 0.5  # of the steps
TIMEOUT = 30.0  # per request


@dataclasses.dataclass
class Attempt:
    """One request: what, who, under which key (reads: ""), its status (None: the connection
    failed) and how long it took, ``at`` seconds after the load began."""

    op: str
    username: str
    key: str
    status: int | None
    seconds: float
    at: float
    error: str = ""


@dataclasses.dataclass
class Acknowledged:
    """A write answered 2xx: the key, and the answer."""

    op: str
    username: str
    key: str
    status: int
    body: Any


class Broken(Exception):
    """A write that got no final answer, or an answer its step does not allow."""


@dataclasses.dataclass
class Client:
    url: str
    tokens: dict[str, str]
    name: str
    maturity: str
    today: str
    started: float
    rng: random.Random
    attempts: list[Attempt] = dataclasses.field(default_factory=list)
    acknowledged: list[Acknowledged] = dataclasses.field(default_factory=list)
    broken: list[str] = dataclasses.field(default_factory=list)
    count: int = 0
    # the work each step leaves for a later one
    issued: list[str] = dataclasses.field(default_factory=list)
    held: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    offers: list[str] = dataclasses.field(default_factory=list)
    pieces: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    applications: list[str] = dataclasses.field(default_factory=list)
    seen: list[str] = dataclasses.field(default_factory=list)
    # writes given up on without a final answer: (op, username, path, body, key), to send again
    unfinished: list[tuple[str, str, str, dict[str, Any], str]] = dataclasses.field(default_factory=list)

    def request(
        self, op: str, username: str, method: str, path: str, body: Any = None, key: str = ""
    ) -> tuple[int | None, Any]:
        headers = {"Authorization": f"Bearer {self.tokens[username]}"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if key:
            headers["Idempotency-Key"] = key
        prepared = urllib.request.Request(
            self.url + "/api/v1" + path, data=data, method=method, headers=headers
        )
        began = time.perf_counter()
        try:
            try:
                with urllib.request.urlopen(prepared, timeout=TIMEOUT) as response:
                    status, raw, kind = (
                        response.status,
                        response.read(),
                        response.headers.get("Content-Type", ""),
                    )
            except urllib.error.HTTPError as error:
                status, raw, kind = error.code, error.read(), error.headers.get("Content-Type", "")
        except (OSError, http.client.HTTPException) as error:
            # refused, reset, or cut in the middle of the answer's body (IncompleteRead: the
            # worker serving it was killed by a drill): no answer, as a client sees it
            self.attempts.append(
                Attempt(
                    op, username, key, None, time.perf_counter() - began, began - self.started, repr(error)
                )
            )
            return None, repr(error)
        seconds = time.perf_counter() - began
        answer: Any = raw
        code = ""
        if "json" in kind:
            try:
                answer = json.loads(raw)
            except ValueError:
                answer = {"error": "not_json"}
            if isinstance(answer, dict) and "error" in answer:
                code = f"{answer['error']}: {str(answer.get('message', ''))[:120]}"
        elif status >= 400:
            code = "not_json: " + raw[:120].decode(errors="replace")
        self.attempts.append(Attempt(op, username, key, status, seconds, began - self.started, code))
        return status, answer

    def write(
        self, op: str, username: str, path: str, body: dict[str, Any], expect: tuple[int, ...], key: str = ""
    ) -> Any:
        """Send under one new key (or ``key``) until a final answer; returns it when its status
        is in ``expect`` (and keeps it as acknowledged), raises Broken otherwise."""
        if not key:
            self.count += 1
            key = f"{self.name}-{self.count}-{op}"
        give_up = time.monotonic() + RETRY_FOR
        for attempt in range(ATTEMPTS):
            status, answer = self.request(op, username, "POST", path, body, key)
            message = str(answer.get("message", "")) if isinstance(answer, dict) else ""
            again = status == 409 and ("in progress" in message or "try again" in message)
            if status is None or status == 429 or status >= 500 or again:
                if time.monotonic() >= give_up:
                    break
                time.sleep(self.rng.uniform(0.05, min(1.0, 0.05 * 2**attempt)))
                continue
            if status not in expect:
                self.unfinished.append((op, username, path, body, key))
                raise Broken(f"{self.name} {op} under {key}: {status} {str(answer)[:200]}")
            self.acknowledged.append(Acknowledged(op, username, key, status, answer))
            return answer
        self.unfinished.append((op, username, path, body, key))
        raise Broken(f"{self.name} {op} under {key}: no final answer in {RETRY_FOR:.0f} s")

    def finish(self) -> None:
        """Send every unfinished write again under its own key (the recovery path)."""
        waiting, self.unfinished = self.unfinished, []
        for op, username, path, body, key in waiting:
            self.write(op, username, path, body, (200, 201), key=key)

    # ------------------------------------------------------------------ the steps
    def step_write(self) -> None:
        """The most advanced piece of work waiting, else a new ticket."""
        if self.applications:
            application = self.applications.pop(0)
            self.write(
                "register",
                "bank.credit",
                f"/financing/{application}/registration",
                {"registration_number": f"ZD-{application}", "pin": PIN},
                (201,),
            )
            self.write(
                "approve",
                "bank.credit",
                f"/financing/{application}/approve",
                {"annual_rate_bp": 262, "value_date": self.today, "pin": PIN},
                (200,),
            )
        elif self.pieces:
            piece = self.pieces.pop(0)
            applied = self.write(
                "finance",
                "tier2.clerk",
                f"/tickets/{piece['id']}/financing",
                {
                    "bank_org_id": "bank",
                    "amount_fen": piece["amount_fen"],
                    "max_annual_rate_bp": 500,
                    "pin": PIN,
                },
                (201,),
            )
            self.applications.append(applied["application_id"])
        elif self.offers:
            moved = self.write(
                "offer_accept", "tier2.clerk", f"/offers/{self.offers.pop(0)}/accept", {"pin": PIN}, (200,)
            )
            self.pieces.append(moved["transferred"])
            self.seen.append(moved["transferred"]["id"])
        elif self.held:
            ticket = self.held.pop(0)
            offered = self.write(
                "transfer",
                "tier1.clerk",
                f"/tickets/{ticket['id']}/transfers",
                {"to_org_id": "tier2", "amount_fen": ticket["amount_fen"] // 2, "pin": PIN},
                (201,),
            )
            self.offers.append(offered["offer_id"])
        elif self.issued:
            accepted = self.write(
                "accept", "tier1.clerk", f"/tickets/{self.issued.pop(0)}/accept", {"pin": PIN}, (200,)
            )
            self.held.append(accepted)
        else:
            number = f"INV-{self.name}-{self.count + 1}-{self.rng.randrange(10**9)}"
            amount = 1_000_000 + self.rng.randrange(1, 10**6)
            invoice = {
                "number": number,
                "amount_fen": amount,
                "sha256": hashlib.sha256(number.encode()).hexdigest(),
            }
            issued = self.write(
                "issue",
                "core.clerk",
                "/tickets",
                {
                    "payee_org_id": "tier1",
                    "amount_fen": amount,
                    "maturity_date": self.maturity,
                    "invoices": [invoice],
                    "pin": PIN,
                },
                (201,),
            )
            self.issued.append(issued["id"])
            self.seen.append(issued["id"])

    def step_read(self) -> None:
        roll = self.rng.random()
        if roll < 0.1 and self.seen:
            self.request(
                "certificate", "core.clerk", "GET", f"/tickets/{self.rng.choice(self.seen)}/certificate"
            )
        elif roll < 0.5 and self.seen:
            self.request("get", "core.clerk", "GET", f"/tickets/{self.rng.choice(self.seen)}")
        else:
            holder, username = self.rng.choice(
                [("tier1", "tier1.clerk"), ("tier2", "tier2.clerk"), ("core", "core.clerk")]
            )
            self.request("list", username, "GET", f"/tickets?holder_org_id={holder}&per_page=20")

    def run(self, until: float, stop: threading.Event) -> None:
        while time.monotonic() < until and not stop.is_set():
            try:
                if self.rng.random() < READ_SHARE:
                    self.step_read()
                else:
                    self.step_write()
            except Broken as failure:
                self.broken.append(str(failure))
            except Exception as error:  # reported, never swallowed
                self.broken.append(f"{self.name}: {error!r}")


@dataclasses.dataclass
class Result:
    clients: int
    seconds: float
    attempts: list[Attempt]
    acknowledged: list[Acknowledged]
    broken: list[str]

    def statuses(self) -> collections.Counter[str]:
        return collections.Counter(str(attempt.status) for attempt in self.attempts)

    def server_errors(self) -> list[Attempt]:
        """Answers 5xx, except 503 (the documented "try again": the gateway is down, nothing written)."""
        return [a for a in self.attempts if a.status is not None and a.status >= 500 and a.status != 503]

    def not_json(self) -> list[Attempt]:
        return [a for a in self.attempts if a.error.startswith("not_json")]

    def longest_outage(self) -> float:
        """The longest time from a failed attempt (no connection, or a 503) to the end of the
        next answered one that was not a 503: how long clients saw the service down."""
        longest, down_since = 0.0, None
        for a in sorted(self.attempts, key=lambda a: a.at):
            if a.status is None or a.status == 503:
                down_since = a.at if down_since is None else down_since
            elif down_since is not None:
                longest = max(longest, a.at + a.seconds - down_since)
                down_since = None
        return longest

    def latencies(self, since: float = 0.0, until: float = float("inf")) -> list[float]:
        return sorted(a.seconds for a in self.attempts if a.status is not None and since <= a.at < until)

    def summary(self) -> dict[str, Any]:
        statuses = self.statuses()
        latencies = self.latencies()
        answered = [a for a in self.attempts if a.status is not None]
        return {
            "clients": self.clients,
            "seconds": round(self.seconds, 1),
            "requests": len(self.attempts),
            "requests_per_s": round(len(answered) / self.seconds, 1) if self.seconds else 0.0,
            "writes_acknowledged": len(self.acknowledged),
            "writes_per_s": round(len(self.acknowledged) / self.seconds, 1) if self.seconds else 0.0,
            "5xx": sum(n for s, n in statuses.items() if s.startswith("5")),
            "503": statuses.get("503", 0),
            "429": statuses.get("429", 0),
            "connection_errors": statuses.get("None", 0),
            "p50_ms": round(1000 * percentile(latencies, 50), 1),
            "p95_ms": round(1000 * percentile(latencies, 95), 1),
            "p99_ms": round(1000 * percentile(latencies, 99), 1),
            "longest_outage_s": round(self.longest_outage(), 2),
            "broken": len(self.broken),
            "statuses": dict(sorted(statuses.items())),
        }


def percentile(ordered: list[float], share: float) -> float:
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, max(0, round(share / 100 * len(ordered) + 0.5) - 1))]


def tokens(url: str, password: str, users: tuple[str, ...] = USERS) -> dict[str, str]:
    found = {}
    for username in users:
        request = urllib.request.Request(
            url + "/api/v1/auth/token",
            data=json.dumps({"username": username, "password": password}).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            found[username] = json.loads(response.read())["token"]
    return found


def run(
    url: str,
    tokens_: dict[str, str],
    *,
    clients: int,
    seconds: float,
    maturity: str,
    today: str,
    seed: int = 18,
    stop: threading.Event | None = None,
    prefix: str = "c",
) -> Result:
    """``clients`` threads for ``seconds`` (plus the time their last writes take to get a final
    answer, at most RETRY_FOR); ``stop`` ends it early."""
    stop = stop or threading.Event()
    started = time.perf_counter()
    until = time.monotonic() + seconds
    workers = [
        Client(url, tokens_, f"{prefix}{n}", maturity, today, started, random.Random(seed * 1000 + n))
        for n in range(clients)
    ]
    threads = [threading.Thread(target=client.run, args=(until, stop), daemon=True) for client in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + RETRY_FOR + 2 * TIMEOUT)
    return Result(
        clients,
        time.perf_counter() - started,
        [a for c in workers for a in c.attempts],
        [a for c in workers for a in c.acknowledged],
        [b for c in workers for b in c.broken],
    )
