"""`goldticket serve` on a port another program already listens on: a clear error and a non-zero
exit at once, before anything is opened or made. Before, gunicorn failed to bind, `serve`
started it again and again, and the ready line named a URL where the other program answered
(found by CI: a signing gateway on `--port 0` had taken the port a test's portal was to use and
answered its health check)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.functional]


def _serve(arguments: list[str], env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    """`goldticket serve` in a process group of its own; on timeout the whole group is killed
    (a `serve` that kept running would leave its gateway and gunicorn behind) and the test fails."""
    process = subprocess.Popen(
        [sys.executable, "-m", "goldticket.cli", "serve", *arguments],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        pytest.fail(f"serve kept running on a port it cannot use: {stderr[-800:]}")
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def test_serve_refuses_a_port_another_program_listens_on(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        env = {**os.environ, "GOLDTICKET_DATA_DIR": str(data_dir), "GOLDTICKET_ENV": "test"}
        for name in ("GOLDTICKET_PORT", "GOLDTICKET_HOST", "GOLDTICKET_SIGNER_URL"):
            env.pop(name, None)
        result = _serve(["--port", str(port)], env, timeout=30)
    assert result.returncode != 0
    assert f"port {port} on 127.0.0.1 is in use by another program" in result.stderr, result.stderr
    assert "ready" not in result.stderr
    assert not data_dir.exists()  # nothing was opened or made


def test_serve_names_an_address_it_cannot_listen_on(tmp_path: Path) -> None:
    """192.0.2.1 (TEST-NET-1, RFC 5737) is no address of this machine: no DNS asked."""
    env = {**os.environ, "GOLDTICKET_DATA_DIR": str(tmp_path / "var"), "GOLDTICKET_ENV": "test"}
    env.pop("GOLDTICKET_SIGNER_URL", None)
    result = _serve(["--host", "192.0.2.1", "--port", "8000"], env, timeout=60)
    assert result.returncode != 0
    assert "cannot listen on 192.0.2.1:8000" in result.stderr, result.stderr
    assert not (tmp_path / "var").exists()


def test_an_initialised_portal_is_not_served_on_a_taken_port(tmp_path: Path) -> None:
    """What users met: a data directory ready to serve, its port held by another program."""
    from liveserver import server_env

    from goldticket.services import setup
    from goldticket.settings import Settings

    env = server_env(tmp_path / "var")
    setup.init_portal(Settings.from_env(env)).close()
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        result = _serve(["--port", str(port)], env, timeout=20)
    assert result.returncode != 0
    assert f"port {port} on 127.0.0.1 is in use by another program" in result.stderr, result.stderr
    assert "GoldTicket is ready" not in result.stderr
