"""bench/soak.py's verdict on a series: a leak (still growing in the last half) is told apart
from a process that fills its caches and allocator arenas and then stays (the gateway's RSS
in the one-hour soak of 2026-12-05: +25 MB over the run, +3 MB over its last half)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

spec = importlib.util.spec_from_file_location("soak", Path(__file__).parents[2] / "bench" / "soak.py")
assert spec is not None and spec.loader is not None
soak = importlib.util.module_from_spec(spec)
spec.loader.exec_module(soak)

GATEWAY = [(305, 102.2), (605, 99.7), (905, 104.1), (1205, 108.7), (1505, 111.9), (1805, 114.3),
           (2105, 119.4), (2405, 119.9), (2705, 115.4), (3005, 118.5), (3305, 119.5)]  # fmt: skip


def test_growth_that_stops_plateaus_and_growth_that_goes_on_grows() -> None:
    assert soak.verdict(GATEWAY, 3600, 20.0)[2] == "plateaus"
    leak = [(t, 100 + t / 100) for t in range(300, 3600, 300)]  # +1 MB a 100 s, to the end
    assert soak.verdict(leak, 3600, 20.0)[2] == "GROWS"
    late_leak = [(t, 100.0 if t < 1800 else 100 + (t - 1800) / 50) for t in range(300, 3600, 300)]
    assert soak.verdict(late_leak, 3600, 20.0)[2] == "GROWS"
    steady = [(t, 200.0 + (t % 600) / 100) for t in range(300, 3600, 300)]
    assert soak.verdict(steady, 3600, 20.0)[2] == "flat"
