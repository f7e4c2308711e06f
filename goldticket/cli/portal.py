"""``goldticket serve`` (the portal and API under gunicorn, with the signing gateway beside it)
and ``goldticket reindex`` (rebuild the read model from the ledger)."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import click

from ._common import handles_errors, out, settings
from ._supervise import Child, stop_on_signals, supervise

GATEWAY_START_TIMEOUT = 60.0


@click.command()
@handles_errors
def reindex() -> None:
    """Drop the read model and project every ledger block again."""
    from goldticket.services.portal import Portal

    portal = Portal.open(settings())
    try:
        started = time.perf_counter()
        checkpoint = portal.follower.rebuild()
        out({"blocks": checkpoint, "seconds": round(time.perf_counter() - started, 3)})
    finally:
        portal.close()


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8000, show_default=True)
@click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True)
@click.option("--threads", type=click.IntRange(1, 64), default=4, show_default=True)
@handles_errors
def serve(host: str, port: int, workers: int, threads: int) -> None:
    """Serve the portal and the API (gunicorn), and the signing gateway unless
    GOLDTICKET_SIGNER_URL names a running one. Either is started again when it ends (after
    0.5 s, doubling to 10 s while it keeps failing); SIGTERM or SIGINT stops both."""
    from goldticket.services.portal import Portal
    from goldticket.signing.keystore import KeyStore

    current = settings()
    Portal.open(current).close()  # initialised? migrations applied once, before the workers start
    env = dict(os.environ)
    env["GOLDTICKET_DATA_DIR"] = str(current.data_dir)
    stopping = stop_on_signals()
    children: list[Child] = []
    try:
        if not current.signer_url:
            env["GOLDTICKET_SIGNER_SECRET"] = (
                current.signer_secret or KeyStore(current.data_dir).signer_secret()
            )
            env["GOLDTICKET_SIGNER_URL"] = _start_gateway(children, env)
        metrics_dir = _metrics_dir()
        env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
        if not stopping.is_set():
            children.append(Child("gunicorn", _gunicorn(host, port, workers, threads), dict(env)))
            children[-1].start()
            click.echo(f"GoldTicket on http://{host}:{port}/ (API at /api/v1, health at /healthz)", err=True)
    except BaseException as error:
        supervise(children, _stopped())  # nothing started is left behind
        if isinstance(error, click.ClickException) and stopping.is_set():
            return  # a signal during start-up (the gateway ended with it)
        raise
    try:
        supervise(children, stopping)
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)


def _metrics_dir() -> Path:
    """A new directory for the workers' metric files, in memory (/dev/shm, else the temporary
    directory), never in the data directory: prometheus-client grows its files sparse and
    writes them through mmap, so on a full data disk every worker died of SIGBUS at its next
    request, again and again (found by tests/functional/web/test_full_disk.py)."""
    shm = Path("/dev/shm")
    return Path(tempfile.mkdtemp(prefix="goldticket-metrics-", dir=shm if shm.is_dir() else None))


def _start_gateway(children: list[Child], env: dict[str, str]) -> str:
    """Start the signing gateway (on <data>/signer.sock) and return its URL once it listens."""
    gateway = Child(
        "the signing gateway",
        [sys.executable, "-m", "goldticket.cli", "signer", "serve"],
        dict(env),
        ready_marker="signing gateway on ",
    )
    children.append(gateway)
    gateway.start()
    if not gateway.wait_ready(GATEWAY_START_TIMEOUT):
        raise click.ClickException("the signing gateway did not start (its errors are above)")
    return gateway.ready_line.rsplit(" ", 1)[-1]


def _gunicorn(host: str, port: int, workers: int, threads: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--worker-class",
        "web.worker.JsonErrorWorker",  # gthread, with gunicorn's own errors in the JSON envelope
        "--no-control-socket",
        "--graceful-timeout",
        "10",
        "web:create_app()",
    ]


def _stopped() -> threading.Event:
    stopped = threading.Event()
    stopped.set()
    return stopped
