"""Signatures per second of BSIM cards: on the card alone, through the signing service
in-process (intent check, PIN count, audit log), and through the signing gateway over HTTP.

    python bench/gateway_signatures.py [--signatures N] [--clients C] [--cards pkcs11|software] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

from transfer_throughput import PIN, bench_settings

from goldticket import messages as m
from goldticket.services import Platform, members
from goldticket.services.setup import init_platform
from goldticket.signing.client import GatewayClient
from goldticket.signing.gateway import GatewayServer

SECRET = "bench deployment secret, 32 chars"


def setup(data_dir: Path, cards: str, count: int) -> tuple[Platform, list[str]]:
    platform = init_platform(bench_settings(data_dir, cards))
    members.register_member(platform, platform.desk(), member_id="s", name="供应商", role="supplier")
    serials = []
    for index in range(count):
        members.add_user(platform, platform.desk(), member_id="s", username=f"s.clerk{index}", pin=PIN)
        serials.append(platform.cards.registry.active_card(f"s.clerk{index}").serial)
    return platform, serials


def proposals(identity: m.Identity, count: int) -> list[tuple[bytes, dict]]:
    made = []
    for index in range(count):
        request = {"ticket_id": f"TK{index:020d}", "to_org_id": "t", "amount_fen": 100 + index}
        proposal = m.build_proposal(
            channel_id="goldticket",
            chaincode="goldticket",
            function="OfferTransfer",
            args=[json.dumps(request, sort_keys=True)],
            creator=identity,
        )
        made.append((proposal.bytes, {"function": "OfferTransfer", "request": request}))
    return made


def run(label: str, sign, serials: list[str], work: dict[str, list], clients: int) -> tuple[str, int, float]:
    def worker(serial: str) -> None:
        for message, intent in work[serial]:
            sign(serial=serial, pin=PIN, purpose="proposal", message=message, intent=intent)

    threads = [threading.Thread(target=worker, args=(serial,)) for serial in serials[:clients]]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return label, sum(len(work[s]) for s in serials[:clients]), elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--signatures", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--cards", choices=["", "pkcs11", "software"], default="")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        platform, serials = setup(Path(tmp), args.cards, args.clients)
        service = platform.cards.service
        per_card = args.signatures // args.clients
        work = {serial: proposals(service.identity(serial), per_card) for serial in serials}
        record = platform.cards.registry.get(serials[0])
        card = service.card_for(record)
        digest = m.sha256(b"x")
        started = time.perf_counter()
        for _ in range(per_card):
            card.sign_digest(digest, PIN)
        rows = [(f"card alone ({record.backend}), 1 thread", per_card, time.perf_counter() - started)]
        rows.append(
            run(
                f"signing service in-process, {args.clients} threads",
                service.sign,
                serials,
                work,
                args.clients,
            )
        )
        server = GatewayServer(("127.0.0.1", 0), service, SECRET.encode())
        server.start_in_thread()
        client = GatewayClient(server.url, SECRET)
        rows.append(
            run(f"gateway over HTTP, {args.clients} clients", client.sign, serials, work, args.clients)
        )
        server.shutdown()
        server.server_close()
        platform.close()
    print(f"{'path':<44} {'signatures':>10} {'seconds':>8} {'per second':>10}")
    for label, count, seconds in rows:
        print(f"{label:<44} {count:>10} {seconds:>8.2f} {count / seconds:>10.0f}")
    if args.json:
        figures = [
            {"path": label, "signatures": count, "seconds": seconds, "per_second": count / seconds}
            for label, count, seconds in rows
        ]
        args.json.write_text(json.dumps({"script": "gateway_signatures", "rows": figures}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
