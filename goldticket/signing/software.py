"""A software signer: the private key in process memory. For tests and quick starts; BSIM
cards stand behind the same interface."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric import ec

from goldticket.messages import Identity, to_low_s
from goldticket.messages.crypto import ECDSA_SHA256

from .interfaces import Signer


class SoftwareSigner(Signer):
    def __init__(self, private_key: ec.EllipticCurvePrivateKey, identity: Identity) -> None:
        if private_key.curve.name != "secp256r1":
            raise ValueError("Fabric signers use ECDSA P-256")
        self._private_key = private_key
        self._identity = identity

    @property
    def identity(self) -> Identity:
        return self._identity

    def sign(self, message: bytes, purpose: str = "proposal") -> bytes:
        return to_low_s(self._private_key.sign(message, ECDSA_SHA256))

    def __repr__(self) -> str:  # never show the key
        return f"SoftwareSigner({self._identity.msp_id})"
