"""Find in a ticket list at scale (#20): a member's book of tickets searched, filtered, sorted
and paged through goldticket.services.reads.list_tickets (what GET /api/v1/tickets and the
export call), p50/p95 per query, with the floor measured in the same run: a bare SELECT of one
page of the same member's rows on the same table (the index scan every list pays).

    python bench/ticket_search.py [--tickets 100000] [--requests 50] [--postgres URL] [--json PATH]

The read model is filled directly in the store (rows shaped like the follower's: five
suppliers holding tickets of three core enterprises, every live state, maturities over a year,
one invoice each), not through the ledger: 100,000 signed tickets would take hours and the
list reads only the read model. The reads need the database and the business date only; no
ledger is opened. SQLite by default (a file in a temporary directory); with --postgres (a
server URL as tools/postgres.sh prints) a fresh database on that server, dropped at the end.
The goal: p95 <= 300 ms at 100,000 tickets.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
import types
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import insert, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from goldticket.services import reads  # noqa: E402
from goldticket.services.context import OPERATOR, Actor  # noqa: E402
from goldticket.store.database import Database  # noqa: E402
from goldticket.store.models import MemberRow, ParticipantRow, TicketRow  # noqa: E402

TODAY = dt.date(2026, 12, 1)
CORES = [("hdzg", "华东重工集团有限公司"), ("nfjt", "南方建投集团"), ("bjqc", "北京汽车制造有限公司")]
SUPPLIERS = [
    ("szjm", "苏州精密机械有限公司"),
    ("wxdj", "无锡电机股份有限公司"),
    ("czzg", "常州铸钢厂"),
    ("ntfz", "南通纺织有限公司"),
    ("yzhg", "扬州化工有限公司"),
]
STATES = ["ACTIVE"] * 6 + ["PENDING_ACCEPTANCE", "FINANCED", "SETTLED", "LOCKED_TRANSFER"]


def fill(database: Database, count: int) -> None:
    with database.session() as session:
        for member_id, name in CORES + SUPPLIERS:
            role = "core" if (member_id, name) in CORES else "supplier"
            session.add(MemberRow(id=member_id, role=role, doc=json.dumps({"id": member_id, "name": name})))
    for start in range(0, count, 5000):
        tickets, participants = [], []
        for index in range(start, min(count, start + 5000)):
            ticket_id = f"TK{index:020X}"
            holder = SUPPLIERS[index % len(SUPPLIERS)][0]
            issuer = CORES[index % len(CORES)][0]
            amount = 100_000 + (index * 7919) % 100_000_000  # 1,000.00 to ~1,000,000.00
            maturity = (TODAY + dt.timedelta(days=10 + index % 360)).isoformat()
            number = f"FP-{index:08d}"
            doc = {
                "id": ticket_id,
                "root_id": ticket_id,
                "parent_id": None,
                "issuer_org_id": issuer,
                "holder_org_id": holder,
                "amount_fen": amount,
                "issue_date": TODAY.isoformat(),
                "maturity_date": maturity,
                "status": STATES[index % len(STATES)],
                "invoices": [{"number": number, "amount_fen": amount, "sha256": "0" * 64}],
                "tx_id": f"{index:064x}",
                "frozen_from": None,
                "credit_line_id": "CL0",
            }
            tickets.append(
                {
                    "id": ticket_id,
                    "root_id": ticket_id,
                    "parent_id": None,
                    "issuer_org_id": issuer,
                    "holder_org_id": holder,
                    "amount_fen": amount,
                    "maturity_date": maturity,
                    "status": doc["status"],
                    "block": 1,
                    "doc": json.dumps(doc),
                    "invoice_numbers": number,
                }
            )
            participants += [
                {"org_id": holder, "root_id": ticket_id},
                {"org_id": issuer, "root_id": ticket_id},
            ]
        with database.session() as session:
            session.execute(insert(TicketRow), tickets)
            session.execute(insert(ParticipantRow), participants)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def measure(action: Callable[[], object], requests: int) -> list[float]:
    action()  # warm
    times = []
    for _ in range(requests):
        begin = time.perf_counter()
        action()
        times.append((time.perf_counter() - begin) * 1000)
    return times


def run(url: str, args: argparse.Namespace) -> dict[str, object]:
    database = Database(url)
    try:
        database.migrate()
        started = time.perf_counter()
        fill(database, args.tickets)
        filled = time.perf_counter() - started
        # reads.list_tickets needs the database and the business date only
        portal = types.SimpleNamespace(database=database, platform=types.SimpleNamespace(today=lambda: TODAY))
        supplier = Actor(username="szjm.clerk", member_id="szjm", role="clerk")
        operator = Actor(username="operator", member_id=OPERATOR, role="admin")
        book = {"holder_org_id": "szjm"}
        middle = args.tickets // 2 - args.tickets // 2 % len(SUPPLIERS)  # a ticket szjm holds
        deep = max(1, args.tickets // len(SUPPLIERS) // 50 - 1)  # the book's last full page
        F = reads.TicketFilter
        queries: list[tuple[str, Actor, dict[str, object]]] = [
            ("book, page 1", supplier, book),
            (f"book, page {deep} (deep)", supplier, {**book, "page": deep}),
            ("book, by maturity desc", supplier, {**book, "find": F(sort="maturity_date", order="desc")}),
            (
                "book, ACTIVE, maturity in 90 days",
                supplier,
                {
                    **book,
                    "find": F(
                        status="ACTIVE",
                        maturity_from=TODAY,
                        maturity_to=TODAY + dt.timedelta(days=90),
                        sort="maturity_date",
                    ),
                },
            ),
            (
                "book, 10,000-20,000 yuan by amount",
                supplier,
                {**book, "find": F(amount_min_fen=1_000_000, amount_max_fen=2_000_000, sort="amount_fen")},
            ),
            ("book, search invoice no.", supplier, {**book, "find": F(q=f"FP-{middle:08d}")}),
            ("book, search ticket no. part", supplier, {**book, "find": F(q=f"{middle:020X}"[-8:])}),
            ("book, search counterparty", supplier, {**book, "find": F(q="南方建投")}),
            ("operator, all, ACTIVE, page 1", operator, {"find": F(status="ACTIVE")}),
        ]

        def floor() -> None:
            with database.session() as session:
                session.execute(
                    text("SELECT id, doc FROM rm_tickets WHERE holder_org_id = :h ORDER BY id LIMIT 50"),
                    {"h": "szjm"},
                ).all()

        rows = []
        floor_times = measure(floor, args.requests)
        rows.append(("floor: bare SELECT of one page", floor_times, None))
        for label, actor, kwargs in queries:
            found: dict[str, object] = {}

            def listed(
                actor: Actor = actor, kwargs: dict[str, object] = kwargs, found: dict[str, object] = found
            ) -> None:
                found.update(reads.list_tickets(portal, actor, **kwargs))  # type: ignore[arg-type]

            times = measure(listed, args.requests)
            assert found["items"], label  # every query finds something
            rows.append((label, times, found["total"]))
        return {"filled_s": filled, "rows": rows}
    finally:
        database.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--postgres", help="a PostgreSQL server URL: also measure there")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args()
    report: dict[str, object] = {"script": "ticket_search", "tickets": args.tickets, "databases": {}}
    with tempfile.TemporaryDirectory() as tmp:
        targets = [("sqlite", f"sqlite:///{Path(tmp) / 'portal.sqlite'}", None)]
        if args.postgres:
            name = f"goldticket_bench_{secrets.token_hex(4)}"
            base = args.postgres.replace("postgresql://", "postgresql+psycopg://", 1).rsplit("/", 1)[0]
            targets.append(("postgresql", f"{base}/{name}", name))
        for kind, url, name in targets:
            if name:
                import psycopg

                with psycopg.connect(args.postgres, autocommit=True) as connection:
                    connection.execute(f'CREATE DATABASE "{name}"')
            try:
                result = run(url, args)
            finally:
                if name:
                    with psycopg.connect(args.postgres, autocommit=True) as connection:
                        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            print(
                f"{kind}: {args.tickets:,} tickets (filled in {result['filled_s']:.1f} s), "
                f"{args.requests} requests each, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}"
            )
            print("| query | rows matched | p50 ms | p95 ms |")
            print("|---|---|---|---|")
            figures = []
            for label, times, total in result["rows"]:  # type: ignore[attr-defined]
                p50, p95 = statistics.median(times), percentile(times, 0.95)
                shown = "" if total is None else f"{total:,}"
                print(f"| {label} | {shown} | {p50:.1f} | {p95:.1f} |")
                figures.append({"step": label, "matched": total, "median_ms": p50, "p95_ms": p95})
            worst = max(f["p95_ms"] for f in figures[1:])  # type: ignore[type-var]
            print(f"worst p95 {worst:.1f} ms (goal <= 300 ms)")
            report["databases"][kind] = {"filled_s": result["filled_s"], "rows": figures}  # type: ignore[index]
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
