"""GoldTicket on a real Fabric network: write transactions per second and commit latency at 50
concurrent clients, beside a one-key Ping in the same run (the bare-Fabric ceiling).

    python bench/fabric_throughput.py [--clients 50] [--seconds 30] [--rounds 2]
        [--batch-timeout 250ms] [--orderers 1] [--port-base 26050] [--network DATA_DIR]
        [--json PATH]

It brings up its own network (ports from --port-base to 140 above it) unless --network names
the data directory of one that is up (laid out as the environment says: GOLDTICKET_FABRIC_PORT_BASE,
ORDERERS, GOLDTICKET_FABRIC_DIR, as for `make network-up`). Each client signs with its own software key registered on the ledger (the
ledger and Fabric are measured, not the cards). A GoldTicket operation is a transfer and its
acceptance: OfferTransfer by the holder, then AcceptOffer by the payee, two transactions that
each read and write the ticket, its offer and holdings and create a piece; measured as bare
transactions and through the services (which first read the ticket or offer to refuse a wrong
party before any card is asked). Ping writes one key.
Latency is from building the proposal to the commit status (endorse, sign, submit, commit).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import dataclasses
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY / "fabric-network"))
sys.path.insert(0, str(REPOSITORY / "bench"))

from fabnet import binaries, lifecycle, network, probe  # noqa: E402
from fabnet.layout import Layout  # noqa: E402
from transfer_throughput import KEYS, PIN, bench_settings, build, use_software_keys  # noqa: E402

from goldticket.services import transfers  # noqa: E402


@dataclasses.dataclass
class Phase:
    name: str
    transactions: int
    seconds: float
    latencies: list[float]
    errors: int
    reasons: dict[str, int]

    @property
    def rate(self) -> float:
        return self.transactions / self.seconds

    def percentile(self, q: int) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * q / 100))] if ordered else float("nan")


def run_phase(name: str, clients: int, seconds: float, step: Callable[[int], int]) -> Phase:
    """Each client repeats ``step`` (which returns how many transactions it committed) until
    ``seconds`` have passed."""
    latencies: list[float] = []
    counts = [0] * clients
    errors = [0] * clients
    reasons: dict[str, int] = {}
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client(index: int) -> None:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                done = step(index)
            except Exception as error:  # noqa: BLE001 - counted, the run goes on
                errors[index] += 1
                with lock:
                    reason = f"{type(error).__name__}: {str(error)[:100]}"
                    reasons[reason] = reasons.get(reason, 0) + 1
                continue
            elapsed = (time.perf_counter() - started) / done
            with lock:
                latencies.extend([elapsed] * done)
            counts[index] += done

    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(client, range(clients)))
    return Phase(name, sum(counts), time.monotonic() - started, latencies, sum(errors), reasons)


def network_layout(data_dir: str, environ: Mapping[str, str] | None = None) -> Layout:
    """The layout of the network that is up in ``data_dir``, as `make network-up` made it from the
    environment (GOLDTICKET_FABRIC_PORT_BASE, ORDERERS, GOLDTICKET_FABRIC_DIR...)."""
    env = {**(os.environ if environ is None else environ), "GOLDTICKET_DATA_DIR": data_dir}
    return network.with_recorded_mode(Layout.from_env(env), env)


def operator_key(platform):  # type: ignore[no-untyped-def]
    """A software key of an operator clerk, registered and approved by the operator's admin."""
    from goldticket.messages import Identity
    from goldticket.signing import SoftwareSigner, new_member_key

    operator, pin = platform.actor("operator"), platform.settings.operator_pin
    ca = platform.keystore.cas()["OperatorMSP"]
    key = new_member_key()
    attributes = {"member": "operator", "role": "clerk", "user": "bench.pinger"}
    cert = ca.issue(key.public_key(), common_name="bench.pinger", attributes=attributes)
    request = {"msp_id": ca.msp_id, "certificate_pem": cert.decode()}
    platform.submit(operator, "RegisterIdentity", request, pin=pin)
    if platform.evaluate("GetIdentity", request)["status"] != "ACTIVE":
        platform.submit(operator, "ApproveIdentity", request, pin=pin)
    return SoftwareSigner(key, Identity(ca.msp_id, cert))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--batch-timeout", default="250ms")
    parser.add_argument("--orderers", type=int, default=1)
    parser.add_argument(
        "--port-base", type=int, default=26050, help="first port of its own network (below 32768)"
    )
    parser.add_argument("--network", help="data directory of a network that is up")
    parser.add_argument(
        "--namespaces",
        action="store_true",
        help="its own network with each organisation in a network namespace (root)",
    )
    parser.add_argument("--json", type=Path, help="also write the phases as JSON here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="gt-fabric-bench-") as tmp:
        if args.network:
            layout = network_layout(args.network)
        else:
            layout = Layout.create(
                Path(tmp) / "network",
                orderers=args.orderers,
                port_base=args.port_base,
                batch_timeout=args.batch_timeout,
                namespaces=args.namespaces,
            )
            layout = dataclasses.replace(layout, time_window="87600h")
            network.up(
                layout,
                say=lambda line: print(line, file=sys.stderr),
                probe=lambda lay: probe.ping(lay) and None,
            )
        try:
            return measure(layout, Path(tmp), args)
        finally:
            if not args.network:
                network.clean(layout, say=lambda _: None)


def measure(layout: Layout, tmp: Path, args: argparse.Namespace) -> int:
    fabric = binaries.find_binaries()
    pkg_id = lifecycle.package_id(layout, fabric)
    name = f"bench{int(time.time())}"
    network.deploy_chaincode(layout, fabric, name, pkg_id)
    probe.ping(layout, chaincode=name)
    data_dir = tmp / "data"
    shutil.copytree(layout.data_dir / "msp", data_dir / "msp")
    settings = dataclasses.replace(
        bench_settings(data_dir), ledger="fabric", chaincode=name, fabric_profile=layout.profile
    )
    started = time.monotonic()
    platform, chains = build(data_dir, args.clients, settings)
    pinger = operator_key(platform)  # Ping writes only for the operator's registered users
    use_software_keys(platform, [actor for chain in chains for actor in chain[:2]])
    print(f"set-up: {args.clients} chains in {time.monotonic() - started:.0f} s", file=sys.stderr)
    heads = [chain[2] for chain in chains]

    def ping(index: int) -> int:
        platform.contract.submit(pinger, "Ping", {"key": f"client{index}"})
        return 1

    # An offer that committed but whose acceptance failed is accepted again, not offered again:
    # its ticket is LOCKED_TRANSFER until then (re-offering it failed for the rest of the run).
    pending: list[str | None] = [None] * args.clients

    def move(index: int) -> int:
        holder, payee, _ = chains[index]
        offered = 0
        if pending[index] is None:
            # the ledger operation through the services, as transfer_throughput.py measures it: no
            # transfer agreement or notice (PAdES signatures of the card, not of these keys)
            offer = transfers.offer_transfer(
                platform,
                holder,
                ticket_id=heads[index],
                to_org_id=payee.member_id,
                amount_fen=1,
                pin=PIN,
                documents=False,
            )
            pending[index], offered = offer["offer_id"], 1
        moved = transfers.accept_offer(platform, payee, str(pending[index]), pin=PIN)
        pending[index], heads[index] = None, moved["remainder"]["id"]
        return offered + 1

    def move_bare(index: int) -> int:
        """The same two transactions without the services' read-before-write checks."""
        holder, payee, _ = chains[index]
        offered = 0
        if pending[index] is None:
            request = {"ticket_id": heads[index], "to_org_id": payee.member_id, "amount_fen": 1}
            offer, _, _ = platform.contract.submit(KEYS[holder.username], "OfferTransfer", request)
            pending[index], offered = offer["offer_id"], 1
        moved, _, _ = platform.contract.submit(
            KEYS[payee.username], "AcceptOffer", {"offer_id": pending[index]}
        )
        pending[index], heads[index] = None, moved["remainder"]["id"]
        return offered + 1

    phases = []
    for _ in range(args.rounds):
        phases.append(run_phase("ping (one key)", args.clients, args.seconds, ping))
        phases.append(run_phase("GoldTicket transactions", args.clients, args.seconds, move_bare))
        phases.append(run_phase("GoldTicket via services", args.clients, args.seconds, move))
    print(
        f"\nFabric v3.1.5, {len(layout.orderers)} raft orderer(s), 3 peer orgs, MAJORITY endorsement, "
        f"BatchTimeout {layout.batch_timeout}, {args.clients} concurrent clients, {args.seconds:.0f} s a phase"
    )
    print(f"{'phase':<28} {'tx':>6} {'tx/s':>7} {'p50 s':>7} {'p99 s':>7} {'errors':>7}")
    for phase in phases:
        print(
            f"{phase.name:<28} {phase.transactions:>6} {phase.rate:>7.1f} "
            f"{phase.percentile(50):>7.3f} {phase.percentile(99):>7.3f} {phase.errors:>7}"
        )
    for phase in phases:
        for reason, count in sorted(phase.reasons.items(), key=lambda item: -item[1])[:3]:
            print(f"  {phase.name}: {count} x {reason}")
    ping_rate = statistics.mean(p.rate for p in phases if p.name.startswith("ping"))
    for name in ("GoldTicket transactions", "GoldTicket via services"):
        rate = statistics.mean(p.rate for p in phases if p.name == name)
        print(f"{name} / ping rate: {rate / ping_rate:.0%}")
    if args.json:
        figures = [
            {
                "phase": p.name,
                "transactions": p.transactions,
                "tx_per_s": p.rate,
                "p50_s": p.percentile(50),
                "p99_s": p.percentile(99),
                "errors": p.errors,
            }
            for p in phases
        ]
        report = {"script": "fabric_throughput", "clients": args.clients, "orderers": len(layout.orderers)}
        report["rows"] = figures
        args.json.write_text(json.dumps(report, indent=1) + "\n")
    platform.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
