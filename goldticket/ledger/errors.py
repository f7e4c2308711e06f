"""Ledger errors by phase, each carrying the transaction id (after fabric-gateway)."""

from __future__ import annotations


class LedgerError(Exception):
    code = "ledger_error"

    def __init__(self, message: str, tx_id: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.tx_id = tx_id

    def __str__(self) -> str:
        return self.message


class EndorseError(LedgerError):
    """The proposal was refused before any transaction existed: a bad signature, an unknown
    identity, or the chaincode said no (``chaincode_message`` holds its ``code: sentence``)."""

    def __init__(self, message: str, tx_id: str | None = None, chaincode_message: str | None = None) -> None:
        super().__init__(message, tx_id)
        self.chaincode_message = chaincode_message


class SubmitError(LedgerError):
    """The signed transaction was not accepted for ordering (bad signature, replayed id)."""


class DuplicateTransactionError(SubmitError):
    code = "conflict"


class CommitStatusError(LedgerError):
    """The commit status could not be learned."""


class CommitError(LedgerError):
    """The transaction was ordered but the ledger marked it invalid."""

    code = "conflict"

    def __init__(self, message: str, tx_id: str, validation_code: str) -> None:
        super().__init__(message, tx_id)
        self.validation_code = validation_code


class MVCCConflictError(CommitError):
    """Another transaction changed what this one read: a key (MVCC_READ_CONFLICT) or a key
    range it scanned (PHANTOM_READ_CONFLICT). Nothing was written; the same request may be sent
    again."""


class UnknownTransactionError(CommitStatusError):
    """No transaction with that id was committed."""
