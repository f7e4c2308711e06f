"""Signers that sign through the signing service, in-process or over HTTP, for one intent.

``IntentSigner`` is a Signer: services and both ledger adapters use it without knowing where
the card is. It carries the PIN for one operation and forgets it with the operation.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import socket
import ssl
import threading
import time
import urllib.parse
import weakref
from pathlib import Path
from typing import Any, Protocol

from goldticket.messages import Identity

from .errors import (
    AuditLogError,
    CardLockedError,
    CardNotFoundError,
    CardRevokedError,
    GatewayUnavailableError,
    RefusedError,
    SigningError,
    UnauthenticatedError,
    WrongPinError,
)
from .interfaces import Signer
from .service import RateLimitedError
from .transport import TransportError, client_context

IDENTITY_MEMORY = 10_000  # card identities a GatewayClient remembers
# A thread's connection to the gateway is kept for its next request (HTTP/1.1 keep-alive) while
# it has been idle less than this; the gateway drops connections idle for 30 s (_Handler.timeout).
KEEP_IDLE = 15.0
# The errors of a kept connection the gateway closed before answering (it restarted, or dropped
# an idle connection at that moment): the request is sent once more on a new connection.
_STALE = (ConnectionResetError, BrokenPipeError, ConnectionAbortedError, http.client.RemoteDisconnected)

ERRORS: dict[str, type[SigningError]] = {
    "wrong_pin": WrongPinError,
    "card_locked": CardLockedError,
    "card_revoked": CardRevokedError,
    "not_found": CardNotFoundError,
    "forbidden": RefusedError,
    "unauthenticated": UnauthenticatedError,
    "rate_limited": RateLimitedError,
    # the gateway could not write its audit log, registry or token files (a full disk): nothing
    # was signed, try again (the web's 503 with Retry-After; unknown, it was a 502)
    "audit_failed": AuditLogError,
}


class SigningBackend(Protocol):
    def identity(self, serial: str) -> Identity: ...

    def sign(
        self,
        *,
        serial: str,
        pin: str,
        purpose: str,
        message: bytes,
        intent: Any,
        caller: str = ...,
        document: bytes | None = ...,
    ) -> bytes: ...

    def prove_pin(self, *, serial: str, pin: str, caller: str = ...) -> None: ...


class GatewayClient:
    """The signing gateway with the deployment secret, at ``unix:///path``, ``https://host:port``
    (mutual TLS with the files in ``tls_dir``, see ``transport``) or ``http://127.0.0.1:port``."""

    def __init__(self, url: str, secret: str, timeout: float = 10.0, *, tls_dir: Path | None = None) -> None:
        self.url = url.rstrip("/")
        self._secret = secret
        self._identities: dict[str, Identity] = {}  # serial -> identity (see identity())
        self._timeout = timeout
        parsed = urllib.parse.urlsplit(self.url)
        self._scheme = parsed.scheme
        if parsed.scheme == "unix":
            self._address: str | tuple[str, int] = parsed.path
        elif parsed.scheme in ("http", "https") and parsed.hostname:
            self._address = (parsed.hostname, parsed.port or (443 if parsed.scheme == "https" else 80))
        else:
            raise TransportError(f"GOLDTICKET_SIGNER_URL must be unix://, https:// or http://, not {url!r}")
        self._kept = threading.local()  # this thread's _Kept connection
        self._tls: ssl.SSLContext | None = None
        if parsed.scheme == "https":
            if tls_dir is None:
                raise TransportError(
                    "an https signing gateway needs the TLS files (GOLDTICKET_SIGNER_TLS_DIR)"
                )
            self._tls = client_context(tls_dir)

    def _connection(self) -> http.client.HTTPConnection:
        if isinstance(self._address, str):
            return _UnixConnection(self._address, self._timeout)
        host, port = self._address
        if self._tls is not None:
            return http.client.HTTPSConnection(host, port, timeout=self._timeout, context=self._tls)
        return http.client.HTTPConnection(host, port, timeout=self._timeout)

    def _kept_connection(self) -> tuple[http.client.HTTPConnection, bool]:
        """This thread's kept connection (and True) while fresh, else a new one (and False).
        A connection is never used by another thread, nor by a process forked after it."""
        kept: _Kept | None = getattr(self._kept, "held", None)
        self._kept.held = None
        if kept is not None and kept.pid == os.getpid() and time.monotonic() - kept.last < KEEP_IDLE:
            return kept.take(), True
        return self._connection(), False

    def _exchange(
        self, method: str, path: str, data: bytes | None, headers: dict[str, str]
    ) -> tuple[int, bytes]:
        for attempt in (1, 2):
            connection, kept = self._kept_connection()
            try:
                connection.request(method, path, body=data, headers=headers)
                response = connection.getresponse()
                status, raw = response.status, response.read()
            except _STALE as error:
                connection.close()
                if kept and attempt == 1:
                    continue  # the gateway closed the kept connection: once more on a new one
                raise GatewayUnavailableError(f"the signing gateway at {self.url} is unreachable") from error
            except (OSError, http.client.HTTPException) as error:
                connection.close()
                raise GatewayUnavailableError(f"the signing gateway at {self.url} is unreachable") from error
            if response.will_close:
                connection.close()
            else:
                self._kept.held = _Kept(connection)
            return status, raw
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        """Close this thread's kept connection (another thread's closes when that thread ends)."""
        self._kept.held = None

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Authorization": f"Bearer {self._secret}", "Content-Type": "application/json"}
        status, raw = self._exchange(method, path, data, headers)
        try:
            payload = json.loads(raw)
        except ValueError:
            raise GatewayUnavailableError(f"the signing gateway answered HTTP {status}") from None
        if status >= 400:
            if not isinstance(payload, dict) or "error" not in payload or "message" not in payload:
                raise GatewayUnavailableError(f"the signing gateway answered HTTP {status}")
            kind = ERRORS.get(str(payload["error"]), SigningError)
            left = payload.get("tries_left")
            if kind is WrongPinError and isinstance(left, int) and not isinstance(left, bool):
                raise WrongPinError(str(payload["message"]), left)
            raise kind(str(payload["message"]))
        return payload  # type: ignore[no-any-return]

    def reachable(self, timeout: float = 1.0) -> bool:
        """Whether the gateway answers its /healthz within ``timeout`` seconds."""
        connection = self._connection()
        connection.timeout = timeout
        try:
            connection.request("GET", "/healthz")
            return connection.getresponse().status == 200
        except (OSError, http.client.HTTPException):
            return False
        finally:
            connection.close()

    def metrics_text(self, timeout: float = 2.0) -> str:
        """The gateway's Prometheus metrics (GET /metrics). Raises GatewayUnavailableError."""
        connection = self._connection()
        connection.timeout = timeout
        try:
            connection.request("GET", "/metrics", headers={"Authorization": f"Bearer {self._secret}"})
            response = connection.getresponse()
            status, raw = response.status, response.read()
        except (OSError, http.client.HTTPException) as error:
            raise GatewayUnavailableError(f"the signing gateway at {self.url} is unreachable") from error
        finally:
            connection.close()
        if status != 200:
            raise GatewayUnavailableError(f"the signing gateway answered HTTP {status} for its metrics")
        return raw.decode("utf-8", "replace")

    def identity(self, serial: str) -> Identity:
        """The card's MSP and certificate, asked once per client: both are set when the card is
        issued and never change under its serial (a card not issued is asked again each time)."""
        known = self._identities.get(serial)
        if known is not None:
            return known
        data = self._call("GET", f"/v1/cards/{serial}/identity")
        identity = Identity(data["msp_id"], data["certificate_pem"].encode())
        if len(self._identities) >= IDENTITY_MEMORY:
            self._identities.clear()
        self._identities[serial] = identity
        return identity

    def sign(
        self,
        *,
        serial: str,
        pin: str,
        purpose: str,
        message: bytes,
        intent: Any,
        caller: str = "",
        document: bytes | None = None,
    ) -> bytes:
        body = {
            "serial": serial,
            "pin": pin,
            "purpose": purpose,
            "intent": intent,
            "message": base64.b64encode(message).decode(),
        }
        if document is not None:
            body["document"] = base64.b64encode(document).decode()
        return base64.b64decode(self._call("POST", "/v1/sign", body)["signature"])

    def prove_pin(self, *, serial: str, pin: str, caller: str = "") -> None:
        """The PIN opens the card and the card may sign (SigningService.prove_pin)."""
        self._call("POST", "/v1/pin", {"serial": serial, "pin": pin})


