"""Signers that sign through the signing service, in-process or over HTTP, for one intent.

``IntentSigner`` is a Signer: services and both ledger adapters use it without knowing where
the card is. It carries the PIN for one operation and forgets it with the operation.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from typing import Any, Protocol

from goldticket.messages import Identity

from .errors import (
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

ERRORS: dict[str, type[SigningError]] = {
    "wrong_pin": WrongPinError,
    "card_locked": CardLockedError,
    "card_revoked": CardRevokedError,
    "not_found": CardNotFoundError,
    "forbidden": RefusedError,
    "unauthenticated": UnauthenticatedError,
    "rate_limited": RateLimitedError,
}


class SigningBackend(Protocol):
    def identity(self, serial: str) -> Identity: ...

    def sign(
        self, *, serial: str, pin: str, purpose: str, message: bytes, intent: Any, caller: str = ...
    ) -> bytes: ...


class GatewayClient:
    """The signing gateway over HTTP, with the deployment secret."""

    def __init__(self, url: str, secret: str, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self._secret = secret
        self._timeout = timeout

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        request = urllib.request.Request(
            self.url + path,
            data=json.dumps(body).encode() if body is not None else None,
            method=method,
            headers={"Authorization": f"Bearer {self._secret}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                return json.loads(response.read())  # type: ignore[no-any-return]
        except urllib.error.HTTPError as error:
            try:
                payload = json.loads(error.read())
                code, message = payload["error"], payload["message"]
            except (ValueError, KeyError):
                raise GatewayUnavailableError(f"the signing gateway answered HTTP {error.code}") from error
            finally:
                error.close()
            raise ERRORS.get(code, SigningError)(message) from None
        except (urllib.error.URLError, OSError) as error:
            raise GatewayUnavailableError(f"the signing gateway at {self.url} is unreachable") from error

    def identity(self, serial: str) -> Identity:
        data = self._call("GET", f"/v1/cards/{serial}/identity")
        return Identity(data["msp_id"], data["certificate_pem"].encode())

    def sign(
        self, *, serial: str, pin: str, purpose: str, message: bytes, intent: Any, caller: str = ""
    ) -> bytes:
        body = {
            "serial": serial,
            "pin": pin,
            "purpose": purpose,
            "intent": intent,
            "message": base64.b64encode(message).decode(),
        }
        return base64.b64decode(self._call("POST", "/v1/sign", body)["signature"])


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

    def __repr__(self) -> str:  # never the PIN
        return f"IntentSigner(card={self._serial}, function={self._intent.get('function')})"
