"""Soak: a long mixed load (tests/functional/web/mixed_load.py: writes and reads, retries under
the same Idempotency-Key) on a real `goldticket serve` over a fresh data directory, reporting per
interval the resident memory (RSS) of every process (serve, the signing gateway, the gunicorn
master and each worker) and the p99 latency of the requests answered in it, then a verdict on
each: the least-squares slope over the run, and "flat" when the change it predicts over the
whole run is under 10 % of the mean (or, for memory, under 20 MB); "plateaus" when the run grows
but its last half is flat by the same rule (10 MB for memory over the half), "GROWS" when the
last half still grows; the first interval is the warm-up and left out of the slope. The floor, measured in the
same run before the load: the latency of GET /healthz on the idle server. Not run in CI (the
tiny run of tests/functional/test_bench_scripts.py keeps it from rotting).

    .venv/bin/python bench/soak.py [--minutes 60] [--interval 60] [--clients 20]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPOSITORY / "tests"), str(REPOSITORY / "tests" / "functional" / "web")]

import mixed_load  # noqa: E402
from apiclient import MATURITY, PASSWORD  # noqa: E402
from liveserver import Server, build_consortium, request, server_env  # noqa: E402
from support import TODAY  # noqa: E402


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return sorted(found)


def _command(pid: int) -> str:
    try:
        return (Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")).decode()
    except OSError:
        return ""


def _rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def processes(serve: int) -> dict[str, int]:
    """role -> pid of every process of the service."""
    found = {"serve": serve}
    for pid in _children(serve):
        command = _command(pid)
        if "signer serve" in command:
            found["gateway"] = pid
        elif "gunicorn" in command:
            found["gunicorn master"] = pid
            for number, worker in enumerate(_children(pid), 1):
                found[f"worker {number}"] = worker
    return found


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of y over x."""
    if len(points) < 2:
        return 0.0
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / spread if spread else 0.0


def _trend(points: list[tuple[float, float]], seconds: float, absolute: float) -> tuple[float, str]:
    change = slope(points) * seconds
    mean = sum(y for _, y in points) / len(points) if points else 0.0
    flat = abs(change) < max(0.1 * mean, 0.0) or abs(change) < absolute
    return change, "flat" if flat else "GROWS" if change > 0 else "falls"


def verdict(points: list[tuple[float, float]], seconds: float, absolute: float) -> tuple[float, float, str]:
    """(change the slope predicts over ``seconds``, the change over the last half of the run at
    the last half's slope, verdict): "flat"; "plateaus" when the whole run grows but its last
    half is flat (caches and allocator arenas filling up, then staying); "GROWS" when the last
    half still grows (a leak); "falls"."""
    change, word = _trend(points, seconds, absolute)
    if not points:
        return change, 0.0, word
    middle = points[0][0] + (points[-1][0] - points[0][0]) / 2
    late = [point for point in points if point[0] >= middle]
    late_change, late_word = _trend(late, seconds / 2, absolute / 2) if len(late) >= 3 else (change / 2, word)
    if word == "GROWS" and late_word != "GROWS":
        word = "plateaus"
    elif word != "GROWS" and late_word == "GROWS":
        word = "GROWS"
    return change, late_change, word


def grown(folder: Path, every: float, top: int = 12) -> list[dict[str, object]]:
    """Per worker, the ``top`` source lines whose live memory grew most between its second
    snapshot (after the warm-up) and its last (web/worker.py ``trace_memory`` writes them)."""
    import tracemalloc

    by_pid: dict[str, list[Path]] = {}
    for path in sorted(folder.glob("*.tmsnap")) if folder.is_dir() else []:
        by_pid.setdefault(path.name.split("-")[0], []).append(path)
    rows: list[dict[str, object]] = []
    for pid, paths in sorted(by_pid.items()):
        if len(paths) < 2:
            continue
        first, last = paths[1 if len(paths) > 2 else 0], paths[-1]
        older, newer = tracemalloc.Snapshot.load(str(first)), tracemalloc.Snapshot.load(str(last))
        for stat in newer.compare_to(older, "lineno")[:top]:
            if stat.size_diff <= 0:
                continue
            frame = stat.traceback[0]
            where = f"{_short(frame.filename)}:{frame.lineno}"
            rows.append(
                {
                    "pid": int(pid),
                    "from_s": round((int(first.stem.split("-")[1]) + 1) * every),
                    "to_s": round((int(last.stem.split("-")[1]) + 1) * every),
                    "where": where,
                    "kib": stat.size_diff / 1024,
                    "blocks": stat.count_diff,
                }
            )
    return rows


