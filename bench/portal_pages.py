"""The portal's pages: p50/p95 of each page per role, with the demo consortium plus 10,000
generated tickets in the read model (the goal is under 300 ms p95).

The demo's life cycle and one open financing application go through the real ledger; the
10,000 tickets are inserted into the projection directly (rows shaped like the follower's:
issued by the demo's core enterprise, held by its suppliers and banks, in every live state,
maturities spread over a year). Requests go through Flask's test client in this process with
a logged-in session cookie (no network hop). Prints a table.

    python bench/portal_pages.py [--tickets 10000] [--requests 100]
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import io
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from goldticket.services import accounts, certificates, financing, setup, tickets  # noqa: E402
from goldticket.services.demo import DEMO_PIN, run_demo  # noqa: E402
from goldticket.services.portal import Portal  # noqa: E402
from goldticket.settings import Settings  # noqa: E402
from goldticket.store.models import ParticipantRow, TicketRow  # noqa: E402
from web import create_app  # noqa: E402

HOLDERS = ["szjm", "wxdj", "czzg", "jnyh", "hhbl"]
STATES = ["ACTIVE"] * 6 + ["PENDING_ACCEPTANCE", "FINANCED", "SETTLED", "LOCKED_TRANSFER"]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def fill(portal: Portal, count: int) -> None:
    today = portal.platform.today()
    batch: list[object] = []
    for index in range(count):
        ticket_id = f"TKpage{index:016d}"
        holder = HOLDERS[index % len(HOLDERS)]
        status = STATES[index % len(STATES)]
        maturity = (today + dt.timedelta(days=10 + index % 360)).isoformat()
        doc = {
            "id": ticket_id,
            "root_id": ticket_id,
            "parent_id": None,
            "issuer_org_id": "hdzg",
            "holder_org_id": holder,
            "amount_fen": 1_000_000 + index,
            "issue_date": today.isoformat(),
            "maturity_date": maturity,
            "status": status,
            "invoices": [{"number": f"P{index}", "amount_fen": 1_000_000 + index, "sha256": "0" * 64}],
            "tx_id": f"{index:064x}",
            "frozen_from": None,
            "credit_line_id": "CL0",
        }
        batch.append(
            TicketRow(
                id=ticket_id,
                root_id=ticket_id,
                parent_id=None,
                issuer_org_id="hdzg",
                holder_org_id=holder,
                amount_fen=doc["amount_fen"],
                maturity_date=maturity,
                status=status,
                block=1,
                doc=json.dumps(doc),
            )
        )
        batch.append(ParticipantRow(org_id=holder, root_id=ticket_id))
        batch.append(ParticipantRow(org_id="hdzg", root_id=ticket_id))
    with portal.database.session() as session:
        session.add_all(batch)


def login(app, username: str, password: str):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    answer = client.post("/login", data={"username": username, "password": password, "csrf_token": token})
    assert answer.status_code == 302, answer.status_code
    return client


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            data_dir=Path(tmp) / "data",
            env="test",
            card_kdf_n=2**14,
            signer_rate=100_000,
            operator_password="bench operator password",
            operator_pin="246810",
            password_memory_kib=8192,
        )
        portal = setup.init_portal(settings)
        run_demo(portal.platform, lambda text: None)
        accounts.ensure_demo_accounts(portal)
        platform = portal.platform
        core, supplier = platform.actor("hdzg.clerk"), platform.actor("szjm.clerk")
        invoice = {
            "number": "BENCH-1",
            "amount_fen": 50_000_000,
            "sha256": hashlib.sha256(b"bench").hexdigest(),
        }
        maturity = platform.today() + dt.timedelta(days=60)
        root = tickets.issue_ticket(
            platform,
            core,
            payee_org_id="szjm",
            amount_fen=50_000_000,
            maturity_date=maturity,
            invoices=[invoice],
            pin=DEMO_PIN,
        )
        tickets.accept_ticket(platform, supplier, root["id"], pin=DEMO_PIN)
        application = financing.apply_financing(
            platform,
            supplier,
            ticket_id=root["id"],
            bank_org_id="jnyh",
            max_annual_rate_bp=10_000,
            amount_fen=20_000_000,
            pin=DEMO_PIN,
        )
        certificate = certificates.issue_certificate(platform, supplier, root["id"])
        portal.follower.catch_up()
        started = time.perf_counter()
        fill(portal, args.tickets)
        filled = time.perf_counter() - started
        app = create_app({"GOLDTICKET_PORTAL": portal, "FOLLOW_SECONDS": 0, "SECRET_KEY": "bench"})
        app.logger.disabled = True
        import logging

        logging.getLogger("goldticket").setLevel(logging.WARNING)
        clients = {
            name: login(
                app, name, settings.operator_password if name == "operator" else accounts.DEMO_PASSWORD
            )
            for name in ("hdzg.clerk", "szjm.clerk", "jnyh.credit", "operator")
        }
        supplier_ticket = "TKpage" + f"{0:016d}"  # held by szjm, ACTIVE
        pages = [
            ("core", "hdzg.clerk", "GET", "/", None),
            ("core", "hdzg.clerk", "GET", "/issue", None),
            ("core", "hdzg.clerk", "GET", f"/tickets/{root['id']}", None),
            ("core", "hdzg.clerk", "GET", "/credit", None),
            ("supplier", "szjm.clerk", "GET", "/", None),
            ("supplier", "szjm.clerk", "GET", f"/tickets/{supplier_ticket}", None),
            ("supplier", "szjm.clerk", "GET", f"/tickets/{supplier_ticket}/transfer", None),
            ("supplier", "szjm.clerk", "GET", f"/tickets/{supplier_ticket}/finance", None),
            ("bank", "jnyh.credit", "GET", "/", None),
            ("bank", "jnyh.credit", "GET", f"/applications/{application['application_id']}", None),
            ("bank", "jnyh.credit", "GET", "/certificates/verify", None),
            ("bank", "jnyh.credit", "POST", "/certificates/verify", certificate.pdf),
            ("public", "jnyh.credit", "GET", f"/verify/{certificate.certificate_id}", None),
            ("operator", "operator", "GET", "/", None),
            ("operator", "operator", "GET", "/desk", None),
        ]
        print(f"demo consortium + {args.tickets:,} generated tickets (inserted in {filled:.1f} s)")
        print(f"{'role':<9} {'page':<44} {'n':>4} {'p50 ms':>8} {'p95 ms':>8}")
        worst = 0.0
        figures = []
        for role, user, method, path, upload in pages:
            client = clients[user]
            times = []
            form = {}
            if upload is not None:  # a certificate PDF posted with the form's CSRF token
                page = client.get(path).get_data(as_text=True)
                form["csrf_token"] = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
            for _ in range(args.requests):
                data = (
                    {**form, "file": (io.BytesIO(upload), "certificate.pdf")} if upload is not None else None
                )
                begin = time.perf_counter()
                answer = client.open(path, method=method, data=data)
                times.append((time.perf_counter() - begin) * 1000)
                assert answer.status_code == 200, (path, answer.status_code)
                assert upload is None or b'data-verdict="valid"' in answer.data, path
            p95 = percentile(times, 0.95)
            worst = max(worst, p95)
            shown = path.replace(root["id"], "{root}").replace(application["application_id"], "{application}")
            shown = (method + " " if method != "GET" else "") + shown.replace(
                certificate.certificate_id, "{id}"
            )
            print(f"{role:<9} {shown:<44} {len(times):>4} {statistics.median(times):>8.1f} {p95:>8.1f}")
            figures.append(
                {
                    "role": role,
                    "page": shown,
                    "n": len(times),
                    "p50_ms": statistics.median(times),
                    "p95_ms": p95,
                }
            )
        print(f"worst p95: {worst:.1f} ms (goal < 300 ms)")
        if args.json:
            report = {
                "script": "portal_pages",
                "tickets": args.tickets,
                "rows": figures,
                "worst_p95_ms": worst,
            }
            args.json.write_text(json.dumps(report, indent=1) + "\n")
        portal.close()


if __name__ == "__main__":
    main()
