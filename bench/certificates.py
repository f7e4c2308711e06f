"""Certificate PDFs: render (WeasyPrint), sign (pyHanko, the platform key in SoftHSM2 or a
software key), render+sign, the signature check and the whole verify (signature plus the
ledger look-ups), the whole issue (ledger reads, render, sign, anchor), and the PDF size.

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
import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from transfer_throughput import PIN, TODAY, bench_settings

from goldticket import certificates as pdf
from goldticket.services import Platform, certificates, credit, members, tickets, transfers
from goldticket.services.setup import init_platform


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
            ]
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
