"""The two ways out: an e-mail through the settings' SMTP server, and a signed POST to the
member's webhook. Each raises :class:`DeliveryFailed` with a short reason that names neither
the URL nor any credential nor the secret (it is stored and shown to the member's admin).

The webhook's signature (like Stripe's): with the member's secret ``S`` (the whole string, as
UTF-8 bytes), the request's Unix time ``T`` and the exact body bytes ``B``,
``GoldTicket-Signature: v1=<hex HMAC-SHA256(S, T + "." + B)>``, next to
``GoldTicket-Timestamp: T`` and ``GoldTicket-Delivery: <delivery id>``. The receiver
recomputes it, compares in constant time, refuses an old ``T`` (replays) and deduplicates on
the delivery id: the same notice may come more than once (at-least-once)."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import smtplib
import socket
import ssl
import time
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any
from urllib.parse import urlsplit

from goldticket.settings import Settings

SIGNATURE = "GoldTicket-Signature"
TIMESTAMP = "GoldTicket-Timestamp"
DELIVERY = "GoldTicket-Delivery"
TOLERANCE_SECONDS = 300


class DeliveryFailed(Exception):
    """A delivery that did not go through this time; the message is safe to store and show."""


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """``v1=<hex>``: HMAC-SHA256 over ``timestamp.body`` keyed with the secret."""
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def verify(secret: str, headers: Any, body: bytes, *, now: float | None = None) -> bool:
    """What a receiver checks (shown in docs/notifications.md): the signature over the
    timestamp and the body, and a timestamp within five minutes."""
    try:
        stamp = int(headers[TIMESTAMP])
    except (KeyError, TypeError, ValueError):
        return False
    if abs((time.time() if now is None else now) - stamp) > TOLERANCE_SECONDS:
        return False
    given = str(headers.get(SIGNATURE, ""))
    return hmac.compare_digest(given.encode(), signature(secret, stamp, body).encode())


def public_host(host: str) -> bool:
    """Whether ``host`` is a name or a global address: not an address of this machine or of a
    private, link-local or reserved network (a member's webhook must not reach the platform's
    own services). Names are resolved again before each request (``post_webhook``)."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return host.lower().rstrip(".") not in ("localhost", "localhost.localdomain") and "." in host
    return address.is_global


def _resolves_public(host: str, port: int) -> bool:
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        return False
    return bool(found) and all(
        ipaddress.ip_address(str(entry[4][0]).split("%")[0]).is_global for entry in found
    )


def post_webhook(
    url: str, secret: str, delivery_id: str, body: bytes, timeout: float, *, public_only: bool = False
) -> int:
    """POST the body, signed; returns the status of a 2xx answer. Raises DeliveryFailed on
    anything else (a status outside 2xx, a timeout, a refused connection). With
    ``public_only`` (production) a host that resolves to a non-global address is refused."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if public_only and not (
        public_host(parts.hostname or "") and _resolves_public(parts.hostname or "", port)
    ):
        raise DeliveryFailed("the webhook's host is not a public address")
    stamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "GoldTicket-Webhook/1",
        DELIVERY: delivery_id,
        TIMESTAMP: str(stamp),
        SIGNATURE: signature(secret, stamp, body),
    }
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        connection = http.client.HTTPSConnection(
            parts.hostname or "", parts.port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(64 * 1024)
        status = response.status
    except TimeoutError:
        raise DeliveryFailed("the receiver did not answer in time") from None
    except (OSError, http.client.HTTPException) as error:
        raise DeliveryFailed(f"no answer from the receiver ({type(error).__name__})") from None
    finally:
        connection.close()
    if not 200 <= status < 300:
        raise DeliveryFailed(f"the receiver answered HTTP {status}")
    return status


def webhook_body(delivery_id: str, member_id: str, notice: dict[str, Any]) -> bytes:
    """The JSON the receiver gets: the same bytes on every attempt of a delivery."""
    document = {"delivery_id": delivery_id, "member_id": member_id, "notification": notice}
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def send_email(settings: Settings, *, to: list[str], subject: str, text: str, delivery_id: str) -> None:
    """One e-mail through the settings' SMTP server (STARTTLS and a login when set). Raises
    DeliveryFailed; the reason names the failure's kind and SMTP code, never a credential."""
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = ", ".join(to)
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = f"<{delivery_id}@goldticket>"
    message[DELIVERY] = delivery_id
    message.set_content(text, charset="utf-8")
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.webhook_timeout) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password)
            smtp.send_message(message)
    except smtplib.SMTPResponseException as error:
        raise DeliveryFailed(f"the SMTP server refused ({type(error).__name__} {error.smtp_code})") from None
    except (smtplib.SMTPException, OSError) as error:  # a timeout is an OSError
        raise DeliveryFailed(f"no SMTP delivery ({type(error).__name__})") from None
