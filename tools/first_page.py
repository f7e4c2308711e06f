#!/usr/bin/env python3
"""Time `make run` in a directory until its portal answers its first page, then stop it.

    python3 tools/first_page.py [DIR] [--port 8000] [--timeout 600] [--runs 1]

Starts `make run` in DIR (default: here) in its own process group, polls
http://127.0.0.1:PORT/ every 0.2 s and prints the seconds until the first answer below 500,
then stops that process group (SIGTERM, then SIGKILL after 15 s). With --runs N it does it N
times in a row (the first on whatever DIR holds, the next ones as "after"). Standard library
only: it runs before any venv exists. make's output goes to DIR/first-page-N.log, each line
after the seconds since the start, so the log shows where the time went."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status < 500)
    except urllib.error.HTTPError as error:
        return error.code < 500
    except (OSError, ValueError):
        return False


def one_run(directory: Path, port: int, timeout: float, log: Path) -> float | None:
    env = dict(os.environ, GOLDTICKET_PORT=str(port), PYTHONUNBUFFERED="1")  # lines stamped as printed
    url = f"http://127.0.0.1:{port}/"
    if answers(url):
        sys.exit(f"something already answers on {url}")
    started = time.perf_counter()
    with log.open("w", encoding="utf-8") as output:
        make = subprocess.Popen(
            ["make", "run"],
            cwd=directory,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            text=True,
            errors="replace",
        )

        def copy() -> None:
            assert make.stdout is not None
            for line in make.stdout:
                output.write(f"{time.perf_counter() - started:7.1f} {line}")
                output.flush()

        copier = threading.Thread(target=copy, daemon=True)
        copier.start()
        elapsed: float | None = None
        try:
            while time.perf_counter() - started < timeout and make.poll() is None:
                if answers(url):
                    elapsed = time.perf_counter() - started
                    break
                time.sleep(0.2)
        finally:
            if make.poll() is None:
                os.killpg(make.pid, signal.SIGTERM)
                try:
                    make.wait(15)
                except subprocess.TimeoutExpired:
                    os.killpg(make.pid, signal.SIGKILL)
                    make.wait()
            copier.join(5)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", nargs="?", default=".", type=Path)
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    for run in range(1, args.runs + 1):
        log = args.directory / f"first-page-{run}.log"
        elapsed = one_run(args.directory, args.port, args.timeout, log)
        label = "first" if run == 1 else "after"
        if elapsed is None:
            print(f"run {run} ({label}): no page within {args.timeout:.0f} s; see {log}")
            sys.exit(1)
        print(f"run {run} ({label}): first page in {elapsed:.1f} s ({log})")


if __name__ == "__main__":
    main()
