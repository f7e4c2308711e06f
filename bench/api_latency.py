"""API latency: writes through the API (issue + accept), and reads of the ticket list and a
ticket's page with 100,000 tickets in the read model; then a full projection rebuild.

The 100,000 tickets are inserted into the projection directly (rows shaped like the
follower's); writes and the rebuild go through the real ledger. Requests go through Flask's
test client in this process (no network hop; the cards sign in-process). Prints a table.

    python bench/api_latency.py [--tickets 100000] [--writes 40] [--reads 300] [--json PATH]
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from goldticket.services import accounts, members, setup  # noqa: E402
from goldticket.services.portal import Portal  # noqa: E402
from goldticket.settings import Settings  # noqa: E402
from goldticket.store.models import ParticipantRow, TicketRow  # noqa: E402
from web import create_app  # noqa: E402

PIN = "135790"
PASSWORD = "bench password 1"
TODAY = dt.date(2026, 12, 1)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def timed(call, count: int) -> list[float]:
    samples = []
    for index in range(count):
        started = time.perf_counter()
        call(index)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--writes", type=int, default=40)
    parser.add_argument("--reads", type=int, default=300)
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="goldticket-bench-"))
    settings = Settings(
        data_dir=data_dir,
        env="test",
        today=TODAY,
        card_kdf_n=2**14,
        signer_rate=100_000.0,
        operator_password="bench operator password",
        operator_pin="246810",
        password_memory_kib=8192,
    )
    portal = setup.init_portal(settings)
    for member_id, role, username in (
        ("core", "core", "core.clerk"),
        ("s1", "supplier", "s1.clerk"),
        ("bank", "bank", "bank.credit"),
    ):
        members.register_member(
            portal.platform, portal.platform.desk(), member_id=member_id, name=member_id, role=role
        )
        members.add_user(
            portal.platform, portal.platform.desk(), member_id=member_id, username=username, pin=PIN
        )
        accounts.ensure_account(portal, username=username, org_id=member_id, role="clerk", password=PASSWORD)
    client = create_app(
        {"GOLDTICKET_PORTAL": portal, "FOLLOW_SECONDS": 0, "LOG_REQUESTS": False}
    ).test_client()

    def token(username: str) -> dict[str, str]:
        answer = client.post(
            "/api/v1/auth/token", json={"username": username, "password": PASSWORD}
        ).get_json()
        return {"Authorization": f"Bearer {answer['token']}"}

    core, supplier, bank = token("core.clerk"), token("s1.clerk"), token("bank.credit")
    operator_token = token_operator(client, settings)
    line = client.post(
        "/api/v1/credit-lines", json={"core_org_id": "core", "limit_fen": 10**13, "pin": PIN}, headers=bank
    ).get_json()
    client.post(f"/api/v1/credit-lines/{line['id']}/accept", json={"pin": PIN}, headers=core)
    maturity = (TODAY + dt.timedelta(days=90)).isoformat()
    issued: list[str] = []

    def write(index: int) -> None:
        number = f"B-{index}"
        body = {
            "payee_org_id": "s1",
            "amount_fen": 1_000_000,
            "maturity_date": maturity,
            "invoices": [
                {
                    "number": number,
                    "amount_fen": 1_000_000,
                    "sha256": hashlib.sha256(number.encode()).hexdigest(),
                }
            ],
            "pin": PIN,
        }
        answer = client.post("/api/v1/tickets", json=body, headers=core)
        assert answer.status_code == 201, answer.get_json()
        issued.append(answer.get_json()["id"])

    def accept(index: int) -> None:
        answer = client.post(f"/api/v1/tickets/{issued[index]}/accept", json={"pin": PIN}, headers=supplier)
        assert answer.status_code == 200, answer.get_json()

    issue_ms = timed(write, args.writes)
    accept_ms = timed(accept, args.writes)

    started = time.perf_counter()
    fill(portal, args.tickets)
    fill_s = time.perf_counter() - started

    pages = max(1, min(20, args.tickets // 2 // 50))  # the pages s1's share of the tickets fills

    def list_page(index: int) -> None:
        page = 1 + index % pages
        answer = client.get(f"/api/v1/tickets?holder_org_id=s1&status=ACTIVE&page={page}", headers=supplier)
        assert answer.status_code == 200
        listed = answer.get_json()
        assert len(listed["items"]) == min(50, listed["total"] - 50 * (page - 1))

    def list_operator(index: int) -> None:
        answer = client.get(f"/api/v1/tickets?status=ACTIVE&page={1 + index % 20}", headers=operator_token)
        assert answer.status_code == 200

    def ticket_page(index: int) -> None:
        answer = client.get(f"/api/v1/tickets/TKbeefbeef{index * 662 % args.tickets:012x}", headers=supplier)
        assert answer.status_code == 200

    lists = timed(list_page, args.reads)
    lists_operator = timed(list_operator, args.reads)
    pages = timed(ticket_page, args.reads)
    height = portal.platform.ledger.height()
    with (
        portal.database.session() as session
    ):  # the rebuild drops synthetic rows too; time it on the ledger alone
        session.query(TicketRow).filter(TicketRow.id.like("TKbeefbeef%")).delete(synchronize_session=False)
    started = time.perf_counter()
    portal.follower.rebuild()
    rebuild_s = time.perf_counter() - started
    rows = [
        ("issue a ticket (POST /tickets)", issue_ms),
        ("accept it (POST /tickets/{id}/accept)", accept_ms),
        (f"list 50 of a supplier's {args.tickets:,} (GET /tickets?holder&status&page)", lists),
        ("list 50, operator (GET /tickets?status&page)", lists_operator),
        ("one ticket (GET /tickets/{id})", pages),
    ]
    print(f"{'operation':<64} {'n':>5} {'p50 ms':>8} {'p95 ms':>8}")
    for name, samples in rows:
        print(
            f"{name:<64} {len(samples):>5} {statistics.median(samples):>8.1f} {percentile(samples, 0.95):>8.1f}"
        )
    print(f"filled {args.tickets:,} tickets into the projection in {fill_s:.1f} s")
    print(f"full rebuild of {height} blocks: {rebuild_s:.2f} s ({height / rebuild_s:.0f} blocks/s)")
    if args.json:
        figures = [
            {
                "operation": name,
                "n": len(samples),
                "p50_ms": statistics.median(samples),
                "p95_ms": percentile(samples, 0.95),
            }
            for name, samples in rows
        ]
        report = {"script": "api_latency", "tickets": args.tickets, "rows": figures}
        report["rebuild"] = {"blocks": height, "seconds": rebuild_s, "blocks_per_s": height / rebuild_s}
        args.json.write_text(json.dumps(report, indent=1) + "\n")
    portal.close()


def token_operator(client, settings: Settings) -> dict[str, str]:
    body = {"username": "operator", "password": settings.operator_password}
    return {"Authorization": f"Bearer {client.post('/api/v1/auth/token', json=body).get_json()['token']}"}


def fill(portal: Portal, count: int) -> None:
    """Rows as the follower writes them: roots issued by core, held by s1 or others."""
    batch = []
    with portal.database.session() as session:
        for index in range(count):
            ticket_id = f"TKbeefbeef{index:012x}"  # the shape of a ticket id: TK + 20 hex
            holder = "s1" if index % 2 == 0 else f"other{index % 7}"
            doc = {
                "id": ticket_id,
                "root_id": ticket_id,
                "parent_id": None,
                "issuer_org_id": "core",
                "holder_org_id": holder,
                "amount_fen": 1_000_000 + index,
                "issue_date": TODAY.isoformat(),
                "maturity_date": (TODAY + dt.timedelta(days=90)).isoformat(),
                "status": "ACTIVE",
                "invoices": [{"number": f"I{index}", "amount_fen": 1_000_000 + index, "sha256": "0" * 64}],
                "tx_id": f"{index:064x}",
                "frozen_from": None,
                "credit_line_id": "CL0",
            }
            batch.append(
                TicketRow(
                    id=ticket_id,
                    root_id=ticket_id,
                    parent_id=None,
                    issuer_org_id="core",
                    holder_org_id=holder,
                    amount_fen=doc["amount_fen"],
                    maturity_date=doc["maturity_date"],
                    status="ACTIVE",
                    block=1,
                    doc=json.dumps(doc),
                )
            )
            batch.append(ParticipantRow(org_id=holder, root_id=ticket_id))
            if holder != "core":
                batch.append(ParticipantRow(org_id="core", root_id=ticket_id))
        session.add_all(batch)


if __name__ == "__main__":
    main()
