"""The Fabric adapter of the Ledger port: a thin client of Fabric's Gateway service."""

from .gateway import Deadlines, FabricLedger
from .profile import ConnectionProfile, PeerEndpoint

__all__ = ["ConnectionProfile", "Deadlines", "FabricLedger", "PeerEndpoint"]
