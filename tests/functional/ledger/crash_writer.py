"""Run by test_ledger_group_commit: write Ping transactions from many threads into the embedded
ledger under DATA_DIR and print "ACK <tx id>" for each one the ledger acknowledged, until killed.

    python crash_writer.py DATA_DIR THREADS ROUND [shared]

The first run creates the ledger and keeps its test signer beside it; later runs reopen both.
``shared``: the ledger is opened with the commit shared by every process (#22).
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from cryptography.hazmat.primitives import serialization

sys.path.insert(0, str(Path(__file__).parent))

from ledger_support import bare_ledger, ping  # noqa: E402

from chaincode import GoldTicketContract  # noqa: E402
from goldticket import messages as m  # noqa: E402
from goldticket.ledger.local.peer import LocalLedger  # noqa: E402
from goldticket.signing import SoftwareSigner  # noqa: E402


def open_or_create(data_dir: Path, shared: bool = False) -> tuple[LocalLedger, SoftwareSigner]:
    key_file, cert_file = data_dir / "writer.key", data_dir / "writer.pem"
    if not key_file.exists():
        ledger, signer = bare_ledger(data_dir)
        key_file.write_bytes(
            signer._private_key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        cert_file.write_bytes(signer.identity.certificate_pem)
        return ledger, signer
    key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    signer = SoftwareSigner(key, m.Identity("OperatorMSP", cert_file.read_bytes()))  # type: ignore[arg-type]
    ledger = LocalLedger(
        data_dir / "ledger.sqlite", GoldTicketContract(), time_window=None, shared_commit=shared
    )
    return ledger, signer


def main() -> None:
    data_dir, threads, round_number = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    ledger, signer = open_or_create(data_dir, shared=sys.argv[4:] == ["shared"])
    out = threading.Lock()
    print("READY", flush=True)

    def write(index: int) -> None:
        count = 0
        while True:
            tx_id = ping(ledger, signer, f"r{round_number}-t{index}-{count}")
            with out:
                sys.stdout.write(f"ACK {tx_id}\n")
                sys.stdout.flush()
            count += 1

    workers = [threading.Thread(target=write, args=(index,), daemon=True) for index in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


if __name__ == "__main__":
    main()
