"""Certificate PDFs: render (WeasyPrint), sign (pyHanko, the platform key in SoftHSM2 or a
software key), render+sign, the signature check and the whole verify (signature plus the
ledger look-ups), the whole issue (ledger reads, render, sign, anchor), and the PDF size; then
the same issue through the web app (the portal's download and the API's, Flask's test client in
this process: the library's issue row is their floor), and a worker's first certificate in a
fresh process, as gunicorn starts one, without and with the PDF warm-up (#20 point 15).

    python bench/certificates.py [--runs N] [--cards pkcs11|software] [--png docs/certificate.png]
        [--json PATH]

A ticket transferred twice (a three-move lineage, two invoices) on the embedded ledger, in one
long-lived process (WeasyPrint's import and first render, ~0.5-1 s, are paid once, before
timing). Goals on 2 cores: render+sign <= 250 ms median and <= 250 KB, verify <= 60 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from transfer_throughput import PIN, TODAY, bench_settings

from goldticket import certificates as pdf
from goldticket.services import Platform, accounts, certificates, credit, members, tickets, transfers
from goldticket.services.portal import Portal
from goldticket.services.setup import init_platform

PASSWORD = "bench clerk password 1"

# A fresh process as gunicorn starts a worker (create_app opening its own portal), then the
# holder's first certificate from the portal, in ms; the warm-up thread finishes first if on.
FIRST_IN_A_WORKER = """
import logging, re, sys, threading, time
from pathlib import Path
sys.path.insert(0, {bench!r})
from transfer_throughput import bench_settings
from web import WARM_THREAD, create_app
app = create_app({{"GOLDTICKET_SETTINGS": bench_settings(Path({data!r}), {cards!r}),
                  "FOLLOW_SECONDS": 0, "WARM_PDF": {warm!r}, "SECRET_KEY": "bench"}})
logging.getLogger("goldticket").setLevel(logging.WARNING)
for thread in threading.enumerate():
    if thread.name == WARM_THREAD:
        thread.join(timeout=300)
