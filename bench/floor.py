"""The floor of one signed operation, measured on this machine in this run: ECDSA P-256 sign and
verify (cryptography), one SQLite commit with synchronous=FULL in WAL mode (the embedded ledger's
durability), and protobuf encode and decode of a ~3 KB transaction envelope (goldticket.messages).

    python bench/floor.py [--count N] [--json PATH]

One transfer-and-accept operation of bench/transfer_throughput.py makes today 8 signatures,
6 verifications and 2 commits (issue #22); with only the signatures that matter, 6 and 4. The
per-operation floor is those counts times the CPU medians below; nothing else (the chaincode,
the services, the SQL besides COMMIT) is in it. Wall times include waiting for the disk and for
a core on a shared machine; CPU times are this process's own.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fabric_protos.common import common_pb2

from goldticket import messages as m

# (signs, verifies, commits, envelopes encoded and decoded) in one operation
TODAY_COUNTS = (8, 6, 2, 2)
NEEDED_COUNTS = (6, 4, 2, 2)


def certificate(key: ec.EllipticCurvePrivateKey, name: str) -> bytes:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
        .public_bytes(serialization.Encoding.PEM)
    )


def envelope(key: ec.EllipticCurvePrivateKey) -> common_pb2.Envelope:
    """An endorsed OfferTransfer envelope shaped like the ledger's: creator, two endorsements."""
    sign = lambda data: key.sign(data, ec.ECDSA(hashes.SHA256()))  # noqa: E731
    creator = m.Identity("SupplierMSP", certificate(key, "s0a.clerk"))
    request = {"ticket_id": "TK" + "0" * 20, "to_org_id": "s0b", "amount_fen": 1}
    proposal = m.decode_proposal(
        m.build_proposal(
            channel_id="goldticket",
            chaincode="goldticket",
            function="OfferTransfer",
            args=[json.dumps(request)],
            creator=creator,
        ).bytes
    )
    writes = tuple(m.KeyWrite(f"ticket~TK{index:020d}", b"{" + b"x" * 120 + b"}") for index in range(3))
    rwset = m.ReadWriteSet("goldticket", (("ticket~TK" + "0" * 20, (3, 0)),), writes)
    response = m.build_response_payload(proposal, status=200, message="", payload=b"{}", rwset=rwset)
    endorsers = [
        m.Identity(msp, certificate(key, f"peer0.{msp}")).serialize() for msp in ("CoreMSP", "BankMSP")
    ]
    endorsements = [(e, sign(m.endorsement_message(response, e))) for e in endorsers]
    payload = m.build_transaction_payload(proposal, response, endorsements)
    return m.signed_envelope(payload, sign(payload))


def timed(action: Callable[[], object], count: int) -> dict[str, float]:
    """Median wall and CPU microseconds of one call (CPU from batches: process_time is coarse)."""
    action()
    wall, cpu = [], []
    batch = max(1, count // 20)
    for _ in range(max(1, count // batch)):
        started, started_cpu = time.perf_counter(), time.process_time()
        for _ in range(batch):
            action()
        wall.append((time.perf_counter() - started) * 1e6 / batch)
        cpu.append((time.process_time() - started_cpu) * 1e6 / batch)
    return {"calls": batch * len(wall), "wall_us": statistics.median(wall), "cpu_us": statistics.median(cpu)}


def measure(count: int = 2000, commits: int = 200) -> dict:
    """The floor's parts and the per-operation floor (CPU ms), as a dict (the JSON report)."""
    key = ec.generate_private_key(ec.SECP256R1())
    data = os.urandom(3000)
    signature = key.sign(data, ec.ECDSA(hashes.SHA256()))
    public = key.public_key()
    built = envelope(key)
    encoded = built.SerializeToString()
    rows = {
        "sign": timed(lambda: key.sign(data, ec.ECDSA(hashes.SHA256())), count),
        "verify": timed(lambda: public.verify(signature, data, ec.ECDSA(hashes.SHA256())), count),
    }
    with tempfile.TemporaryDirectory() as tmp:
        db = sqlite3.connect(Path(tmp) / "floor.db", isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("CREATE TABLE blocks (number INTEGER PRIMARY KEY, data BLOB)")
        numbers = iter(range(10**9))

        def commit() -> None:
            db.execute("BEGIN IMMEDIATE")
            db.execute("INSERT INTO blocks VALUES (?, ?)", (next(numbers), encoded))
            db.execute("COMMIT")

        rows["commit (FULL)"] = timed(commit, commits)
        db.close()
    rows["envelope encode"] = timed(built.SerializeToString, count)
    rows["envelope decode"] = timed(lambda: common_pb2.Envelope.FromString(encoded), count)

    def per_operation(counts: tuple[int, int, int, int], field: str) -> float:
        signs, verifies, commits_, envelopes = counts
        part = rows["envelope encode"][field] + rows["envelope decode"][field]
        total = signs * rows["sign"][field] + verifies * rows["verify"][field]
        return (total + commits_ * rows["commit (FULL)"][field] + envelopes * part) / 1000

    return {
        "script": "floor",
        "envelope_bytes": len(encoded),
        "parts": rows,
        "per_operation": {
            "today_counts": dict(
                zip(("signs", "verifies", "commits", "envelopes"), TODAY_COUNTS, strict=True)
            ),
            "today_cpu_ms": per_operation(TODAY_COUNTS, "cpu_us"),
            "today_wall_ms": per_operation(TODAY_COUNTS, "wall_us"),
            "needed_cpu_ms": per_operation(NEEDED_COUNTS, "cpu_us"),
        },
    }


def print_floor(floor: dict) -> None:
    print(f"floor (this machine, this run; envelope {floor['envelope_bytes']} bytes)")
    print(f"{'part':<18} {'calls':>6} {'wall us':>9} {'cpu us':>9}")
    for name, row in floor["parts"].items():
        print(f"{name:<18} {row['calls']:>6} {row['wall_us']:>9.1f} {row['cpu_us']:>9.1f}")
    per = floor["per_operation"]
    cores = os.cpu_count() or 1
    print(
        f"floor per operation (8 signs, 6 verifies, 2 commits): {per['today_cpu_ms']:.3f} ms CPU, "
        f"{per['today_wall_ms']:.3f} ms wall; at most {cores * 1000 / per['today_cpu_ms']:.0f} ops/s on {cores} cores"
    )
    print(f"floor per operation (6 signs, 4 verifies, 2 commits): {per['needed_cpu_ms']:.3f} ms CPU")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=2000, help="signs, verifies, encodes timed")
    parser.add_argument("--commits", type=int, default=200)
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args(argv)
    floor = measure(args.count, args.commits)
    print_floor(floor)
    if args.json:
        args.json.write_text(json.dumps(floor, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
