"""GoldTicket: digital receivables (gold tickets) on a Hyperledger Fabric ledger."""

__version__ = "0.1.0"
