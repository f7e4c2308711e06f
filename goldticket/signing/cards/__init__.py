"""Card backends behind one interface: PKCS#11 tokens (SoftHSM2 in development, a BSIM or HSM
in production) and software cards whose key is encrypted at rest under the PIN."""

from .interfaces import Card, CardFactory

__all__ = ["Card", "CardFactory"]
