"""The signing gateway's HTTP face: ``goldticket signer serve``.

POST /v1/sign   {"serial", "pin", "purpose": "proposal"|"transaction", "message": base64, "intent"}
                -> {"signature": base64}
GET  /v1/cards/<serial>/identity -> {"msp_id", "certificate_pem"}
GET  /healthz   -> {"status": "ok"}

Every call but /healthz needs ``Authorization: Bearer <secret>`` (the per-deployment secret in
GOLDTICKET_SIGNER_SECRET or ``<data dir>/signer.secret``); bodies are limited to 256 KiB.
Errors are ``{"error": code, "message": sentence}`` with the API's statuses. It listens on
127.0.0.1 by default. The PIN is never logged: the access log prints method, path and status.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .errors import SigningError
from .service import SigningService

MAX_BODY = 256 * 1024
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
}
log = logging.getLogger("goldticket.signer")


class _Handler(BaseHTTPRequestHandler):
    server: GatewayServer
    protocol_version = "HTTP/1.1"
    timeout = 30  # seconds a connection may sit idle or half-sent

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        log.info("%s %s", self.address_string(), format % args)

    def _reply(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, code: str, message: str) -> None:
        self._reply(STATUS.get(code, 400), {"error": code, "message": message})

    def _authenticated(self) -> bool:
        header = self.headers.get("Authorization", "")
        supplied = header[7:].encode() if header.startswith("Bearer ") else b""
        if not hmac.compare_digest(supplied, self.server.secret):
            self._error("unauthenticated", "the signing gateway needs its deployment secret")
            return False
        return True

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        if self.path == "/healthz":
            self._reply(200, {"status": "ok"})
            return
        if not self._authenticated():
            return
        parts = self.path.strip("/").split("/")
        if len(parts) == 4 and parts[:2] == ["v1", "cards"] and parts[3] == "identity":
            try:
                identity = self.server.service.identity(parts[2])
            except SigningError as error:
                self._error(error.code, str(error))
                return
            self._reply(
                200, {"msp_id": identity.msp_id, "certificate_pem": identity.certificate_pem.decode()}
            )
            return
        self._error("not_found", "no such endpoint")

    def do_POST(self) -> None:  # noqa: N802
        if not self._authenticated():
            return
        if self.path != "/v1/sign":
            self._error("not_found", "no such endpoint")
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length <= 0 or length > MAX_BODY:
            self.close_connection = True
            self._error("invalid_input", f"the body must be 1 to {MAX_BODY} bytes")
            return
        try:
            body = json.loads(self.rfile.read(length))
            message = base64.b64decode(body["message"], validate=True)
            serial, pin, purpose = str(body["serial"]), body["pin"], str(body["purpose"])
        except (ValueError, KeyError, TypeError, binascii.Error):
            self._error(
                "invalid_input", "the body must be JSON with serial, pin, purpose, message and intent"
            )
            return
        try:
            signature = self.server.service.sign(
                serial=serial,
                pin=pin,
                purpose=purpose,
                message=message,
                intent=body.get("intent"),
                caller=self.client_address[0],
            )
        except SigningError as error:
            self._error(error.code, str(error))
            return
        self._reply(200, {"signature": base64.b64encode(signature).decode()})


class GatewayServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], service: SigningService, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the gateway secret must be at least 16 bytes")
        super().__init__(address, _Handler)
        self.service = service
        self.secret = secret

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def start_in_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, name="signing-gateway", daemon=True)
        thread.start()
        return thread
