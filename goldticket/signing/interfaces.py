"""The Signer interface: whatever holds a member's private key.

A signer is handed the exact bytes to be signed (a serialized Fabric proposal, a transaction
envelope payload, a commit-status request), never a bare digest, so that a signer standing
behind a gateway can decode and check what it signs. It returns a DER ECDSA P-256 signature
over SHA-256 of those bytes with a low S value, as Fabric requires.
"""

from __future__ import annotations

import abc

from goldticket.messages import Identity


class Signer(abc.ABC):
    @property
    @abc.abstractmethod
    def identity(self) -> Identity:
        """The MSP ID and certificate the signatures verify under."""

    @abc.abstractmethod
    def sign(self, message: bytes, purpose: str = "proposal") -> bytes:
        """DER signature (low S) over SHA-256 of ``message``. ``purpose`` says what the bytes
        are ("proposal", "transaction", "commit_status") so a gateway knows how to decode
        them. Raises SigningError."""
