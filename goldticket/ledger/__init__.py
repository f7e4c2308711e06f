"""The Ledger port and its adapters; ``open_ledger`` picks one by setting."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

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

if TYPE_CHECKING:
    from .local.verify import VerifyReport

LEDGER_FILE = "ledger.sqlite"


def open_local_ledger(
    data_dir: Path,
    msps: dict[str, bytes] | None = None,
    *,
    check_time: bool = True,
    environment: str | None = None,
    shared_commit: bool = False,
) -> Ledger:
    """The embedded ledger under ``data_dir``, created (trusting ``msps``, recording
    ``environment``) when missing; ``shared_commit``: through the group commit every process on
    the file shares (GOLDTICKET_LEDGER_SHARED_COMMIT). ``check_time=False`` lets proposals carry any date (dev and
    test clocks only); a ledger created for prod checks the time window whatever is asked."""
    import datetime as dt

    from chaincode import GoldTicketContract

    from .local.peer import LocalLedger

    path = Path(data_dir) / LEDGER_FILE
    window = dt.timedelta(minutes=15) if check_time else None
    if not path.exists():
        if msps is None:
            raise LedgerError(f"no ledger at {path}; run `goldticket init` first")
        return LocalLedger.create(
            path,
            msps,
            GoldTicketContract(),
            environment=environment,
            time_window=window,
            shared_commit=shared_commit,
        )
    return LocalLedger(path, GoldTicketContract(), time_window=window, shared_commit=shared_commit)


def verify_local_ledger(
    data_dir: Path,
    trusted_msps: dict[str, bytes] | None = None,
    *,
    channel_id: str = "goldticket",
    chaincode: str = "goldticket",
) -> VerifyReport:
    """Re-check the embedded ledger under ``data_dir`` block by block, replaying every valid
    transaction through the chaincode (``goldticket.ledger.local.verify``). Raises LedgerError
    when there is no ledger there."""
    from chaincode import GoldTicketContract

    from .local.verify import verify_ledger

    return verify_ledger(
        Path(data_dir) / LEDGER_FILE,
        GoldTicketContract(),
        channel_id=channel_id,
        chaincode=chaincode,
        trusted_msps=trusted_msps,
    )


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
    "verify_local_ledger",
    "LEDGER_FILE",
]
