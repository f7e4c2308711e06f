"""Every script in bench/ runs to the end with tiny sizes, as `make bench` would run it with
real ones, so that none rots unnoticed (bench/certificates.py once failed for months with a
TypeError). The figures printed are not checked: they belong in docs/benchmarks.md, measured
with the real sizes. A new script must be added to SCRIPTS."""

from __future__ import annotations

import os
import random
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
    "fabric_throughput.py": (
        ["--clients", "2", "--seconds", "1", "--rounds", "1"],
        "GoldTicket via services",
    ),
    "gateway_signatures.py": (["--signatures", "4", "--clients", "2"], "gateway over HTTP"),
    "portal_pages.py": (["--tickets", "40", "--requests", "2"], "worst p95"),
    "soak.py": (["--minutes", "0.2", "--interval", "4", "--clients", "2"], "| RSS gateway |"),
    "transfer_throughput.py": (
        ["--operations", "4", "--threads", "1", "2", "--processes", "2", "--keys"],
        "2p keys",
    ),
}


def test_every_bench_script_is_run_here() -> None:
    assert set(SCRIPTS) == {path.name for path in BENCH.glob("*.py")}


def _free_port_base(span: int) -> int:
    """A first port with ``span`` free ports above it on 127.0.0.1."""
    for _ in range(50):
        base = random.randrange(20_000, 60_000 - span, 10)
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
def test_the_bench_script_runs_with_tiny_sizes(script: str, tmp_path: Path) -> None:
    arguments, expected = SCRIPTS[script]
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
