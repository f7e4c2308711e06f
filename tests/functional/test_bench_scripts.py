"""Every script in bench/ runs to the end with tiny sizes, as `make bench` would run it with
real ones, so that none rots unnoticed (bench/certificates.py once failed for months with a
TypeError). The figures printed are not checked: they belong in docs/benchmarks.md, measured
with the real sizes, and that bench/report.py (`make bench`'s report) reads what each script
writes with --json. A new script must be added to SCRIPTS."""

from __future__ import annotations

import json
import os
import random
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.functional, pytest.mark.slow]

REPOSITORY = Path(__file__).resolve().parents[2]
BENCH = REPOSITORY / "bench"
FABRIC_PORTS = 140  # a Fabric network of fabnet.layout uses ports base .. base + 133

# script -> (tiny arguments, a line its report always prints)
SCRIPTS = {
    "api_latency.py": (["--tickets", "120", "--writes", "2", "--reads", "2"], "full rebuild of"),
    "certificates.py": (["--runs", "1"], "| render + sign |"),
    "commit_shapes.py": (
        ["--transactions", "6", "--warmup", "2", "--preload", "50", "--flush", "4", "--floor-count", "20"],
        "blocks+index/4",
    ),
    "floor.py": (["--count", "20", "--commits", "5"], "floor per operation"),
    "fabric_throughput.py": (
        ["--clients", "2", "--seconds", "1", "--rounds", "1"],
        "GoldTicket via services",
    ),
    "gateway_signatures.py": (["--signatures", "4", "--clients", "2"], "gateway over HTTP"),
    "ledger_phases.py": (
        ["--operations", "3", "--warmup", "1", "--floor-count", "20"],
        "peer: submit / commit / append the block",
    ),
    "portal_pages.py": (["--tickets", "40", "--requests", "2"], "worst p95"),
    "soak.py": (
        ["--minutes", "0.25", "--interval", "4", "--clients", "2", "--tracemalloc"],
        "What grew in each worker",
    ),
    "ticket_search.py": (["--tickets", "300", "--requests", "2"], "worst p95"),
    "transfer_throughput.py": (
        ["--operations", "4", "--threads", "1", "2", "--processes", "2", "--keys", "--floor-count", "20"],
        "cpu ms/op over the floor",
    ),
}
TOOLS = {"report.py"}  # reads the scripts' JSON: run by test_the_report_gathers_the_scripts_json


def test_every_bench_script_is_run_here() -> None:
    assert set(SCRIPTS) | TOOLS == {path.name for path in BENCH.glob("*.py")}


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the scripts of this module's runs write their --json (read by the report's test)."""
    return tmp_path_factory.mktemp("bench-results")


def _free_port_base(span: int) -> int:
    """A first port with ``span`` free ports above it on 127.0.0.1, below the kernel's ephemeral
    range (network-up refuses a port there) and below the test networks' bases (17050 up)."""
    for _ in range(50):
        base = random.randrange(10_000, 16_000 - span, 10)
        try:
            for port in range(base, base + span):
                with socket.socket() as probe:
                    probe.bind(("127.0.0.1", port))
        except OSError:
            continue
        return base
    raise RuntimeError(f"no {span} free ports in a row")


