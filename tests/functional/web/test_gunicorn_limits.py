"""Every answer gunicorn writes by itself, before the application sees the request, leaves in
the JSON envelope with application/json on a real `goldticket serve` (web/worker.py): each of
gunicorn's client errors, sent as raw bytes. test_error_envelope.py has the 414, the 10 KB header
and bytes that are not HTTP; these are the rest of gunicorn's list (workers/base.py
``handle_error``)."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from liveserver import Server, server_env

from goldticket.services import setup
from goldticket.settings import Settings

pytestmark = [pytest.mark.functional, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder: Path = tmp_path_factory.mktemp("limits")
    env = server_env(folder / "var")
    setup.init_portal(Settings.from_env(env)).close()
    with Server(env, folder / "serve.log", workers=1, threads=2) as running:
        yield running


def _send(server: Server, data: bytes) -> tuple[int, dict[str, str], bytes]:
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(data)
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except ConnectionResetError:
            pass
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value for name, value in (line.split(": ", 1) for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


HOST = b"Host: 127.0.0.1\r\n"
CASES = {
    # more than gunicorn's 100 header fields
    "too many headers": (
        b"GET /api/v1/healthz HTTP/1.1\r\n"
        + HOST
        + b"".join(b"X-%d: 1\r\n" % i for i in range(120))
        + b"\r\n",
        431,
        "headers_too_large",
    ),
    "a header over 8190 bytes": (
        b"GET /api/v1/healthz HTTP/1.1\r\n" + HOST + b"X-Big: " + b"b" * 9000 + b"\r\n\r\n",
        431,
        "headers_too_large",
    ),
    "a request line over 4094 bytes": (
        b"GET /api/v1/tickets?x=" + b"a" * 5000 + b" HTTP/1.1\r\n" + HOST + b"\r\n",
        414,
        "uri_too_long",
    ),
    "a header name that is not a token": (
        b"GET /api/v1/healthz HTTP/1.1\r\n" + HOST + b"Bad Name: 1\r\n\r\n",
        400,
        "invalid_input",
    ),
    "a method that is not a token": (
        b"G(T /api/v1/healthz HTTP/1.1\r\n" + HOST + b"\r\n",
        400,
        "invalid_input",
    ),
    "an HTTP version that is not HTTP/1.x": (
        b"GET /api/v1/healthz HTTP/7.1\r\n" + HOST + b"\r\n",
        400,
        "invalid_input",
    ),
    "a Content-Length that is not a number": (
        b"POST /api/v1/auth/token HTTP/1.1\r\n" + HOST + b"Content-Length: ten\r\n\r\n",
        400,
        "invalid_input",
    ),
    # gunicorn reads a chunked body while the application reads it (web/errors.py)
    "a chunk size that is not hex": (
        b"POST /api/v1/auth/token HTTP/1.1\r\n"
        + HOST
        + b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
        400,
        "invalid_input",
    ),
    "a chunk without its CRLF": (
        b"POST /api/v1/auth/token HTTP/1.1\r\n"
        + HOST
        + b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}XX0\r\n\r\n",
        400,
        "invalid_input",
    ),
    "a transfer coding gunicorn does not do": (
        b"POST /api/v1/auth/token HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: lzma\r\n\r\n0\r\n\r\n",
        501,
        "not_implemented",
    ),
    "an Expect other than 100-continue": (
        b"POST /api/v1/auth/token HTTP/1.1\r\n" + HOST + b"Expect: 200-ok\r\nContent-Length: 2\r\n\r\n{}",
        417,
        "expectation_failed",
    ),
    "a folded header line": (
        b"GET /api/v1/healthz HTTP/1.1\r\n" + HOST + b"X-A: 1\r\n  folded\r\n\r\n",
        400,
        "invalid_input",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_gunicorns_own_answer_is_in_the_envelope(server: Server, case: str) -> None:
    data, expected, code = CASES[case]
    status, headers, raw = _send(server, data)
    assert status == expected, (case, status, raw[:200])
    assert headers["content-type"] == "application/json", (case, headers)
    assert int(headers["content-length"]) == len(raw)
    body = json.loads(raw)
    assert set(body) == {"error", "message"} and body["message"], body
    assert body["error"] == code, (case, body)
    assert b"<" not in raw and b"bbbbbbbbbb" not in raw and b"aaaaaaaaaa" not in raw


def test_the_server_still_answers_after_them(server: Server) -> None:
    status, headers, raw = _send(
        server, b"GET /api/v1/healthz HTTP/1.1\r\n" + HOST + b"Connection: close\r\n\r\n"
    )
    assert status == 200 and json.loads(raw)["status"] == "ok"
