"""Signed transfer-and-accept operations per second on the embedded ledger, through the
services layer: each operation is two signed transactions (OfferTransfer by the holder,
AcceptOffer by the payee), each endorsed, signed again, validated and committed.

    python bench/transfer_throughput.py [--operations N] [--threads T ...] [--processes P ...]
        [--cards pkcs11|software] [--gateway] [--keys | --keys-only] [--chains-per-process C]
        [--shared-commit off|on|both] [--json PATH]

--keys measures the ledger core alone: the same services and ledger, but each user signs
with a software key registered on the ledger instead of a card (no PIN check, no gateway).
--keys-only skips the card rows. --gateway signs the card rows through the signing gateway over
HTTP on 127.0.0.1, in a process of its own as deployed (its CPU time is counted in "cpu ms/op");
without it the workers sign through the signing service in-process. --chains-per-process C runs C client threads in each process
(each on its own ticket chain), so that concurrent clients of one process share commits.
--shared-commit on runs the process rows with GOLDTICKET_LEDGER_SHARED_COMMIT (one group commit
shared by the worker processes; "both": each process row once without, once with it, labelled
"shared"). The "tx/block" column is the ledger's transactions per block over the run (group commit);
"cpu ms/op" is the CPU time (user + system, all workers) spent per operation, which other
processes on the machine disturb less than the rate does. The floor (bench/floor.py: the
signatures, verifications, commits and encodings one operation cannot avoid) is measured in the
same run and printed after the table; --json writes the rows and the floor for bench/report.py.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from goldticket.services import Platform, credit, members, setup, tickets, transfers
from goldticket.settings import Settings

TODAY = dt.date(2026, 12, 1)
PIN = "135790"
CARDS = ""  # "" = PKCS#11 (SoftHSM2) where installed; --cards picks
KEYS: dict = {}  # username -> software signer, with --keys (inherited by forked workers)
GATEWAY = False  # --gateway: card rows sign through a signing gateway process
GATEWAY_URL = ""  # the running one's, inherited by forked workers
GATEWAY_SECRET = "bench deployment secret, 32 chars"
SHARED = False  # the process rows' workers share one group commit (set per row)


def bench_settings(data_dir: Path, cards: str = "") -> Settings:
    shared: dict[str, object] = (
        {"ledger_shared_commit": True} if SHARED else {}
    )  # (a tree before #22 (b) has no such setting)
    if "documents" in Settings.__dataclass_fields__:  # a tree since #21's rule: the ledger's
        shared["documents"] = "optional"  # operations alone, no PDFs rendered and signed
    return Settings(
        signer_url=GATEWAY_URL,
        signer_secret=GATEWAY_SECRET if GATEWAY_URL else "",
        data_dir=data_dir,
        env="test",
        today=TODAY,
        card_backend=cards,
        card_kdf_n=2**14,
        operator_password="bench operator password",
        operator_pin="246810",
        signer_rate=100_000,
        **shared,  # type: ignore[arg-type]
    )


def build(data_dir: Path, chains: int, settings: Settings | None = None) -> tuple[Platform, list[tuple]]:
    platform = setup.init_platform(settings or bench_settings(data_dir, CARDS))
    members.register_member(platform, platform.desk(), member_id="core", name="核心企业", role="core")
    members.register_member(platform, platform.desk(), member_id="bank", name="银行", role="bank")
    core = members.add_user(platform, platform.desk(), member_id="core", username="core.clerk", pin=PIN)
    bank = members.add_user(platform, platform.desk(), member_id="bank", username="bank.clerk", pin=PIN)
    line = credit.grant_credit_line(platform, bank, core_org_id="core", limit_fen=10**14, pin=PIN)
    credit.accept_credit_line(platform, core, credit_line_id=line["id"], pin=PIN)
    chains_out = []
    for index in range(chains):
        pair = []
        for side in ("a", "b"):
            member_id = f"s{index}{side}"
            members.register_member(
                platform, platform.desk(), member_id=member_id, name=member_id, role="supplier"
            )
            pair.append(
                members.add_user(
                    platform, platform.desk(), member_id=member_id, username=f"{member_id}.clerk", pin=PIN
                )
            )
        number = f"INV-{index}"
        ticket = tickets.issue_ticket(
            platform,
            core,
            payee_org_id=pair[0].member_id,
            amount_fen=10**12,
            maturity_date=TODAY + dt.timedelta(days=180),
            invoices=[
                {
                    "number": number,
                    "amount_fen": 10**12,
                    "sha256": hashlib.sha256(number.encode()).hexdigest(),
                }
            ],
            pin=PIN,
        )
        tickets.accept_ticket(platform, pair[0], ticket["id"], pin=PIN)
        chains_out.append((pair[0], pair[1], ticket["id"]))
    return platform, chains_out


def use_software_keys(platform: Platform, actors: list) -> None:
    """Sign as each actor with a registered software key instead of the card (``--keys``)."""
    from goldticket.messages import Identity
    from goldticket.settings import ROLE_MSP
    from goldticket.signing import SoftwareSigner, new_member_key

    operator, operator_pin = platform.actor("operator"), platform.settings.operator_pin
    for actor in actors:
        ca = platform.member_ca(ROLE_MSP[platform.evaluate("GetMember", {"id": actor.member_id})["role"]])
        key = new_member_key()
        attributes = {"member": actor.member_id, "role": actor.role, "user": actor.username}
        cert = ca.issue(key.public_key(), common_name=actor.username, attributes=attributes)
        request = {"msp_id": ca.msp_id, "certificate_pem": cert.decode()}
        platform.submit(operator, "RegisterIdentity", request, pin=operator_pin)
        KEYS[actor.username] = SoftwareSigner(key, Identity(ca.msp_id, cert))
    sign_with_keys(platform)


def sign_with_keys(platform: Platform) -> None:
    platform.signer = lambda actor, pin, function, request: KEYS[actor.username]  # type: ignore[method-assign]


def run_chain(platform: Platform, holder, payee, ticket_id: str, count: int, latencies: list[float]) -> None:
    for _ in range(count):
        started = time.perf_counter()
        # the ledger operation only, as before #21's documents: no assignment agreement or notice
        # (their PAdES signatures are a cost of their own, and --keys signs without the card)
        offer = transfers.offer_transfer(
            platform,
            holder,
            ticket_id=ticket_id,
            to_org_id=payee.member_id,
            amount_fen=1,
            pin=PIN,
            documents=False,
        )
        moved = transfers.accept_offer(platform, payee, offer["offer_id"], pin=PIN)
        latencies.append(time.perf_counter() - started)
        ticket_id = moved["remainder"]["id"]


def _process_worker(data_dir: str, usernames: list[tuple[str, str, str]], count: int, start, results) -> None:
    platform = Platform.open(bench_settings(Path(data_dir), CARDS))
    if KEYS:
        sign_with_keys(platform)
    latencies: list[float] = []
    threads = [
        threading.Thread(
            target=run_chain,
            args=(platform, platform.actor(holder), platform.actor(payee), ticket_id, count, latencies),
        )
        for holder, payee, ticket_id in usernames
    ]
    start.wait()
    cpu = time.process_time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    cpu = time.process_time() - cpu
    platform.close()
    results.put((latencies, cpu))


def _serve_gateway(data_dir: str, ready, stop) -> None:
    """In a child: the signing gateway on the bench's data directory until ``stop`` is set;
    reports its URL, then its CPU time, on ``ready``."""
    from goldticket.signing.gateway import GatewayServer

    platform = Platform.open(bench_settings(Path(data_dir), CARDS))
    server = GatewayServer(("127.0.0.1", 0), platform.cards.service, GATEWAY_SECRET.encode())
    server.start_in_thread()
    cpu = time.process_time()
    ready.put(server.url)
    stop.wait(600)
    ready.put(time.process_time() - cpu)
    server.shutdown()
    server.server_close()
    platform.close()


class _Gateway:
    """A signing gateway process for one measurement (``--gateway``), or nothing."""

    def __init__(self, data_dir: Path, keys: bool) -> None:
        self.data_dir, self.on = str(data_dir), GATEWAY and not keys
        self.cpu = 0.0

    def __enter__(self) -> _Gateway:
        global GATEWAY_URL
        if self.on:
            import multiprocessing

            context = multiprocessing.get_context("fork")
            self._ready, self._stop = context.Queue(), context.Event()
            self._process = context.Process(
                target=_serve_gateway, args=(self.data_dir, self._ready, self._stop)
            )
            self._process.start()
            GATEWAY_URL = self._ready.get(timeout=60)
            print(f"(a card row is signed through the gateway at {GATEWAY_URL})", flush=True)
        return self

    def __exit__(self, *_: object) -> None:
        global GATEWAY_URL
        if self.on:
            self._stop.set()
            self.cpu = self._ready.get(timeout=60)
            self._process.join(timeout=60)
            GATEWAY_URL = ""


def _transactions_per_block(data_dir: Path, first_block: int) -> float:
    """Transactions per block committed since ``first_block`` (1.0 without group commit)."""
    from goldticket.ledger import open_local_ledger

    ledger = open_local_ledger(data_dir)
    try:
        blocks = list(ledger.blocks(first_block))
    finally:
        ledger.close()
    return sum(len(block.envelopes) for block in blocks) / max(1, len(blocks))


def measure_processes(
    operations: int, processes: int, keys: bool = False, chains_per_process: int = 1
) -> dict[str, float]:
    """Several OS processes (as several portal workers would be) on one embedded ledger file,
    each running ``chains_per_process`` client threads."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    with tempfile.TemporaryDirectory() as tmp:
        platform, chains = build(Path(tmp), processes * chains_per_process)
        KEYS.clear()
        if keys:
            use_software_keys(platform, [actor for holder, payee, _ in chains for actor in (holder, payee)])
        first_block = platform.ledger.height()
        platform.close()
        gateway = _Gateway(Path(tmp), keys).__enter__()
        start, results = context.Barrier(processes + 1), context.Queue()
        names = [(holder.username, payee.username, ticket_id) for holder, payee, ticket_id in chains]
        workers = [
            context.Process(
                target=_process_worker,
                args=(
                    tmp,
                    names[index * chains_per_process : (index + 1) * chains_per_process],
                    operations // (processes * chains_per_process),
                    start,
                    results,
                ),
            )
            for index in range(processes)
        ]
        for worker in workers:
            worker.start()
        start.wait()
        started = time.perf_counter()
        reports = [results.get() for _ in workers]
        elapsed = time.perf_counter() - started
        latencies = [value for report in reports for value in report[0]]
        cpu = sum(report[1] for report in reports)
        for worker in workers:
            worker.join()
        gateway.__exit__()
        cpu += gateway.cpu
        KEYS.clear()
        label = f"{processes}p" + (f"x{chains_per_process}t" if chains_per_process > 1 else "")
        label += " keys" if keys else ""
        row = _row(label + (" shared" if SHARED else ""), latencies, elapsed, cpu)
        row["tx_per_block"] = _transactions_per_block(Path(tmp), first_block)
        return row