def _short(filename: str) -> str:
    for marker in ("site-packages/", "/lib/python3", str(REPOSITORY) + "/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--interval", type=float, default=60.0, help="seconds per reported interval")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="trace the workers' allocations (slower) and print what grew from the second interval to the last",
    )
    args = parser.parse_args()
    seconds = args.minutes * 60
    growth: list[dict[str, object]] = []

    with tempfile.TemporaryDirectory(prefix="goldticket-soak-") as folder:
        tmp = Path(folder)
        env = server_env(tmp / "var")
        build_consortium(env)
        if args.tracemalloc:
            env["GOLDTICKET_TRACEMALLOC_DIR"] = str(tmp / "tracemalloc")
            env["GOLDTICKET_TRACEMALLOC_SECONDS"] = str(args.interval)
        with Server(env, tmp / "serve.log", workers=args.workers, threads=args.threads) as server:
            floor = []
            for _ in range(50):
                began = time.perf_counter()
                request(server.url + "/healthz")
                floor.append(time.perf_counter() - began)
            tokens = mixed_load.tokens(server.url, PASSWORD)
            samples: list[tuple[float, dict[str, float]]] = []
            done = threading.Event()

            def sample() -> None:
                began = time.perf_counter()
                while not done.wait(min(args.interval, 5.0) if not samples else args.interval):
                    memory = {
                        role: rss
                        for role, pid in processes(server.process.pid).items()
                        if (rss := _rss_mb(pid)) is not None
                    }
                    samples.append((time.perf_counter() - began, memory))

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            result = mixed_load.run(
                server.url,
                tokens,
                clients=args.clients,
                seconds=seconds,
                maturity=MATURITY.isoformat(),
                today=TODAY.isoformat(),
            )
            done.set()
            sampler.join()
        if args.tracemalloc:
            growth = grown(tmp / "tracemalloc", args.interval)

    summary = result.summary()
    roles = sorted({role for _, memory in samples for role in memory})
    print(
        f"soak: {args.clients} clients for {args.minutes:g} min, {args.workers} workers x {args.threads} threads"
    )
    print(
        f"floor: GET /healthz on the idle server, p50 {1000 * mixed_load.percentile(sorted(floor), 50):.1f} ms"
    )
    print(
        f"load: {summary['requests']} requests ({summary['requests_per_s']}/s), {summary['writes_acknowledged']}"
        f" writes acknowledged ({summary['writes_per_s']}/s), 5xx {summary['5xx']}, 429 {summary['429']},"
        f" connection errors {summary['connection_errors']}, broken {summary['broken']}"
    )
    print()
    print("| at s | requests | p99 ms | " + " | ".join(f"{role} MB" for role in roles) + " |")
    print("|---" * (3 + len(roles)) + "|")
    previous = 0.0
    p99_points, memory_points = [], {role: [] for role in roles}
    for number, (at, memory) in enumerate(samples):
        latencies = result.latencies(previous, at)
        p99 = 1000 * mixed_load.percentile(latencies, 99)
        if number > 0:  # the first interval is the warm-up (caches, first certificates): not in the slope
            if latencies:
                p99_points.append((at, p99))
            for role, rss in memory.items():
                memory_points[role].append((at, rss))
        cells = " | ".join(f"{memory[role]:.1f}" if role in memory else "-" for role in roles)
        print(f"| {at:.0f} | {len(latencies)} | {p99:.0f} | {cells} |")
        previous = at
    print()
    print("| series | mean | change over the run (slope) | change over its last half | verdict |")
    print("|---|---|---|---|---|")
    change, late, word = verdict(p99_points, seconds, 0.0)
    mean = sum(y for _, y in p99_points) / len(p99_points) if p99_points else 0.0
    print(f"| p99 latency | {mean:.0f} ms | {change:+.0f} ms | {late:+.0f} ms | {word} |")
    series = [
        {"series": "p99 latency ms", "mean": mean, "change": change, "late_change": late, "verdict": word}
    ]
    for role in roles:
        points = memory_points[role]
        change, late, word = verdict(points, seconds, 20.0)
        mean = sum(y for _, y in points) / len(points) if points else 0.0
        print(f"| RSS {role} | {mean:.1f} MB | {change:+.1f} MB | {late:+.1f} MB | {word} |")
        series.append(
            {"series": f"RSS {role} MB", "mean": mean, "change": change, "late_change": late, "verdict": word}
        )
    if args.tracemalloc:
        print()
        print("What grew in each worker, from its second snapshot to its last (tracemalloc, by line):")
        print()
        print("| worker pid | from s | to s | where | grew KiB | blocks |")
        print("|---|---|---|---|---|---|")
        for row in growth:
            print(
                f"| {row['pid']} | {row['from_s']} | {row['to_s']} | {row['where']} | {row['kib']:+.1f} | {row['blocks']:+d} |"
            )
    if args.json:
        figures = {
            "script": "soak",
            "clients": args.clients,
            "minutes": args.minutes,
            "floor_p50_ms": 1000 * mixed_load.percentile(sorted(floor), 50),
            "summary": summary,
            "samples": [{"at_s": at, "rss_mb": memory} for at, memory in samples],
            "series": series,
            "tracemalloc": growth,
        }
        args.json.write_text(json.dumps(figures, indent=1) + "\n")


if __name__ == "__main__":
    main()
