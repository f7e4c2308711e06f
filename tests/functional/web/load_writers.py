"""Writers for the concurrent-load test: each runs a ticket's life cycle over HTTP (issue,
accept, a second accept under another key that must be refused, a replay of the accept under
its own key, a transfer, the offer accepted, financing applied for and approved, and a credit
line), every write under an Idempotency-Key and retried under the same key while the answer is
a 5xx, a 429, a connection error, "still in progress" or a conflict that says nothing was
written and to try again, as a careful client would.

Only the standard library: the test runs writers as threads in its own process and as
separate processes (``python load_writers.py SPEC.json`` prints their calls as JSON)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import random
import sys
import threading
import time
import urllib.error
import urllib.request
from typing import Any

ATTEMPTS = 12  # per write; a write that never gets a final answer fails the test
PIN = "135790"


@dataclasses.dataclass
class Call:
    """One attempt: who sent what under which key, and what came back (status None: the
    connection failed)."""

    writer: str
    username: str
    key: str
    path: str
    status: int | None
    error: str = ""
    replayed: bool = False


def invoice(number: str, amount_fen: int) -> dict[str, Any]:
    return {"number": number, "amount_fen": amount_fen, "sha256": hashlib.sha256(number.encode()).hexdigest()}


class Failure(Exception):
    """A writer got an answer that its step does not allow."""


@dataclasses.dataclass
class Writer:
    url: str
    tokens: dict[str, str]  # username -> bearer token
    name: str
    maturity: str
    today: str
    calls: list[Call] = dataclasses.field(default_factory=list)
    failures: list[str] = dataclasses.field(default_factory=list)
    _count: int = 0

    def send(self, username: str, path: str, body: dict[str, Any], key: str) -> tuple[int | None, Any]:
        """One attempt: (status, answer), or (None, reason) when the connection failed."""
        headers = {
            "Authorization": f"Bearer {self.tokens[username]}",
            "Content-Type": "application/json",
            "Idempotency-Key": key,
        }
        request = urllib.request.Request(
            self.url + "/api/v1" + path, data=json.dumps(body).encode(), method="POST", headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                status, raw, replayed = (
                    response.status,
                    response.read(),
                    response.headers.get("Idempotent-Replayed"),
                )
        except urllib.error.HTTPError as error:
            status, raw, replayed = error.code, error.read(), None
        except OSError as error:
            self.calls.append(Call(self.name, username, key, path, None, error=repr(error)))
            return None, repr(error)
        try:
            answer = json.loads(raw)
        except ValueError:
            answer = {"error": "not_json", "message": raw[:200].decode(errors="replace")}
        error_code = answer.get("error", "") if isinstance(answer, dict) else ""
        self.calls.append(Call(self.name, username, key, path, status, error_code, replayed == "true"))
        return status, answer

    def write(
        self, username: str, path: str, body: dict[str, Any], *, expect: tuple[int, ...], key: str = ""
    ) -> Any:
        """Send until a final answer, under one key; the answer's status must be in ``expect``."""
        if not key:
            self._count += 1
            key = f"{self.name}-{self._count}"
        for attempt in range(ATTEMPTS):
            status, answer = self.send(username, path, body, key)
            message = str(answer.get("message", "")) if isinstance(answer, dict) else ""
            again = status == 409 and ("in progress" in message or "try again" in message)
            if status is None or status == 429 or status >= 500 or again:
                time.sleep(random.uniform(0.05, min(2.0, 0.1 * 2**attempt)))
                continue
            if status not in expect:
                raise Failure(f"{self.name} {path} under {key}: {status} {answer}")
            return answer
        raise Failure(f"{self.name} {path} under {key}: no final answer after {ATTEMPTS} attempts")

    def life_cycle(self, round_number: int) -> None:
        amount = 1_000_000 + round_number
        number = f"INV-{self.name}-{round_number}"
        invoice = {
            "number": number,
            "amount_fen": amount,
            "sha256": hashlib.sha256(number.encode()).hexdigest(),
        }
        issued = self.write(
            "core.clerk",
            "/tickets",
            {
                "payee_org_id": "tier1",
                "amount_fen": amount,
                "maturity_date": self.maturity,
                "invoices": [invoice],
                "pin": PIN,
            },
            expect=(201,),
        )
        accept = f"/tickets/{issued['id']}/accept"
        key = f"{self.name}-accept-{round_number}"
        accepted = self.write("tier1.clerk", accept, {"pin": PIN}, expect=(200,), key=key)
        self.write("tier1.clerk", accept, {"pin": PIN}, expect=(409, 422))  # a second accept: refused
        again = self.write("tier1.clerk", accept, {"pin": PIN}, expect=(200,), key=key)
        if again != accepted:
            raise Failure(f"{self.name}: the replay of {key} answered {again}, not {accepted}")
        offered = self.write(
            "tier1.clerk",
            f"/tickets/{issued['id']}/transfers",
            {"to_org_id": "tier2", "amount_fen": amount // 2, "pin": PIN},
            expect=(201,),
        )
        moved = self.write(
            "tier2.clerk", f"/offers/{offered['offer_id']}/accept", {"pin": PIN}, expect=(200,)
        )
        piece = moved["transferred"]
        applied = self.write(
            "tier2.clerk",
            f"/tickets/{piece['id']}/financing",
            {"bank_org_id": "bank", "amount_fen": piece["amount_fen"], "max_annual_rate_bp": 500, "pin": PIN},
            expect=(201,),
        )
        self.write(
            "bank.credit",
            f"/financing/{applied['application_id']}/registration",
            {"registration_number": f"ZD-{applied['application_id']}", "pin": PIN},
            expect=(201,),
        )
        self.write(
            "bank.credit",
            f"/financing/{applied['application_id']}/approve",
            {"annual_rate_bp": 262, "value_date": self.today, "pin": PIN},
            expect=(200,),
        )
        self.write(
            "bank.credit",
            "/credit-lines",
            {"core_org_id": "core", "limit_fen": amount, "pin": PIN},
            expect=(201,),
        )

    def run(self, rounds: int) -> None:
        try:
            for round_number in range(rounds):
                self.life_cycle(round_number)
        except Failure as failure:
            self.failures.append(str(failure))
        except Exception as error:  # reported, never swallowed: the test fails on it
            self.failures.append(f"{self.name}: {error!r}")


def run_writers(spec: dict[str, Any]) -> list[Writer]:
    """Writers named ``spec["names"]``, each in a thread of this process, all started at once."""
    writers = [
        Writer(spec["url"], spec["tokens"], name, spec["maturity"], spec["today"]) for name in spec["names"]
    ]
    threads = [threading.Thread(target=writer.run, args=(spec["rounds"],)) for writer in writers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return writers


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as spec:
        writers = run_writers(json.load(spec))
    json.dump(
        {
            "calls": [dataclasses.asdict(call) for writer in writers for call in writer.calls],
            "failures": [failure for writer in writers for failure in writer.failures],
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
