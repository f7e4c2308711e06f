"""Every error in the JSON envelope, including the ones gunicorn answers before the
application sees the request (a request line or a header over its limits, bytes that are not
HTTP), on a real `goldticket serve`; a 405 names the allowed methods; the OpenAPI document says
which media type each operation answers, and the server answers it."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from liveserver import Server, request, server_env

from goldticket.services import setup
from goldticket.settings import Settings

pytestmark = [pytest.mark.functional, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder: Path = tmp_path_factory.mktemp("errors")
    env = server_env(folder / "var")
    setup.init_portal(Settings.from_env(env)).close()
    with Server(env, folder / "serve.log", workers=1, threads=2) as running:
        yield running


def _envelope(status: int, headers: dict[str, str], raw: bytes) -> dict[str, str]:
    assert headers["Content-Type"].startswith("application/json"), (status, headers, raw[:200])
    body = json.loads(raw)
    assert set(body) == {"error", "message"} and body["message"], body
    return body  # type: ignore[no-any-return]


def _raw(server: Server, data: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are; the status, headers and body of the answer."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(data)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, body


def test_a_request_line_over_the_limit_is_414_in_the_envelope(server: Server) -> None:
    status, headers, raw = request(f"{server.url}/api/v1/tickets?status={'A' * 5000}")
    assert status == 414
    body = _envelope(status, headers, raw)
    assert body["error"] == "uri_too_long" and "A" * 10 not in body["message"]


def test_a_10_kb_header_is_431_in_the_envelope(server: Server) -> None:
    status, headers, raw = request(f"{server.url}/api/v1/healthz", headers={"X-Big": "b" * 10_240})
    assert status == 431
    assert _envelope(status, headers, raw)["error"] == "headers_too_large"


def test_bytes_that_are_not_http_are_400_in_the_envelope(server: Server) -> None:
    status, headers, raw = _raw(server, b"\x16\x03\x01 hello there\r\n\r\n")
    assert status == 400
    assert _envelope(status, headers, raw)["error"] == "invalid_input"


def test_trace_is_405_with_allow_in_the_envelope(server: Server) -> None:
    for path, allowed in (
        ("/api/v1/tickets", {"GET", "POST"}),
        ("/healthz", {"GET"}),
        ("/api/v1/certificates/signing-certificate", {"GET"}),
    ):
        status, headers, raw = request(server.url + path, "TRACE")
        assert status == 405, path
        assert _envelope(status, headers, raw)["error"] == "method_not_allowed"
        assert allowed <= {method.strip() for method in headers["Allow"].split(",")}, headers


def test_the_openapi_document_names_the_media_type_each_answer_has(server: Server) -> None:
    status, _, raw = request(server.url + "/api/v1/openapi.json")
    paths = json.loads(raw)["paths"]

    def media(path: str, method: str = "get") -> set[str]:
        responses = paths[path][method]["responses"]
        return {
            kind for code, answer in responses.items() if code.startswith("2") for kind in answer["content"]
        }

    status, headers, raw = request(server.url + "/api/v1/certificates/signing-certificate")
    assert status == 200 and raw.count(b"-----BEGIN CERTIFICATE-----") == 2
    assert media("/api/v1/certificates/signing-certificate") == {headers["Content-Type"].split(";")[0]}
    assert media("/api/v1/tickets/{ticket_id}/certificate") == {"application/pdf"}
    assert media("/api/v1/tickets/{root_id}/statements/{statement_id}") == {"application/pdf"}
    assert media("/api/v1/tickets") == {"application/json"}
    upload = paths["/api/v1/certificates/verify"]["post"]["requestBody"]["content"]
    assert upload["multipart/form-data"]["schema"]["required"] == ["file"]
    assert set(upload) == {"multipart/form-data", "application/pdf"}
