"""``goldticket serve`` (the portal and API under gunicorn, with the signing gateway beside it)
and ``goldticket reindex`` (rebuild the read model from the ledger)."""

from __future__ import annotations

import errno
import os
import shutil
import socket
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import click

from goldticket.settings import DEFAULT_HOST, DEFAULT_PORT, WILDCARD_HOSTS, Settings, served_url

from ._common import handles_errors, out, settings
from ._supervise import Child, stop_on_signals, supervise

GATEWAY_START_TIMEOUT = 60.0
READY_TIMEOUT = 120.0  # how long `serve` waits for its first page before it stops asking


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
@click.option("--host", envvar="GOLDTICKET_HOST", default=DEFAULT_HOST, show_default=True)
@click.option(
    "--port", envvar="GOLDTICKET_PORT", type=click.IntRange(1, 65535), default=DEFAULT_PORT, show_default=True
)
@click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True)
@click.option("--threads", type=click.IntRange(1, 64), default=4, show_default=True)
@handles_errors
def serve(host: str, port: int, workers: int, threads: int) -> None:
    """Serve the portal and the API (gunicorn), and the signing gateway unless
    GOLDTICKET_SIGNER_URL names a running one. Either is started again when it ends (after
    0.5 s, doubling to 10 s while it keeps failing); SIGTERM or SIGINT stops both. Once the
    first page answers it says where the portal is (and the demo's logins, if it has them).
    GOLDTICKET_PUBLIC_URL (the certificates' QR codes) is, unless set, the URL served here."""
    from goldticket.services.certificates import make_document_signer
    from goldticket.services.portal import Portal
    from goldticket.signing.keystore import KeyStore

    _refuse_a_taken_port(host, port)
    current = settings()
    portal = Portal.open(current)  # initialised? migrations applied once, before the workers start
    try:
        # a directory made before `goldticket init` made the document-signing token gets it
        # here, before the workers start, rather than from the first certificates at once
        make_document_signer(portal.platform)
    finally:
        portal.close()
    env = dict(os.environ)
    env["GOLDTICKET_DATA_DIR"] = str(current.data_dir)
    if not env.get("GOLDTICKET_PUBLIC_URL"):
        env["GOLDTICKET_PUBLIC_URL"] = served_url(host, port)
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
            threading.Thread(
                target=_say_when_ready,
                args=(host, port, env["GOLDTICKET_PUBLIC_URL"], current, stopping),
                name="ready",
                daemon=True,
            ).start()
    except BaseException as error:
        supervise(children, _stopped())  # nothing started is left behind
        if isinstance(error, click.ClickException) and stopping.is_set():
            return  # a signal during start-up (the gateway ended with it)
        raise
    try:
        supervise(children, stopping)
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)


def _refuse_a_taken_port(host: str, port: int) -> None:
    """Stop at once, before anything is opened, when the port cannot be listened on: gunicorn
    would try five times and end, ``serve`` would start it again and again, and meanwhile the
    program that holds the port would answer at the URL the ready line names (found by CI: a
    signing gateway on ``--port 0`` had taken a test portal's port). A port is still taken if
    another program binds it between this check and gunicorn's own bind."""
    bound = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        family, kind, protocol, _, address = socket.getaddrinfo(
            bound or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as error:
        raise click.ClickException(f"cannot listen on {host}:{port}: {error.strerror}") from error
    with socket.socket(family, kind, protocol) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn does
        try:
            probe.bind(address)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise click.ClickException(
                    f"port {port} on {host} is in use by another program: stop it, or serve on"
                    " another port (--port or GOLDTICKET_PORT)"
                ) from error
            raise click.ClickException(f"cannot listen on {host}:{port}: {error.strerror}") from error


def _metrics_dir() -> Path:
    """A new directory for the workers' metric files, in memory (/dev/shm, else the temporary
    directory), never in the data directory: prometheus-client grows its files sparse and
    writes them through mmap, so on a full data disk every worker died of SIGBUS at its next
    request, again and again (found by tests/functional/web/test_full_disk.py)."""
    shm = Path("/dev/shm")
    return Path(tempfile.mkdtemp(prefix="goldticket-metrics-", dir=shm if shm.is_dir() else None))


def _say_when_ready(
    host: str, port: int, public_url: str, current: Settings, stopping: threading.Event
) -> None:
    """Ask for the first page until it answers (below 500), then say where the portal is."""
    probe_host = {"::": "[::1]", "[::]": "[::1]"}.get(host, "127.0.0.1" if host in WILDCARD_HOSTS else host)
    probe = served_url(probe_host, port) + "/"
    deadline = time.monotonic() + READY_TIMEOUT
    while not stopping.is_set() and time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(probe, timeout=5) as response:
                answered = response.status < 500
        except urllib.error.HTTPError as error:
            answered = error.code < 500
        except OSError:
            answered = False
        if answered:
            break
        stopping.wait(0.2)
    else:
        return
    lines = [
        f"GoldTicket is ready: the portal at {served_url(host, port)}/ (API at /api/v1, health at /healthz)"
    ]
    if public_url.rstrip("/") != served_url(host, port):
        lines.append(f"  QR codes and links name {public_url} (GOLDTICKET_PUBLIC_URL)")
    lines.extend(_demo_lines(current))
    click.echo("\n".join(lines), err=True)


def _demo_lines(current: Settings) -> list[str]:
    from goldticket.services.accounts import DEMO_PASSWORD
    from goldticket.services.demo import recorded_demo

    made = recorded_demo(current.data_dir, current.ledger)
    if not made or not made.get("logins"):
        return []
    return [
        f"  demo logins: {', '.join(made['logins'])} (password {DEMO_PASSWORD!r}; card PINs in the README)",
        "  stop with Ctrl-C; the next `make run` reuses this data and its demo",
    ]


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
