"""Webhook secrets sealed at rest (#20). The platform needs a member's webhook secret in clear to
sign each request (HMAC), so it cannot keep only a hash; the portal's database keeps it sealed
with AES-256-GCM under the data directory's sealing key (:meth:`KeyStore.sealing_key`), bound
to the member (a sealed value copied to another member's row does not open). A dump of the
database alone (PostgreSQL backups, replicas) reveals no secret.

Stored form: ``gcm1:`` + base64url(nonce (12 bytes) + ciphertext and tag). A value stored in
clear before this (``whsec_...``) is sealed when the portal opens (:func:`seal_stored`)."""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select

from goldticket.store.models import NotifyPreference

from ..portal import Portal

MARK = "gcm1:"


class SealError(Exception):
    """A sealed value that does not open with this data directory's key for this member."""


def _associated(member_id: str) -> bytes:
    return b"goldticket webhook secret\x00" + member_id.encode()


def seal(key: bytes, member_id: str, secret: str) -> str:
    """``secret`` sealed for ``member_id``'s row; the empty string stays empty (no webhook)."""
    if not secret:
        return ""
    nonce = os.urandom(12)
    sealed = AESGCM(key).encrypt(nonce, secret.encode(), _associated(member_id))
    return MARK + base64.urlsafe_b64encode(nonce + sealed).decode()


def unseal(key: bytes, member_id: str, stored: str) -> str:
    """The secret ``stored`` holds for ``member_id``. Raises SealError."""
    if not stored:
        return ""
    if not stored.startswith(MARK):
        raise SealError(f"{member_id}'s webhook secret is not sealed")
    try:
        raw = base64.urlsafe_b64decode(stored[len(MARK) :])
        return AESGCM(key).decrypt(raw[:12], raw[12:], _associated(member_id)).decode()
    except (ValueError, InvalidTag):
        raise SealError(
            f"{member_id}'s webhook secret does not open with this data directory's key"
        ) from None


def seal_stored(portal: Portal) -> int:
    """Seal every webhook secret still stored in clear; returns how many."""
    key = portal.platform.keystore.sealing_key()
    done = 0
    with portal.database.session(immediate=True) as session:
        for row in session.scalars(select(NotifyPreference)):
            if row.webhook_secret and not row.webhook_secret.startswith(MARK):
                row.webhook_secret = seal(key, row.member_id, row.webhook_secret)
                done += 1
    return done
