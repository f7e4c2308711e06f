"""The restart schedule of `goldticket serve`'s supervisor, on a real child that ends at once:
0.5 s doubling to 10 s while it keeps failing, back to 0.5 s after it stayed up a while."""

from __future__ import annotations

import sys

import pytest

from goldticket.cli._supervise import FIRST_DELAY, MAX_DELAY, STEADY_AFTER, Child

pytestmark = pytest.mark.functional


def _ended(child: Child) -> None:
    assert child.process is not None
    child.process.wait(timeout=10)


def test_delays_double_up_to_the_bound_and_reset_after_a_steady_run(capsys):
    child = Child("a child", [sys.executable, "-c", "raise SystemExit(3)"], {})
    child.start()
    delays = []
    for _ in range(7):
        _ended(child)
        now = child.started_at + 1.0  # ended after 1 s: failing
        child.check(now)
        assert child.restart_at is not None
        delays.append(round(child.restart_at - now, 3))
        child.check(child.restart_at)  # its time has come: started again
        assert child.restart_at is None
    assert delays == [FIRST_DELAY, 1.0, 2.0, 4.0, 8.0, MAX_DELAY, MAX_DELAY]
    _ended(child)
    now = child.started_at + STEADY_AFTER + 1  # it had stayed up: the next delay is short again
    child.check(now)
    assert child.restart_at == now + FIRST_DELAY
    logged = capsys.readouterr().err
    assert "a child (pid" in logged and "ended (exit code 3)" in logged and "restarting in 0.5 s" in logged
    assert "restarted (pid" in logged


def test_a_running_child_is_left_alone():
    child = Child("sleeper", [sys.executable, "-c", "import time; time.sleep(30)"], {})
    child.start()
    try:
        child.check(child.started_at + 100)
        assert child.restart_at is None and child.restarts == 0
    finally:
        child.terminate()
        child.wait_or_kill(5)
