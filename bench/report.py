"""Gather the JSON the bench scripts wrote (--json) into docs/benchmarks.md and charts.

    python bench/report.py RESULTS_DIR [--doc docs/benchmarks.md] [--charts docs/bench]
        [--note "what ran, at which sizes"]

Every figure is set beside its goal (from the issues) with met / not met, figures without a goal
are listed as such, and the transfer rows are set beside the floor measured in the same run
(bench/floor.py). The generated section replaces what lies between the two markers below in the
document (added after the title the first time); the hand-written analysis around it stays.
Charts (matplotlib, PNG): throughput per worker set, latency percentiles.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import statistics
import sys
from collections.abc import Callable
from pathlib import Path

BEGIN = "<!-- bench/report.py: generated section, begin (make bench rewrites it) -->"
END = "<!-- bench/report.py: generated section, end -->"
NOT_RUN = "not measured in this run"


class Goal:
    """A goal line: what, the figure, the goal as text, and whether it holds (None: no goal)."""

    def __init__(self, bench: str, figure: str, value: str, goal: str, met: bool | None) -> None:
        self.bench, self.figure, self.value, self.goal, self.met = bench, figure, value, goal, met

    @property
    def verdict(self) -> str:
        if self.met is None:
            return "" if self.goal == "no goal" else NOT_RUN
        return "**met**" if self.met else "**not met**"


def load(results: Path) -> dict[str, dict]:
    found = {}
    for path in sorted(results.glob("*.json")):
        data = json.loads(path.read_text())
        found[data["script"]] = data
    return found


def workers(label: str) -> tuple[int, bool, bool]:
    """(client count, processes?, software keys?) of a transfer_throughput row label (" shared":
    the processes shared one group commit)."""
    match = re.match(r"(\d+)([tp])(?:x(\d+)t)?( keys)?( shared)?$", label)
    if not match:
        raise ValueError(f"unknown row label {label!r}")
    count = int(match.group(1)) * int(match.group(3) or 1)
    return count, match.group(2) == "p", bool(match.group(4))


def at_least(value: float, goal: float) -> bool:
    return value >= goal


def at_most(value: float, goal: float) -> bool:
    return value <= goal


def goal_rows(found: dict[str, dict]) -> list[Goal]:
    rows: list[Goal] = []

    def add(
        bench: str, figure: str, value: float, fmt: str, goal: float | None, test: Callable | None, text: str
    ) -> None:
        met = None if goal is None or test is None else test(value, goal)
        rows.append(Goal(bench, figure, format(value, fmt), text if goal is not None else "no goal", met))

    floor = found.get("transfer_throughput", {}).get("floor") or found.get("floor")
    if floor:
        for part, figures in floor["parts"].items():
            rows.append(
                Goal(
                    "floor",
                    f"{part}, CPU us (wall {figures['wall_us']:.1f})",
                    f"{figures['cpu_us']:.1f}",
                    "no goal",
                    None,
                )
            )
        per = floor["per_operation"]
        rows.append(
            Goal(
                "floor",
                "per operation (8 signs, 6 verifies, 2 commits), CPU ms",
                f"{per['today_cpu_ms']:.3f}",
                "no goal",
                None,
            )
        )
        rows.append(
            Goal(
                "floor",
                "per operation (6 signs, 4 verifies, 2 commits), CPU ms",
                f"{per['needed_cpu_ms']:.3f}",
                "no goal",
                None,
            )
        )
    transfer = found.get("transfer_throughput")
    if transfer:
        per_op = transfer["floor"]["per_operation"]["today_cpu_ms"]
        cards = transfer["cards"]
        for row in transfer["rows"]:
            count, processes, keys = workers(row["label"])
            bench = "transfer #22" + (" (software keys)" if keys else f" (cards: {cards})")
            name = row["label"]
            two_processes = processes and count >= 2
            if keys:
                add(
                    bench,
                    f"{name}: ops/s",
                    row["ops_per_s"],
                    ".0f",
                    1000 if two_processes else None,
                    at_least,
                    ">= 1,000 (2+ processes)",
                )
                add(
                    bench,
                    f"{name}: CPU ms/op ({row['cpu_ms_per_op'] / per_op:.1f}x the floor)",
                    row["cpu_ms_per_op"],
                    ".2f",
                    1.5,
                    at_most,
                    "<= 1.5",
                )
                add(bench, f"{name}: p99 ms", row["p99_ms"], ".1f", 20, at_most, "<= 20")
            else:
                pkcs11 = cards in ("pkcs11", "default") and two_processes
                add(
                    bench,
                    f"{name}: ops/s",
                    row["ops_per_s"],
                    ".0f",
                    400 if pkcs11 else None,
                    at_least,
                    ">= 400 (PKCS#11, 2+ processes; #22 says through the gateway, these sign in-process)",
                )
                add(
                    bench,
                    f"{name}: CPU ms/op ({row['cpu_ms_per_op'] / per_op:.1f}x the floor)",
                    row["cpu_ms_per_op"],
                    ".2f",
                    None,
                    None,
                    "",
                )
                add(bench, f"{name}: p99 ms", row["p99_ms"], ".1f", None, None, "")
    else:
        for figure, goal in (
            ("ops/s, 2+ processes, software keys", ">= 1,000"),
            ("CPU ms/op", "<= 1.5"),
            ("p99 ms", "<= 20"),
            ("ops/s with PKCS#11 cards", ">= 400"),
        ):
            rows.append(Goal("transfer #22", figure, "-", goal, None))
    gateway = found.get("gateway_signatures")
    for row in gateway["rows"] if gateway else []:
        rows.append(
            Goal(
                "card signatures", f"{row['path']}: signatures/s", f"{row['per_second']:.0f}", "no goal", None
            )
        )
    certificates = found.get("certificates")
    if certificates:
        goals = {"render + sign": 250.0, "verify (signature + ledger)": 60.0}
        for row in certificates["rows"]:
            goal = goals.get(row["step"])
            add(
                f"certificates #11 ({certificates['cards']})",
                f"{row['step']}: median ms",
                row["median_ms"],
                ".1f",
                goal,
                at_most,
                f"<= {goal:.0f}" if goal else "",
            )
        add(
            f"certificates #11 ({certificates['cards']})",
            "signed PDF KB",
            certificates["pdf_kb"]["signed"],
            ".1f",
            250,
            at_most,
            "<= 250",
        )
    else:
        rows.append(Goal("certificates #11", "render + sign median ms", "-", "<= 250", None))
    api = found.get("api_latency")
    for row in api["rows"] if api else []:
        add(
            "API latency",
            f"{row['operation']}: p95 ms (p50 {row['p50_ms']:.1f})",
            row["p95_ms"],
            ".1f",
            None,
            None,
            "",
        )
    if api:
        add(
            "API latency",
            f"full rebuild: blocks/s ({api['rebuild']['blocks']} blocks)",
            api["rebuild"]["blocks_per_s"],
            ".0f",
            None,
            None,
            "",
        )
    portal = found.get("portal_pages")
    for row in portal["rows"] if portal else []:
        add(
            "portal pages",
            f"{row['role']} {row['page']}: p95 ms (p50 {row['p50_ms']:.1f})",
            row["p95_ms"],
            ".1f",
            300,
            lambda v, g: v < g,
            "< 300",
        )
    if not portal:
        rows.append(Goal("portal pages", "worst p95 ms", "-", "< 300", None))
    search = found.get("ticket_search")
    for kind, figures in (search or {}).get("databases", {}).items():
        floor_p95 = figures["rows"][0]["p95_ms"]
        for row in figures["rows"][1:]:
            add(
                f"ticket search ({search['tickets']:,}, {kind})",  # type: ignore[index]
                f"{row['step']}: p95 ms (p50 {row['median_ms']:.1f}; floor p95 {floor_p95:.1f})",
                row["p95_ms"],
                ".1f",
                300,
                lambda v, g: v <= g,
                "<= 300",
            )
    fabric = found.get("fabric_throughput")
    if fabric:
        phases: dict[str, list[dict]] = {}
        for row in fabric["rows"]:
            phases.setdefault(row["phase"], []).append(row)
        ping = statistics.mean(r["tx_per_s"] for r in phases.get("ping (one key)", []))
        for name, runs in phases.items():
            rate = statistics.mean(r["tx_per_s"] for r in runs)
            bench = f"Fabric ({fabric['clients']} clients)"
            own = name == "GoldTicket transactions"
            add(bench, f"{name}: tx/s", rate, ".1f", None, None, "")
            if name != "ping (one key)":
                add(
                    bench,
                    f"{name}: share of the ping rate, %",
                    100 * rate / ping,
                    ".0f",
                    80 if own else None,
                    at_least,
                    ">= 80",
                )
            add(
                bench,
                f"{name}: p50 s (worst round)",
                max(r["p50_s"] for r in runs),
                ".3f",
                0.6 if own else None,
                at_most,
                "<= 0.6",
            )
            add(
                bench,
                f"{name}: p99 s (worst round)",
                max(r["p99_s"] for r in runs),
                ".3f",
                1.5 if own else None,
                at_most,
                "<= 1.5",
            )
            add(bench, f"{name}: errors", sum(r["errors"] for r in runs), ".0f", None, None, "")
    else:
        rows.append(
            Goal(
                "Fabric",
                "GoldTicket tx/s as a share of ping, p50, p99",
                "-",
                ">= 80 %, <= 0.6 s, <= 1.5 s",
                None,
            )
        )
    return rows


def charts(found: dict[str, dict], out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    written = []
    transfer = found.get("transfer_throughput")
    if transfer:
        rows = transfer["rows"]
        labels = [row["label"] for row in rows]
        colours = ["tab:blue" if workers(label)[2] else "tab:orange" for label in labels]
        per_op = transfer["floor"]["per_operation"]["today_cpu_ms"]
        figure, axis = plt.subplots(figsize=(7, 3.6), dpi=80)
        axis.bar(labels, [row["ops_per_s"] for row in rows], color=colours)
        axis.axhline(
            1000, color="tab:blue", linestyle="--", label="goal, software keys, 2+ processes (1,000)"
        )
        axis.axhline(400, color="tab:orange", linestyle="--", label="goal, PKCS#11 cards (400)")
        ceiling = (os.cpu_count() or 1) * 1000 / per_op
        axis.axhline(
            ceiling,
            color="grey",
            linestyle=":",
            label=f"floor's ceiling on {os.cpu_count()} cores ({ceiling:.0f})",
        )
        axis.set_ylim(0, 1.5 * max([ceiling, 1000, *(row["ops_per_s"] for row in rows)]))
        axis.set_ylabel("operations/s")
        axis.set_xlabel("workers (t = threads, p = processes; keys = software keys, else cards)")
        axis.set_title("Transfer-and-accept throughput (bench/transfer_throughput.py)")
        axis.legend(fontsize=7, loc="upper left")
        figure.tight_layout()
        path = out / "throughput.png"
        figure.savefig(path)
        plt.close(figure)
        written.append(path)
    panels = []
    if transfer:
        panels.append(
            (
                "transfer: ms per operation (p99 goal for software keys)",
                [(r["label"], r["p50_ms"], r["p99_ms"]) for r in transfer["rows"]],
                ("p50", "p99"),
                20.0,
            )
        )
    if found.get("portal_pages"):
        rows = found["portal_pages"]["rows"]
        panels.append(
            (
                "portal pages: ms",
                [
                    (re.sub(r"TK\w+", "{ticket}", f"{r['role']} {r['page']}")[:40], r["p50_ms"], r["p95_ms"])
                    for r in rows
                ],
                ("p50", "p95"),
                300.0,
            )
        )
    if found.get("api_latency"):
        rows = found["api_latency"]["rows"]
        panels.append(
            (
                "API: ms",
                [(r["operation"].split(" (")[0][:34], r["p50_ms"], r["p95_ms"]) for r in rows],
                ("p50", "p95"),
                None,
            )
        )
    if panels:
        heights = [max(1.6, 0.22 * len(rows) + 0.8) for _, rows, _, _ in panels]
        figure, axes = plt.subplots(
            len(panels), 1, figsize=(7, sum(heights)), dpi=80, gridspec_kw={"height_ratios": heights}
        )
        for axis, (title, rows, names, goal) in zip(
            figure.axes if len(panels) > 1 else [axes], panels, strict=True
        ):
            positions = range(len(rows))
            axis.barh([p + 0.2 for p in positions], [r[1] for r in rows], height=0.4, label=names[0])
            axis.barh([p - 0.2 for p in positions], [r[2] for r in rows], height=0.4, label=names[1])
            axis.set_yticks(list(positions), [r[0] for r in rows], fontsize=7)
            axis.invert_yaxis()
            if goal:
                axis.axvline(goal, color="red", linestyle="--", label=f"goal {names[1]} {goal:.0f} ms")
            axis.set_title(title, fontsize=9)
            axis.legend(fontsize=7)
        figure.tight_layout()
        path = out / "latency.png"
        figure.savefig(path)
        plt.close(figure)
        written.append(path)
    return written


def section(found: dict[str, dict], chart_paths: list[Path], doc: Path, note: str) -> str:
    load_average = os.getloadavg()
    lines = [
        BEGIN,
        f"## Latest `make bench` ({dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, generated by bench/report.py)",
        f"{os.cpu_count()} cores, load average {load_average[0]:.1f} / {load_average[1]:.1f} / "
        f"{load_average[2]:.1f} when the report was written; scripts run: {', '.join(sorted(found)) or 'none'}."
        + (f" {note}" if note else ""),
        "",
        "| benchmark | figure | measured | goal | verdict |",
        "|---|---|---|---|---|",
    ]
    for row in goal_rows(found):
        lines.append(f"| {row.bench} | {row.figure} | {row.value} | {row.goal} | {row.verdict} |")
    lines.append("")
    for path in chart_paths:
        relative = os.path.relpath(path, doc.parent)
        lines.append(f"![{path.stem}]({relative})")
    lines.append(END)
    return "\n".join(lines) + "\n"


def write_section(doc: Path, text: str) -> None:
    current = doc.read_text() if doc.exists() else "# Benchmarks\n"
    if BEGIN in current and END in current:
        head, rest = current.split(BEGIN, 1)
        tail = rest.split(END, 1)[1].lstrip("\n")
        updated = head + text + ("\n" + tail if tail else "")
    else:
        title, _, body = current.partition("\n")
        updated = f"{title}\n\n{text}\n{body.lstrip(chr(10))}"
    doc.write_text(updated)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", type=Path, help="directory of the scripts' --json files")
    parser.add_argument("--doc", type=Path, default=Path("docs/benchmarks.md"))
    parser.add_argument("--charts", type=Path, default=Path("docs/bench"))
    parser.add_argument("--note", default="", help="what ran, at which sizes (into the report)")
    args = parser.parse_args(argv)
    found = load(args.results)
    if not found:
        print(f"no bench results (*.json) in {args.results}", file=sys.stderr)
        return 1
    written = charts(found, args.charts)
    write_section(args.doc, section(found, written, args.doc, args.note))
    rows = goal_rows(found)
    judged = [row for row in rows if row.met is not None]
    print(
        f"wrote {args.doc} ({len(rows)} figures, {sum(bool(r.met) for r in judged)} of {len(judged)} goals met)"
        + "".join(f", {path}" for path in written)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
