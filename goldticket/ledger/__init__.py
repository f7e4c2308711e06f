"""The Ledger port and its adapters; ``open_ledger`` picks one by setting."""

from __future__ import annotations

from pathlib import Path

from .contract import Contract
from .errors import (
    CommitError,
    CommitStatusError,
    DuplicateTransactionError,
    EndorseError,
    LedgerError,
    MVCCConflictError,
    SubmitError,
    UnknownTransactionError,
)
from .interfaces import CommitStatus, Ledger

LEDGER_FILE = "ledger.sqlite"


def open_local_ledger(
    data_dir: Path, msps: dict[str, bytes] | None = None, *, check_time: bool = True
) -> Ledger:
    """The embedded ledger under ``data_dir``, created (trusting ``msps``) when missing.
    ``check_time=False`` lets proposals carry any date (dev and test clocks only)."""
    import datetime as dt

    from chaincode import GoldTicketContract

    from .local.peer import LocalLedger

    path = Path(data_dir) / LEDGER_FILE
    window = dt.timedelta(minutes=15) if check_time else None
    if not path.exists():
        if msps is None:
            raise LedgerError(f"no ledger at {path}; run `goldticket init` first")
        return LocalLedger.create(path, msps, GoldTicketContract(), time_window=window)
    return LocalLedger(path, GoldTicketContract(), time_window=window)


__all__ = [
    "Contract",
    "CommitError",
    "CommitStatusError",
    "DuplicateTransactionError",
    "EndorseError",
    "LedgerError",
    "MVCCConflictError",
    "SubmitError",
    "UnknownTransactionError",
    "CommitStatus",
    "Ledger",
    "open_local_ledger",
    "LEDGER_FILE",
]
