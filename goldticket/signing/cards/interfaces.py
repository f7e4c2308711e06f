"""A card: a secure element holding one member's P-256 signing key behind a PIN.

Two implementations stand behind this interface and pass one shared test suite: a PKCS#11
token (SoftHSM2 in development, a real BSIM or HSM through its PKCS#11 module in production)
and a software card whose key is encrypted at rest under the PIN. The PIN-try counter and
the card's life-cycle status live in the card registry, not here: a card only answers
"signed" or "wrong PIN".
"""

from __future__ import annotations

import abc

from cryptography.hazmat.primitives.asymmetric import ec


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
    def destroy(self) -> None:
        """Destroy the key and the card's storage; the card never signs again. Idempotent."""

    @abc.abstractmethod
    def exists(self) -> bool:
        """Whether the card holds a key."""


class CardFactory(abc.ABC):
    """Makes and finds cards of one backend."""

    name: str

    @abc.abstractmethod
    def card(self, serial: str) -> Card:
        """The card with this serial (it may not hold a key yet)."""