client = app.test_client()
page = client.get("/login").get_data(as_text=True)
token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
client.post("/login", data={{"username": {user!r}, "password": {password!r}, "csrf_token": token}})
page = client.get("/").get_data(as_text=True)
token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
begin = time.perf_counter()
answer = client.post("/tickets/{ticket}/certificate", data={{"csrf_token": token}})
took = (time.perf_counter() - begin) * 1000
assert answer.status_code == 200 and answer.data[:5] == b"%PDF-", answer.status_code
print(took)
"""


def first_in_a_worker(data_dir: Path, cards: str, user: str, ticket_id: str, warm: bool) -> float:
    code = FIRST_IN_A_WORKER.format(
        bench=str(Path(__file__).resolve().parent),
        data=str(data_dir),
        cards=cards,
        warm=warm,
        user=user,
        password=PASSWORD,
        ticket=ticket_id,
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=Path(__file__).resolve().parent.parent,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    return float(done.stdout.split()[-1])


def web_clients(platform: Platform, username: str, org_id: str) -> tuple[Portal, object, object, str]:
    """The web app over ``platform``: the holder logged in to the portal (a client and the
    form's CSRF token) and an API token."""
    import re

    from web import create_app

    portal = Portal.around(platform)
    portal.follower.catch_up()
    accounts.ensure_account(portal, username=username, org_id=org_id, role="clerk", password=PASSWORD)
    app = create_app({"GOLDTICKET_PORTAL": portal, "FOLLOW_SECONDS": 0, "SECRET_KEY": "bench"})
    logging.getLogger("goldticket").setLevel(logging.WARNING)  # no line per request
    browser = app.test_client()
    page = browser.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    browser.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
    page = browser.get("/").get_data(as_text=True)  # the session's token, after the login
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    api = app.test_client()
    answer = api.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
    return portal, (browser, token), api, answer.get_json()["token"]


def invoice(number: str, amount_fen: int) -> dict[str, object]:
    return {"number": number, "amount_fen": amount_fen, "sha256": hashlib.sha256(number.encode()).hexdigest()}


def setup(data_dir: Path, cards: str) -> tuple[Platform, object, str]:
    platform = init_platform(bench_settings(data_dir, cards))
    names = [
        ("core", "华东重工集团有限公司", "East China Heavy Industry Group", "core"),
        ("tier1", "苏州精密机械有限公司", "Suzhou Precision Machinery", "supplier"),
        ("tier2", "无锡电机股份有限公司", "Wuxi Motors", "supplier"),
        ("tier3", "常州铸钢厂", "Changzhou Steel Works", "supplier"),
        ("bank", "江南银行", "Jiangnan Bank", "bank"),
    ]
    actors = {}
    desk = platform.desk()  # the operator desk, authenticated with the bench's operator PIN
    for member_id, name, name_en, role in names:
        members.register_member(platform, desk, member_id=member_id, name=name, name_en=name_en, role=role)
        actors[member_id] = members.add_user(
            platform, desk, member_id=member_id, username=f"{member_id}.clerk", pin=PIN
        )
    line = credit.grant_credit_line(platform, actors["bank"], core_org_id="core", limit_fen=10**12, pin=PIN)
    credit.accept_credit_line(platform, actors["core"], credit_line_id=line["id"], pin=PIN)
    ticket = tickets.issue_ticket(
        platform,
        actors["core"],
        payee_org_id="tier1",
        amount_fen=123_456_789,
        maturity_date=TODAY + dt.timedelta(days=180),
        invoices=[invoice("FP-2026-000123", 100_000_000), invoice("FP-2026-000124", 23_456_789)],
        pin=PIN,
    )
    tickets.accept_ticket(platform, actors["tier1"], ticket["id"], pin=PIN)
    ticket_id, holder = ticket["id"], "tier1"
    for to_org_id, amount_fen in (("tier2", 80_000_000), ("tier3", 50_000_005)):
        offer = transfers.offer_transfer(
            platform, actors[holder], ticket_id=ticket_id, to_org_id=to_org_id, amount_fen=amount_fen, pin=PIN
        )
        ticket_id = transfers.accept_offer(platform, actors[to_org_id], offer["offer_id"], pin=PIN)[
            "transferred"
        ]["id"]
        holder = to_org_id
    return platform, actors[holder], ticket_id


def timed(action: Callable[[], object], runs: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU milliseconds of each run (CPU time shows the cost on a busy machine)."""
    action()  # warm
    wall, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        action()
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    return wall, cpu


FIGURES: list[dict[str, object]] = []  # every row() printed, for --json


def row(label: str, times: tuple[list[float], list[float]]) -> str:
    ordered = sorted(times[0])
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    cpu = statistics.median(times[1])
    figure = {"step": label, "median_ms": statistics.median(ordered), "p95_ms": p95, "min_ms": ordered[0]}
    FIGURES.append({**figure, "cpu_median_ms": cpu})
    return f"| {label} | {statistics.median(ordered):.1f} | {p95:.1f} | {ordered[0]:.1f} | {cpu:.1f} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=31)
    parser.add_argument("--cards", choices=["pkcs11", "software"], default="pkcs11")
    parser.add_argument("--png", type=Path, help="also write page 1 of a certificate as a PNG (pdftoppm)")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        platform, holder, ticket_id = setup(Path(tmp) / "data", args.cards)
        try:
            signer = certificates.document_signer(platform)
            ticket = platform.evaluate("GetTicket", {"ticket_id": ticket_id})
            view = certificates.certificate_view(platform, ticket, "CT" + "0" * 20, "0" * 64)
            rendered = pdf.render_certificate(view)
            signed = signer.sign(rendered, reason="bench")
            issued = certificates.issue_certificate(platform, holder, ticket_id)
            org_id = holder.member_id  # type: ignore[attr-defined]
            _portal, (browser, csrf), api, bearer = web_clients(platform, f"{org_id}.clerk", org_id)

            def portal_download() -> None:
                answer = browser.post(f"/tickets/{ticket_id}/certificate", data={"csrf_token": csrf})
                assert answer.status_code == 200 and answer.data[:5] == b"%PDF-", answer.status_code

            def api_download() -> None:
                answer = api.get(
                    f"/api/v1/tickets/{ticket_id}/certificate", headers={"Authorization": f"Bearer {bearer}"}
                )
                assert answer.status_code == 200 and answer.data[:5] == b"%PDF-", answer.status_code

            results = [
                row("render", timed(lambda: pdf.render_certificate(view), args.runs)),
                row(f"sign ({signer.kind})", timed(lambda: signer.sign(rendered, reason="bench"), args.runs)),
                row(
                    "render + sign",
                    timed(lambda: signer.sign(pdf.render_certificate(view), reason="bench"), args.runs),
                ),
                row(
                    "signature check",
                    timed(
                        lambda: pdf.check_signature(signed, signer.certificate_pem, signer.ca_pem), args.runs
                    ),
                ),
                row(
                    "verify (signature + ledger)",
                    timed(lambda: certificates.verify_certificate(platform, issued.pdf), args.runs),
                ),
                row(
                    "issue (ledger reads, render, sign, anchor)",
                    timed(
                        lambda: certificates.issue_certificate(platform, holder, ticket_id),
                        max(5, args.runs // 3),
                    ),
                ),
                row("portal: POST /tickets/{id}/certificate", timed(portal_download, max(5, args.runs // 3))),
                row("API: GET /api/v1/tickets/{id}/certificate", timed(api_download, max(5, args.runs // 3))),
            ]
            data_dir = Path(tmp) / "data"
            user = f"{org_id}.clerk"
            workers = max(1, min(3, args.runs // 10))
            # measured in another process each: the CPU column repeats the wall-clock time
            for warm in (False, True):
                firsts = [
                    first_in_a_worker(data_dir, args.cards, user, ticket_id, warm) for _ in range(workers)
                ]
                label = "after its warm-up" if warm else "no warm-up"
                results.append(row(f"portal: a fresh worker's first certificate, {label}", (firsts, firsts)))
            cpus = os.cpu_count()
            load = os.getloadavg()[0]
            print(f"certificates: {args.runs} runs, {args.cards} key, {cpus} CPUs, load {load:.1f}")
            print("| step | median ms | p95 ms | min ms | CPU median ms |")
            print("|---|---|---|---|---|")
            print("\n".join(results))
            print(
                f"| PDF size | {len(issued.pdf) / 1024:.1f} KB ({len(rendered) / 1024:.1f} KB before signing) | | | |"
            )
            if args.json:
                report = {"script": "certificates", "cards": args.cards, "runs": args.runs, "rows": FIGURES}
                report["pdf_kb"] = {"signed": len(issued.pdf) / 1024, "unsigned": len(rendered) / 1024}
                args.json.write_text(json.dumps(report, indent=1) + "\n")
            if args.png:
                path = Path(tmp) / "certificate.pdf"
                path.write_bytes(issued.pdf)
                prefix = args.png.with_suffix("")
                subprocess.run(
                    ["pdftoppm", "-png", "-r", "80", "-singlefile", str(path), str(prefix)], check=True
                )
                print(f"wrote {args.png}")
        finally:
            platform.close()


if __name__ == "__main__":
    main()
