"""The GoldTicket chaincode: one fabric-chaincode-python contract over goldticket.domain."""

from . import shim_fixes  # noqa: F401 - before anything else of the library
from .contract import GoldTicketContract
from .dispatch import new_chaincode

__all__ = ["GoldTicketContract", "new_chaincode"]
