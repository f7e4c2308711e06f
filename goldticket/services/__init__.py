"""Use cases. Each takes the platform, the acting user and the inputs, and returns the result
or raises a typed error (goldticket.domain errors, ledger errors). No web framework here."""

from .context import Actor, Receipt
from .platform import Platform

__all__ = ["Actor", "Platform", "Receipt"]
