"""A card: a secure element holding one member's P-256 signing key behind a PIN.

Two implementations stand behind this interface and pass one shared test suite: a PKCS#11
token (SoftHSM2 in development, a real BSIM or HSM through its PKCS#11 module in production)
and a software card whose key is encrypted at rest under the PIN. The PIN-try counter and
the card's life-cycle status live in the card registry, not here: a card only answers
"signed" or "wrong PIN".

A factory may be given ``pins``, the operator's PIN key (``backup_keys.BackupKeys.card_pin`` with
the operator password): its cards then never show the user's PIN to their token or file, only
``pins(serial, pin)``, so a copy of the token files allows no PIN search without the operator
token (docs/decisions.md). Cards made before keep their PIN as it was until it is next used
right; that use moves them to the derived PIN.
"""

from __future__ import annotations

import abc
from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric import ec

# (serial, the user's PIN) -> the PIN the card's token or file is given
PinDeriver = Callable[[str, str], str]


class Card(abc.ABC):
    """One card, addressed by its serial (for PKCS#11: the token label)."""

    serial: str

    @abc.abstractmethod
    def put_key(self, private_value: int, pin: str) -> None:
        """Personalise the card: store the P-256 private scalar ``private_value`` as a
        sensitive, never-extractable signing key protected by ``pin``. Called once per card.
        Raises CardStateError if the card already holds a key."""

    @abc.abstractmethod
    def public_key(self) -> ec.EllipticCurvePublicKey:
        """The public half of the card's key (readable without the PIN)."""

    @abc.abstractmethod
    def sign_digest(self, digest: bytes, pin: str) -> bytes:
        """Sign a 32-byte SHA-256 digest inside the card: DER ECDSA with low S.
        Raises WrongPinError for a wrong PIN, CardNotFoundError if the card is gone."""

    @abc.abstractmethod
    def change_pin(self, old_pin: str, new_pin: str) -> None:
        """Protect the key by ``new_pin`` from now on. Raises WrongPinError for a wrong
        ``old_pin``, ValueError for an unusable ``new_pin``, CardNotFoundError."""

    @abc.abstractmethod
    def destroy(self) -> None:
        """Destroy the key and the card's storage; the card never signs again. Idempotent."""

    @abc.abstractmethod
    def exists(self) -> bool:
        """Whether the card holds a key."""

    def sign_kept(self, digest: bytes, pin: str) -> bytes | None:
        """A signature through a session the card keeps logged in, if ``pin`` is the PIN that
        opened it; None (the caller then uses :meth:`sign_digest`, a counted PIN try) if there
        is none or the PIN differs. Most cards keep no session."""
        return None

    def forget_session(self) -> None:  # noqa: B027 - most cards keep no session
        """Close a session kept logged in for this card, if the backend keeps one (the card
        was locked or revoked: nothing may sign through it)."""


class CardFactory(abc.ABC):
    """Makes and finds cards of one backend."""

    name: str
    pins: PinDeriver | None = None  # the operator's PIN key, when the deployment has one

    @abc.abstractmethod
    def card(self, serial: str) -> Card:
        """The card with this serial (it may not hold a key yet)."""
