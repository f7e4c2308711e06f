"""``goldticket serve`` (the portal and API under gunicorn, with the signing gateway beside it)
and ``goldticket reindex`` (rebuild the read model from the ledger)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import click

from ._common import handles_errors, out, settings


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


def _start_gateway(env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    gateway = subprocess.Popen(
        [sys.executable, "-m", "goldticket.cli", "signer", "serve"],  # on <data>/signer.sock
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = gateway.stderr.readline() if gateway.stderr else ""
    if "signing gateway on " not in line:
        gateway.kill()
        raise click.ClickException(f"the signing gateway did not start: {line.strip()}")
    return gateway, line.strip().rsplit(" ", 1)[-1]


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8000, show_default=True)
@click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True)
@click.option("--threads", type=click.IntRange(1, 64), default=4, show_default=True)
@handles_errors
def serve(host: str, port: int, workers: int, threads: int) -> None:
    """Serve the portal and the API (gunicorn), and the signing gateway unless
    GOLDTICKET_SIGNER_URL names a running one. Stopping serve stops both."""
    from goldticket.services.portal import Portal
    from goldticket.signing.keystore import KeyStore

    current = settings()
    Portal.open(current).close()  # initialised? migrations applied once, before the workers start
    env = dict(os.environ)
    env["GOLDTICKET_DATA_DIR"] = str(current.data_dir)
    children: list[subprocess.Popen[str]] = []
    if not current.signer_url:
        env["GOLDTICKET_SIGNER_SECRET"] = current.signer_secret or KeyStore(current.data_dir).signer_secret()
        gateway, url = _start_gateway(env)
        children.append(gateway)
        env["GOLDTICKET_SIGNER_URL"] = url
        click.echo(f"signing gateway on {url}", err=True)
    metrics_dir = Path(current.data_dir) / "metrics"
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir(parents=True, mode=0o700)
    env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    command = [
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
    children.append(subprocess.Popen(command, env=env, text=True))
    click.echo(f"GoldTicket on http://{host}:{port}/ (API at /api/v1, health at /healthz)", err=True)
    _supervise(children)


def _supervise(children: list[subprocess.Popen[str]]) -> None:
    """Wait until a signal or until one child ends; then stop every child."""
    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        while not stopping and all(child.poll() is None for child in children):
            time.sleep(0.2)
    finally:
        for child in reversed(children):
            if child.poll() is None:
                child.terminate()
        for child in children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
    failed = [child.returncode for child in children if child.returncode not in (0, -signal.SIGTERM)]
    if failed and not stopping:
        sys.exit(1)