class IntentSigner(Signer):
    """Signs, with one card and one PIN, only messages that carry out one intent."""

    def __init__(self, backend: SigningBackend, serial: str, pin: str, intent: dict[str, Any]) -> None:
        self._backend = backend
        self._serial = serial
        self._pin = pin
        self._intent = intent
        self._identity: Identity | None = None

    @property
    def identity(self) -> Identity:
        if self._identity is None:
            self._identity = self._backend.identity(self._serial)
        return self._identity

    def sign(self, message: bytes, purpose: str = "proposal") -> bytes:
        return self._backend.sign(
            serial=self._serial, pin=self._pin, purpose=purpose, message=message, intent=self._intent
        )

    def sign_document(self, signed_attributes: bytes, document: bytes) -> bytes:
        """The card's signature over a PAdES signature's signed attributes of ``document`` (the
        prepared PDF); the intent is a SignDocument's (signing.documents)."""
        return self._backend.sign(
            serial=self._serial,
            pin=self._pin,
            purpose="document",
            message=signed_attributes,
            intent=self._intent,
            document=document,
        )

    def __repr__(self) -> str:  # never the PIN
        return f"IntentSigner(card={self._serial}, function={self._intent.get('function')})"


def _close_if_ours(connection: http.client.HTTPConnection, pid: int) -> None:
    if pid == os.getpid():
        connection.close()


class _Kept:
    """A connection kept for its thread's next request; closed when this is dropped (its thread
    ended, the client was closed or collected, the connection went stale), by the process that
    opened it only. A weakref finalizer, not ``__del__``: it holds the connection, so a garbage
    cycle never finalizes the socket before it is closed."""

    def __init__(self, connection: http.client.HTTPConnection) -> None:
        self.pid = os.getpid()
        self.last = time.monotonic()
        self._closer = weakref.finalize(self, _close_if_ours, connection, self.pid)

    def take(self) -> http.client.HTTPConnection:
        detached = self._closer.detach()
        assert detached is not None
        return detached[2][0]  # type: ignore[no-any-return]


class _UnixConnection(http.client.HTTPConnection):
    """HTTP over the gateway's Unix socket."""

    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._path)
        except OSError:
            sock.close()
            raise
        self.sock = sock
