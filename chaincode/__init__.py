"""The GoldTicket chaincode: one fabric-chaincode-python contract over goldticket.domain."""

from .contract import GoldTicketContract

__all__ = ["GoldTicketContract"]