def _row(label: str, latencies: list[float], elapsed: float, cpu: float) -> dict[str, float]:
    done = len(latencies)
    latencies.sort()
    return {
        "label": label,
        "operations": done,
        "seconds": elapsed,
        "ops_per_s": done / elapsed,
        "tx_per_s": 2 * done / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(0.99 * (done - 1))] * 1000,
        "cpu_ms_per_op": cpu * 1000 / done,
    }


def measure(operations: int, threads: int, keys: bool = False) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        platform, chains = build(Path(tmp), threads)
        KEYS.clear()
        if keys:
            use_software_keys(platform, [actor for holder, payee, _ in chains for actor in (holder, payee)])
        first_block = platform.ledger.height()
        gateway = _Gateway(Path(tmp), keys).__enter__()
        if gateway.on:  # the same actors, signing through the gateway
            platform.close()
            platform = Platform.open(bench_settings(Path(tmp), CARDS))
        latencies: list[float] = []
        per_thread = operations // threads
        workers = [
            threading.Thread(
                target=run_chain, args=(platform, holder, payee, ticket_id, per_thread, latencies)
            )
            for holder, payee, ticket_id in chains
        ]
        started, cpu = time.perf_counter(), time.process_time()
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        platform.close()
        gateway.__exit__()
        cpu += gateway.cpu
        row = _row(f"{threads}t" + (" keys" if keys else ""), latencies, elapsed, cpu)
        row["tx_per_block"] = _transactions_per_block(Path(tmp), first_block)
        return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--operations", type=int, default=2000)
    parser.add_argument("--threads", type=int, nargs="*", default=[1, 2])
    parser.add_argument("--processes", type=int, nargs="*", default=[2])
    parser.add_argument("--cards", choices=["", "pkcs11", "software"], default="")
    parser.add_argument("--gateway", action="store_true", help="card rows sign through a gateway process")
    parser.add_argument("--keys", action="store_true", help="also the ledger core with software keys")
    parser.add_argument("--keys-only", action="store_true", help="only the software-key rows")
    parser.add_argument("--chains-per-process", type=int, default=1, help="client threads per process")
    parser.add_argument("--floor-count", type=int, default=1000, help="signs and verifies the floor times")
    parser.add_argument("--json", type=Path, help="also write the rows and the floor as JSON here")
    parser.add_argument(
        "--shared-commit", choices=["off", "on", "both"], default="off", help="process rows share one commit"
    )
    args = parser.parse_args(argv)
    global CARDS, GATEWAY, SHARED
    CARDS, GATEWAY = args.cards, args.gateway
    print("signed transfer-and-accept operations on the embedded ledger (services layer);")
    print(
        "one operation = OfferTransfer + AcceptOffer, each signed twice in the user's card (PIN checked each"
    )
    print("time, intent checked, audit-logged), endorsed, validated and committed")
    header = f"{'workers':>12} {'ops':>6} {'seconds':>8} {'ops/s':>8} {'tx/s':>8} {'p50 ms':>7} {'p99 ms':>7}"
    print(header.replace("     workers", "        workers") + f" {'tx/block':>8} {'cpu ms/op':>9}")
    per_process = args.chains_per_process
    shared_modes = {"off": [False], "on": [True], "both": [False, True]}[args.shared_commit]

    def process_rows(keys: bool) -> list[dict[str, float]]:
        global SHARED
        rows = []
        for count in args.processes:
            for shared in shared_modes:
                SHARED = shared
                rows.append(measure_processes(args.operations, count, keys, per_process))
        SHARED = False
        return rows

    rows = []
    if not args.keys_only:
        rows += [measure(args.operations, threads) for threads in args.threads]
        rows += process_rows(False)
    if args.keys or args.keys_only:
        rows += [measure(args.operations, threads, keys=True) for threads in args.threads]
        rows += process_rows(True)
    for row in rows:
        print(
            f"{row['label']:>15} {row['operations']:>6} {row['seconds']:>8.2f} {row['ops_per_s']:>8.0f} "
            f"{row['tx_per_s']:>8.0f} {row['p50_ms']:>7.2f} {row['p99_ms']:>7.2f} {row['tx_per_block']:>8.2f}"
            f" {row['cpu_ms_per_op']:>9.2f}"
        )
    import floor as floors  # bench/floor.py, beside this script

    floor = floors.measure(args.floor_count, max(20, args.floor_count // 10))
    floors.print_floor(floor)
    per = floor["per_operation"]["today_cpu_ms"]
    print(
        "cpu ms/op over the floor: "
        + ", ".join(f"{r['label']} {r['cpu_ms_per_op'] / per:.1f}x" for r in rows)
    )
    if args.json:
        report = {
            "script": "transfer_throughput",
            "cards": (CARDS or "default") + (" via gateway" if GATEWAY else ""),
            "rows": rows,
            "floor": floor,
        }
        args.json.write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
