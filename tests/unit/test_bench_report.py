"""bench/report.py's verdicts: each figure against its goal of issue #22 (and #11, the portal),
figures without a goal listed without a verdict, goals with no figure said to be unmeasured."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SPEC = importlib.util.spec_from_file_location(
    "bench_report", Path(__file__).resolve().parents[2] / "bench" / "report.py"
)
assert SPEC and SPEC.loader
report = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(report)

FLOOR = {
    "parts": {"sign": {"calls": 1, "wall_us": 25.0, "cpu_us": 25.0}},
    "per_operation": {"today_cpu_ms": 1.0, "today_wall_ms": 2.0, "needed_cpu_ms": 0.8},
}


def transfer(label: str, ops: float, cpu: float, p99: float, cards: str = "default") -> dict:
    row = {"label": label, "ops_per_s": ops, "cpu_ms_per_op": cpu, "p99_ms": p99, "p50_ms": p99 / 2}
    return {
        "transfer_throughput": {
            "script": "transfer_throughput",
            "cards": cards,
            "rows": [row],
            "floor": FLOOR,
        }
    }


def verdicts(found: dict) -> dict[str, str]:
    return {f"{row.bench} | {row.figure}": row.verdict for row in report.goal_rows(found)}


@pytest.mark.parametrize(
    ("ops", "cpu", "p99", "expected"),
    [
        (1000, 1.5, 20.0, ("**met**", "**met**", "**met**")),
        (999, 1.51, 20.1, ("**not met**", "**not met**", "**not met**")),
    ],
)
def test_software_keys_with_two_processes_against_the_goals_of_issue_22(ops, cpu, p99, expected) -> None:
    got = verdicts(transfer("2p keys", ops, cpu, p99))
    bench = "transfer #22 (software keys)"
    assert got[f"{bench} | 2p keys: ops/s"] == expected[0]
    assert got[f"{bench} | 2p keys: CPU ms/op ({cpu:.1f}x the floor)"] == expected[1]
    assert got[f"{bench} | 2p keys: p99 ms"] == expected[2]


def test_the_rate_goal_needs_two_processes_and_cards_have_their_own() -> None:
    assert (
        verdicts(transfer("2t keys", 5000, 1.0, 1.0))["transfer #22 (software keys) | 2t keys: ops/s"] == ""
    )
    cards = verdicts(transfer("4p", 399, 3.0, 9.0))
    assert cards["transfer #22 (cards: default) | 4p: ops/s"] == "**not met**"
    assert cards["transfer #22 (cards: default) | 4p: p99 ms"] == ""
    software_cards = verdicts(transfer("4p", 5, 3.0, 9.0, cards="software"))
    assert software_cards["transfer #22 (cards: software) | 4p: ops/s"] == ""


def test_goals_without_a_figure_are_unmeasured_and_the_portal_goal_is_strict() -> None:
    portal = {
        "script": "portal_pages",
        "rows": [{"role": "core", "page": "/", "n": 1, "p50_ms": 1, "p95_ms": 300.0}],
    }
    got = verdicts({"portal_pages": portal})
    assert got["portal pages | core /: p95 ms (p50 1.0)"] == "**not met**"
    assert got["certificates #11 | render + sign median ms"] == report.NOT_RUN
    assert got["transfer #22 | ops/s, 2+ processes, software keys"] == report.NOT_RUN


def test_the_section_replaces_the_last_one_and_keeps_the_rest(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\nanalysis\n")
    report.write_section(doc, f"{report.BEGIN}\nfirst\n{report.END}\n")
    report.write_section(doc, f"{report.BEGIN}\nsecond\n{report.END}\n")
    assert doc.read_text() == f"# Benchmarks\n\n{report.BEGIN}\nsecond\n{report.END}\n\nanalysis\n"


def test_fabric_phases_against_the_goals_of_the_fabric_issue() -> None:
    def phase(name: str, rate: float, p50: float, p99: float) -> dict:
        return {"phase": name, "transactions": 1, "tx_per_s": rate, "p50_s": p50, "p99_s": p99, "errors": 0}

    rows = [
        phase("ping (one key)", 100.0, 0.4, 0.6),
        phase("GoldTicket transactions", 80.0, 0.5, 1.6),
        phase("GoldTicket transactions", 80.0, 0.61, 1.0),  # a second round: the worst counts
        phase("GoldTicket via services", 50.0, 0.9, 1.3),
    ]
    got = verdicts({"fabric_throughput": {"script": "fabric_throughput", "clients": 50, "rows": rows}})
    bench = "Fabric (50 clients) | GoldTicket transactions"
    assert got[f"{bench}: share of the ping rate, %"] == "**met**"
    assert got[f"{bench}: p50 s (worst round)"] == "**not met**"
    assert got[f"{bench}: p99 s (worst round)"] == "**not met**"
    assert got["Fabric (50 clients) | GoldTicket via services: p99 s (worst round)"] == ""
