"""The mixed load (tests/functional/web/mixed_load.py: issue, accept, transfer offer and accept,
financing apply and approve, list and get tickets, certificates; retries under the same
Idempotency-Key) against a fresh `goldticket serve`, run ``--runs`` times: one table row per
run with the 5xx (issue #18 wants 0), the 429s, the throughput and the latency percentiles.

    .venv/bin/python tools/mixed_load.py [--runs 3] [--clients 20] [--seconds 60]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPOSITORY / "tests"), str(REPOSITORY / "tests" / "functional" / "web")]

import mixed_load  # noqa: E402
from apiclient import MATURITY, PASSWORD  # noqa: E402
from liveserver import Server, build_consortium, server_env  # noqa: E402
from support import TODAY  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    print(
        "| run | clients | s | requests | req/s | writes acked | writes/s | 5xx | 429 | conn. errors"
        " | p50 ms | p95 ms | p99 ms | broken | statuses |"
    )
    print("|---" * 15 + "|")
    for run in range(1, args.runs + 1):
        with tempfile.TemporaryDirectory(prefix="goldticket-mixed-") as folder:
            env = server_env(Path(folder) / "var")
            build_consortium(env)
            with Server(
                env, Path(folder) / "serve.log", workers=args.workers, threads=args.threads
            ) as server:
                tokens = mixed_load.tokens(server.url, PASSWORD)
                result = mixed_load.run(
                    server.url,
                    tokens,
                    clients=args.clients,
                    seconds=args.seconds,
                    maturity=MATURITY.isoformat(),
                    today=TODAY.isoformat(),
                    seed=run,
                )
        s = result.summary()
        statuses = ", ".join(f"{status} x {count}" for status, count in s["statuses"].items())
        print(
            f"| {run} | {s['clients']} | {s['seconds']} | {s['requests']} | {s['requests_per_s']}"
            f" | {s['writes_acknowledged']} | {s['writes_per_s']} | {s['5xx']} | {s['429']}"
            f" | {s['connection_errors']} | {s['p50_ms']} | {s['p95_ms']} | {s['p99_ms']} | {s['broken']}"
            f" | {statuses} |",
            flush=True,
        )
        for line in result.broken[:3]:
            print(f"  broken: {line}", flush=True)


if __name__ == "__main__":
    main()