def _fabric_available() -> bool:
    sys.path.insert(0, str(REPOSITORY / "fabric-network"))
    from fabnet import binaries

    try:
        binaries.find_binaries()
    except binaries.NetworkError:
        return False
    return True


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_the_bench_script_runs_with_tiny_sizes(script: str, tmp_path: Path, results: Path) -> None:
    arguments, expected = SCRIPTS[script]
    written = results / script.replace(".py", ".json")
    arguments = [*arguments, "--json", str(written)]
    if script == "fabric_throughput.py":
        if not _fabric_available():
            pytest.skip("no Fabric binaries: FABRIC_BIN or ../shared/fabric (see docs/fabric.md)")
        arguments = [*arguments, "--port-base", str(_free_port_base(FABRIC_PORTS))]
    env = {**os.environ, "TMPDIR": str(tmp_path)}  # what a script leaves behind stays in tmp_path
    for name in [name for name in env if name.startswith("GOLDTICKET_")]:
        del env[name]
    result = subprocess.run(
        [sys.executable, str(BENCH / script), *arguments],
        cwd=REPOSITORY,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, (result.stdout[-2000:], result.stderr[-4000:])
    assert expected in result.stdout, result.stdout[-2000:]
    report = json.loads(written.read_text())
    assert report["script"] == script.removesuffix(".py")
    if script == "fabric_throughput.py":  # every phase ran, and not one operation failed
        assert all(row["transactions"] > 0 and row["errors"] == 0 for row in report["rows"]), report["rows"]


def _run(*arguments: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TMPDIR": str(tmp_path), "MPLCONFIGDIR": str(tmp_path / "mpl")}
    return subprocess.run(
        [sys.executable, *arguments], cwd=REPOSITORY, env=env, capture_output=True, text=True, timeout=600
    )


def test_the_report_gathers_the_scripts_json(tmp_path: Path, results: Path) -> None:
    """bench/report.py on what the scripts wrote (those of this run's tests, and a tiny transfer
    run of its own): the generated section between its markers, each transfer figure beside its
    goal with a verdict and the floor, the charts written, the hand-written text kept."""
    if not (results / "transfer_throughput.json").exists():
        transfer = SCRIPTS["transfer_throughput.py"][0]
        run = _run(
            str(BENCH / "transfer_throughput.py"),
            *transfer,
            "--json",
            str(results / "transfer_throughput.json"),
            tmp_path=tmp_path,
        )
        assert run.returncode == 0, run.stderr[-4000:]
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\nHand-written analysis that stays.\n")
    charts = tmp_path / "charts"
    for _ in range(2):  # a second run replaces the section, it does not add one
        run = _run(
            str(BENCH / "report.py"),
            str(results),
            "--doc",
            str(doc),
            "--charts",
            str(charts),
            tmp_path=tmp_path,
        )
        assert run.returncode == 0, run.stderr[-4000:]
    text = doc.read_text()
    assert text.startswith("# Benchmarks\n") and "Hand-written analysis that stays." in text
    assert text.count("generated section, begin") == 1 and text.count("generated section, end") == 1
    scripts = {path.stem for path in results.glob("*.json")}
    assert f"scripts run: {', '.join(sorted(scripts))}." in text
    assert "| transfer #22 (software keys) | 2p keys: ops/s |" in text
    verdict = r"\| 2p keys: ops/s \| \d+ \| >= 1,000 \(2\+ processes\) \| \*\*(met|not met)\*\* \|"
    assert re.search(verdict, text), text
    assert "x the floor)" in text and "| floor | verify, CPU us" in text
    assert "| Fabric |" in text or "fabric_throughput" in scripts
    for name in ("throughput.png", "latency.png"):
        png = charts / name
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size < 100_000
        assert f"![{png.stem}](charts/{name})" in text


def test_the_transfer_bench_signs_through_a_gateway_process(tmp_path: Path) -> None:
    """--gateway: the card rows sign over HTTP through a signing gateway process of their own."""
    run = _run(
        str(BENCH / "transfer_throughput.py"),
        *["--operations", "4", "--threads", "1", "--processes", "2", "--gateway", "--floor-count", "20"],
        "--json",
        str(tmp_path / "transfer.json"),
        tmp_path=tmp_path,
    )
    assert run.returncode == 0, run.stderr[-4000:]
    report = json.loads((tmp_path / "transfer.json").read_text())
    assert report["cards"].endswith("via gateway")
    assert [row["label"] for row in report["rows"]] == ["1t", "2p"]
    assert all(row["operations"] == 4 for row in report["rows"])
    assert run.stdout.count("signed through the gateway at http://127.0.0.1:") == 2, run.stdout
