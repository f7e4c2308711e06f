"""The signing gateway's HTTP face: ``goldticket signer serve``.

POST /v1/sign   {"serial", "pin", "purpose": "proposal"|"transaction"|"document", "message": base64,
                "intent", "document": base64 (purpose document only: the prepared PDF)}
                -> {"signature": base64}
POST /v1/pin    {"serial", "pin"} -> {"status": "proved"} (the PIN opens the card, which may sign;
                a wrong PIN counts as for a signature)
GET  /v1/cards/<serial>/identity -> {"msp_id", "certificate_pem"}
GET  /healthz   -> {"status": "ok"}
GET  /metrics   -> Prometheus text: signatures, refusals by code, locked cards (no serial, no PIN)

Every call but /healthz needs ``Authorization: Bearer <secret>`` (the per-deployment secret in
GOLDTICKET_SIGNER_SECRET or ``<data dir>/signer.secret``); bodies are limited to 256 KiB.
Errors are ``{"error": code, "message": sentence}`` with the API's statuses. It listens on a
Unix socket (0600) by default, or on TCP with mutual TLS, plain HTTP only on loopback
(``transport``). Every request, served or refused, leaves an audit line; no exception leaves a
request unanswered. The PIN is never logged: the access log prints method, path and status.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hmac
import json
import logging
import os
import socket
import socketserver
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from . import metrics
from .errors import SigningError
from .service import SigningService
from .transport import bind_unix_socket, check_plain_tcp, peer_is_client

MAX_BODY = 256 * 1024
# a document signature carries the prepared PDF (at most 2 MB, base64): its requests may be larger
MAX_DOCUMENT_BODY = 3 * 1024 * 1024
STATUS = {
    "wrong_pin": 403,
    "forbidden": 403,
    "card_locked": 423,
    "card_revoked": 423,
    "not_found": 404,
    "unauthenticated": 401,
    "invalid_input": 400,
    "conflict": 409,
    "rate_limited": 429,
    "internal_error": 500,
    "audit_failed": 503,  # a full disk: nothing was signed, try again
    "signing_failed": 500,
}
log = logging.getLogger("goldticket.signer")


class _Handler(BaseHTTPRequestHandler):
    server: GatewayServer | UnixGatewayServer
    protocol_version = "HTTP/1.1"
    timeout = 30  # seconds a connection may sit idle or half-sent

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        log.info("%s %s", self._caller(), format % args)

    def setup(self) -> None:
        super().setup()
        if self.connection.family in (socket.AF_INET, socket.AF_INET6):
            # a kept connection: the body written after the headers goes at once, not after the
            # caller's delayed ACK of the headers (Nagle; ~40 ms a request)
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def handle(self) -> None:
        try:
            super().handle()
        except ssl.SSLError as error:
            # a TLS handshake refused: no client certificate, or one of another CA
            self.close_connection = True
            self._audit_refusal("unauthenticated", f"TLS handshake failed: {error.reason or 'refused'}", {})
        except (ConnectionError, TimeoutError) as error:
            self.close_connection = True  # the caller went away or stalled mid-request
            self._audit_refusal("connection_failed", f"connection failed: {type(error).__name__}", {})

    def _reply(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(
        self,
        code: str,
        message: str,
        entry: dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        """Refuse the request; unless ``sign`` already audited it (``entry`` None), audit it."""
        if entry is not None:
            self._audit_refusal(code, message, entry)
        self._reply(STATUS.get(code, 400), {"error": code, "message": message, **(extra or {})})

    def _audit_refusal(self, code: str, message: str, entry: dict[str, Any]) -> None:
        try:
            self.server.service.refuse(
                {
                    "caller": self._caller(),
                    "path": str(getattr(self, "path", ""))[:200],
                    **entry,
                    "code": code,
                    "reason": message,
                }
            )
        except Exception:  # noqa: BLE001 - the refusal stands even if the log cannot take it
            log.exception("could not audit a refused gateway request")

    def _caller(self) -> str:
        address = self.client_address
        return str(address[0]) if isinstance(address, tuple) and address else "unix socket"

    def _authenticated(self) -> bool:
        if self.server.tls is not None and not peer_is_client(self.connection.getpeercert()):
            self._error("unauthenticated", "the signing gateway needs its client certificate", {})
            return False
        header = self.headers.get("Authorization", "")
        supplied = header[7:].encode() if header.startswith("Bearer ") else b""
        if not hmac.compare_digest(supplied, self.server.secret):
            self._error("unauthenticated", "the signing gateway needs its deployment secret", {})
            return False
        return True

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._guarded(self._get)

    def do_POST(self) -> None:  # noqa: N802
        self._guarded(self._post)

    def _guarded(self, handle: Any) -> None:
        """No exception leaves a request unanswered or unaudited."""
        try:
            handle()
        except SigningError as error:
            # a refusal raised outside the signing service's own answer: the audit line of a
            # request served could not be written (audit_failed on a full disk, a 503 to try
            # again, not a failure); not audited again, the log is what failed
            log.error("gateway request refused: %s", error.code)
            self.close_connection = True
            with contextlib.suppress(OSError):
                self._error(error.code, str(error))
        except Exception as error:  # noqa: BLE001 - answered and audited below
            log.error("gateway request failed: %s", type(error).__name__)
            self.close_connection = True
            with contextlib.suppress(OSError):  # the caller may have gone away
                self._error("internal_error", "the signing gateway failed on this request", {})

    def _get(self) -> None:
        if self.path == "/healthz":
            self._reply(200, {"status": "ok"})
            return
        if not self._authenticated():
            return
        if self.path == "/metrics":
            data = metrics.exposition(self.server.service.registry)
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        parts = self.path.strip("/").split("/")
        if len(parts) == 4 and parts[:2] == ["v1", "cards"] and parts[3] == "identity":
            entry = {"purpose": "identity", "card": parts[2][:200]}
            try:
                identity = self.server.service.identity(parts[2])
            except SigningError as error:
                self._error(error.code, str(error), entry)
                return
            self.server.service.record({"caller": self._caller(), **entry, "result": "served"})
            self._reply(
                200, {"msp_id": identity.msp_id, "certificate_pem": identity.certificate_pem.decode()}
            )
            return
        self._error("not_found", "no such endpoint", {})

    def _post(self) -> None:
        if not self._authenticated():
            return
        if self.path not in ("/v1/sign", "/v1/pin"):
            self._error("not_found", "no such endpoint", {})
            return
        purpose = "sign" if self.path == "/v1/sign" else "pin"
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        limit = MAX_DOCUMENT_BODY if purpose == "sign" else MAX_BODY
        if length <= 0 or length > limit:
            self.close_connection = True
            self._error("invalid_input", f"the body must be 1 to {limit} bytes", {"purpose": purpose})
            return
        if purpose == "pin":
            self._prove_pin(self.rfile.read(length))
            return
        try:
            body = json.loads(self.rfile.read(length))
            message = base64.b64decode(body["message"], validate=True)
            serial, pin, purpose = str(body["serial"]), body["pin"], str(body["purpose"])
            document = body.get("document")
            if document is not None:
                document = base64.b64decode(document, validate=True)
            if purpose != "document" and len(message) > MAX_BODY:
                raise ValueError("only a document signature's request may be that large")
        except (ValueError, KeyError, TypeError, binascii.Error):
            self._error(
                "invalid_input",
                "the body must be JSON with serial, pin, purpose, message and intent",
                {"purpose": "sign"},
            )
            return
        try:
            signature = self.server.service.sign(
                serial=serial,
                pin=pin,
                purpose=purpose,
                message=message,
                intent=body.get("intent"),
                caller=self._caller(),
                document=document,
            )
        except SigningError as error:
            left = getattr(error, "tries_left", None)  # a wrong PIN: the tries before the card locks
            self._error(error.code, str(error), extra={"tries_left": left} if isinstance(left, int) else None)
            return
        self._reply(200, {"signature": base64.b64encode(signature).decode()})

    def _prove_pin(self, raw: bytes) -> None:
        try:
            body = json.loads(raw)
            serial, pin = str(body["serial"]), body["pin"]
        except (ValueError, KeyError, TypeError):
            self._error("invalid_input", "the body must be JSON with serial and pin", {"purpose": "pin"})
            return
        try:
            self.server.service.prove_pin(serial=serial, pin=pin, caller=self._caller())
        except SigningError as error:
            left = getattr(error, "tries_left", None)
            self._error(error.code, str(error), extra={"tries_left": left} if isinstance(left, int) else None)
            return
        self._reply(200, {"status": "proved"})


def _check_secret(secret: bytes) -> None:
    if len(secret) < 16:
        raise ValueError("the gateway secret must be at least 16 bytes")


class _ClosesConnections:
    """Callers keep their connections between requests (HTTP/1.1 keep-alive); a gateway that
    closes stops serving them too, so no request is signed by a gateway that was stopped."""

    def _track_connections(self) -> None:
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)  # type: ignore[misc]

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)  # type: ignore[misc]

    def server_close(self) -> None:
        super().server_close()  # type: ignore[misc]
        with self._open_lock:
            still_open, self._open = list(self._open), set()
        for request in still_open:
            with contextlib.suppress(OSError):
                request.shutdown(socket.SHUT_RDWR)


class GatewayServer(_ClosesConnections, ThreadingHTTPServer):
    """The gateway over TCP: mutual TLS with ``tls`` (transport.server_context), else plain
    HTTP, which it allows on loopback only."""

    daemon_threads = True
    request_queue_size = 128  # a portal's workers sign in bursts; the default backlog is 5

    def __init__(
        self,
        address: tuple[str, int],
        service: SigningService,
        secret: bytes,
        *,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        _check_secret(secret)
        self._track_connections()
        if tls is None:
            check_plain_tcp(str(address[0]))
        super().__init__(address, _Handler)
        self.service = service
        self.secret = secret
        self.tls = tls
        if tls is not None:  # the handshake happens in the request's thread, on its first read
            self.socket = tls.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"{'https' if self.tls else 'http'}://{host!s}:{port}"

    def start_in_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, name="signing-gateway", daemon=True)
        thread.start()
        return thread


class UnixGatewayServer(_ClosesConnections, socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    """The gateway on a Unix socket (mode 0600): the default transport."""

    daemon_threads = True
    request_queue_size = 128
    tls: ssl.SSLContext | None = None

    def __init__(self, path: str | os.PathLike[str], service: SigningService, secret: bytes) -> None:
        _check_secret(secret)
        self._track_connections()
        self.path = Path(path).absolute()  # the URL names it from anywhere
        super().__init__(str(self.path), _Handler, bind_and_activate=False)
        self.socket.close()
        self.socket = bind_unix_socket(self.path)
        self.service = service
        self.secret = secret

    @property
    def url(self) -> str:
        return f"unix://{self.path}"

    def server_close(self) -> None:
        super().server_close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def start_in_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, name="signing-gateway", daemon=True)
        thread.start()
        return thread
