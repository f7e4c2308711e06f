"""Keeps the processes of ``goldticket serve`` running: a child that ends without being asked
to is started again after a delay that doubles from ``FIRST_DELAY`` to ``MAX_DELAY`` and falls
back to ``FIRST_DELAY`` once the child has stayed up ``STEADY_AFTER`` seconds; every end and
every restart is one line on stderr. SIGTERM or SIGINT stops every child, the last started
first (the web service before the gateway it signs through), and returns."""

from __future__ import annotations

import dataclasses
import signal
import subprocess
import sys
import threading
import time

FIRST_DELAY = 0.5
MAX_DELAY = 10.0
STEADY_AFTER = 30.0
STOP_TIMEOUT = 15.0
TICK = 0.1


def say(message: str) -> None:
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    print(f"{stamp} goldticket serve: {message}", file=sys.stderr, flush=True)


@dataclasses.dataclass
class Child:
    """One supervised command. With ``ready_marker`` its stderr is read (and passed on): the
    first line holding the marker is kept in ``ready_line`` and sets ``ready``."""

    name: str
    command: list[str]
    env: dict[str, str]
    ready_marker: str = ""
    process: subprocess.Popen[str] | None = None
    started_at: float = 0.0
    delay: float = FIRST_DELAY
    restart_at: float | None = None
    restarts: int = 0
    ready: threading.Event = dataclasses.field(default_factory=threading.Event)
    ready_line: str = ""

    def start(self) -> None:
        self.ready = threading.Event()
        self.process = subprocess.Popen(
            self.command,
            env=self.env,
            stderr=subprocess.PIPE if self.ready_marker else None,
            text=True,
        )
        self.started_at = time.monotonic()
        if self.ready_marker:
            threading.Thread(target=self._pass_on_stderr, args=(self.process,), daemon=True).start()

    def _pass_on_stderr(self, process: subprocess.Popen[str]) -> None:
        assert process.stderr is not None
        for line in process.stderr:
            if not self.ready.is_set() and self.ready_marker in line:
                self.ready_line = line.strip()
                self.ready.set()
            sys.stderr.write(line)
            sys.stderr.flush()

    def wait_ready(self, timeout: float) -> bool:
        """Whether the child said it is ready within ``timeout`` seconds (False once it ended)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.ready.wait(TICK):
                return True
            if self.process is None or self.process.poll() is not None:
                return self.ready.is_set()
        return False

    def check(self, now: float) -> None:
        """Notice an end and schedule the restart; restart when its time has come."""
        assert self.process is not None
        if self.restart_at is None:
            code = self.process.poll()
            if code is None:
                return
            up = now - self.started_at
            if up >= STEADY_AFTER:
                self.delay = FIRST_DELAY
            say(
                f"{self.name} (pid {self.process.pid}) ended ({_describe(code)}) after {up:.1f} s; restarting in {self.delay:.1f} s"
            )
            self.restart_at = now + self.delay
            self.delay = min(self.delay * 2, MAX_DELAY)
        elif now >= self.restart_at:
            self.restart_at = None
            self.restarts += 1
            self.start()
            say(f"{self.name} restarted (pid {self.process.pid}, restart {self.restarts})")

    def terminate(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()

    def wait_or_kill(self, timeout: float) -> None:
        if self.process is None:
            return
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            say(f"{self.name} (pid {self.process.pid}) did not stop within {timeout:.0f} s; killing it")
            self.process.kill()
            self.process.wait()


def stop_on_signals() -> threading.Event:
    """An event that SIGTERM or SIGINT sets from now on. Installed before the first child
    starts, so that a signal during start-up still stops what has started."""
    stopping = threading.Event()

    def stop(signum: int, frame: object) -> None:
        stopping.set()

    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, stop)
    return stopping


def supervise(children: list[Child], stopping: threading.Event) -> None:
    """Keep ``children`` (already started) running until ``stopping`` is set; then stop them,
    the last started first. Also stops them when start-up failed (an empty wait)."""
    try:
        while not stopping.wait(TICK):
            now = time.monotonic()
            for child in children:
                child.check(now)
    finally:
        say("stopping")
        for child in reversed(children):
            child.terminate()
            child.wait_or_kill(STOP_TIMEOUT)


def _describe(code: int) -> str:
    if code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"exit code {code}"
