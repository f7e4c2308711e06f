"""The gunicorn worker that ``goldticket serve`` runs: gunicorn's threaded worker, except that
the answers gunicorn writes itself, before the application sees a request (a request line or
a header over its limits, a request that is not HTTP), leave in the JSON envelope of every other
error instead of gunicorn's HTML page.

gunicorn's ``Worker.handle_error`` picks the status for the exception, logs it and writes a
page through ``util.write_error`` onto the client's socket. This worker hands it the socket
wrapped: what gunicorn decided (the status line) is kept; its HTML body becomes
``{"error", "message"}``. gunicorn's limits themselves stay as configured.
"""

from __future__ import annotations

import itertools
import json
import os
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any

from gunicorn.workers.gthread import ThreadWorker

from .errors import HTTP_CODES


def messages(cfg: Any) -> dict[int, str]:
    """Our sentence for each status gunicorn answers by itself (never an echo of the input)."""
    return {
        400: "the request is not valid HTTP/1.1",
        403: "the request is forbidden",
        414: f"the request line (method, path and query) is longer than {cfg.limit_request_line} bytes",
        417: "the Expect header asks for something this server does not do",
        431: (
            f"a request header is longer than {cfg.limit_request_field_size} bytes,"
            f" or there are more than {cfg.limit_request_fields} headers"
        ),
        501: "the request's transfer coding is not supported",
    }


def json_error_page(page: bytes, cfg: Any) -> bytes:
    """gunicorn's error page (``HTTP/1.1 <status> <reason>`` ... HTML) as the JSON envelope
    with the same status line."""
    status_line = page.split(b"\r\n", 1)[0]
    try:
        status = int(status_line.split()[1])
    except (IndexError, ValueError):
        status_line, status = b"HTTP/1.1 500 Internal Server Error", 500
    code = HTTP_CODES.get(status, "invalid_input" if status < 500 else "internal_error")
    message = messages(cfg).get(status, "the server failed; the request id is in the logs")
    body = json.dumps({"error": code, "message": message}).encode()
    head = b"\r\n".join(
        [
            status_line,
            b"Connection: close",
            b"Content-Type: application/json",
            b"Content-Length: " + str(len(body)).encode(),
        ]
    )
    return head + b"\r\n\r\n" + body


class _JsonErrorSocket:
    """The client socket as gunicorn writes its error page onto it."""

    def __init__(self, sock: Any, cfg: Any) -> None:
        self._sock, self._cfg = sock, cfg

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)

    def sendall(self, data: bytes) -> None:
        self._sock.sendall(json_error_page(data, self._cfg))


def trace_memory(folder: str, every: float) -> threading.Thread:
    """Diagnosis of memory growth (bench/soak.py --tracemalloc): trace this process's
    allocations and write a snapshot into ``folder`` every ``every`` seconds, as
    ``<pid>-<n>.tmsnap`` (0600). Slows the process; never on in production by default."""
    tracemalloc.start(int(os.environ.get("GOLDTICKET_TRACEMALLOC_FRAMES", "8")))
    target = Path(folder)
    target.mkdir(mode=0o700, parents=True, exist_ok=True)
    pid = os.getpid()

    def write() -> None:
        for number in itertools.count():
            time.sleep(every)
            snapshot = tracemalloc.take_snapshot().filter_traces(
                (tracemalloc.Filter(False, tracemalloc.__file__), tracemalloc.Filter(False, "<unknown>"))
            )
            path = target / f"{pid}-{number:04d}.tmsnap"
            partial = path.with_suffix(".part")
            os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
            snapshot.dump(str(partial))
            partial.replace(path)

    thread = threading.Thread(target=write, name="tracemalloc", daemon=True)
    thread.start()
    return thread


class JsonErrorWorker(ThreadWorker):  # type: ignore[misc]
    """``gthread`` with its error pages in the JSON envelope (see the module's docstring).
    With ``GOLDTICKET_TRACEMALLOC_DIR`` set, it traces its memory (``trace_memory``)."""

    def init_process(self) -> None:
        folder = os.environ.get("GOLDTICKET_TRACEMALLOC_DIR")
        if folder:
            trace_memory(folder, float(os.environ.get("GOLDTICKET_TRACEMALLOC_SECONDS", "60")))
        super().init_process()

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        super().handle_error(req, _JsonErrorSocket(client, self.cfg), addr, exc)
