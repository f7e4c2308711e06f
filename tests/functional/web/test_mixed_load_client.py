"""The load tool's client: an answer cut in the middle of its body (the worker serving it killed
by a drill) is no answer, as a connection reset is, and never an exception that marks the
client broken (CI: `IncompleteRead(0 bytes read, 7591 more expected)` failed a worker drill)."""

from __future__ import annotations

import random
import socket
import threading
import time

import mixed_load
import pytest

pytestmark = [pytest.mark.functional]


def _cut_answers(server: socket.socket) -> None:
    """Answer each connection with a header promising 100 bytes, send 10, and hang up."""
    while True:
        try:
            connection, _ = server.accept()
        except OSError:
            return
        with connection:
            connection.recv(65536)
            connection.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
            )
            connection.sendall(b'{"items": ')


def test_an_answer_cut_mid_body_is_no_answer() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        threading.Thread(target=_cut_answers, args=(server,), daemon=True).start()
        client = mixed_load.Client(
            url=f"http://127.0.0.1:{server.getsockname()[1]}",
            tokens={"tier1.clerk": "token"},
            name="c0",
            maturity="2027-06-01",
            today="2026-12-01",
            started=time.perf_counter(),
            rng=random.Random(0),
        )
        status, answer = client.request("list", "tier1.clerk", "GET", "/tickets")
    assert status is None and "IncompleteRead" in str(answer)
    assert [attempt.status for attempt in client.attempts] == [None]
    assert client.broken == []
