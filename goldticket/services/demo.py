"""A demo consortium and one whole life cycle: credit, issue, accept, split down two tiers,
discount, settle at maturity; and a second ticket left unpaid past its maturity and grace days,
marked overdue with a demand for payment (追索) of its issuer. Each step is reported through
``say`` as it happens.

The life cycle is dated in the past: it starts TERM_DAYS before the business date and the
ticket matures and is settled on it, so nothing on the ledger is dated after the business date.
It is made once per data directory: ``record_demo`` writes DEMO_FILE there and ``recorded_demo``
reads it back (``goldticket demo`` and ``make run`` reuse what it names)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from goldticket import domain as d

from . import credit, financing, members, recourse, registration, settlement, tickets, transfers
from .context import OPERATOR, Actor
from .desk import keep_kyc
from .platform import Platform
from .portal import Portal

# (member id, Chinese name, English name, role, demo user)
MEMBERS = [
    ("hdzg", "华东重工集团有限公司", "East China Heavy Industries Group", "core", "hdzg.clerk"),
    ("szjm", "苏州精密零部件有限公司", "Suzhou Precision Parts Co.", "supplier", "szjm.clerk"),
    ("wxdj", "无锡电机制造有限公司", "Wuxi Motor Works Co.", "supplier", "wxdj.clerk"),
    ("czzg", "常州铸钢厂", "Changzhou Steel Castings", "supplier", "czzg.clerk"),
    ("jnyh", "江南商业银行", "Jiangnan Commercial Bank", "bank", "jnyh.credit"),
    ("hhbl", "海河商业保理有限公司", "Haihe Commercial Factoring Co.", "bank", "hhbl.credit"),
]
DEMO_PIN = "135790"  # every demo user's card PIN (documented demo credentials)
AMOUNT_FEN = 100_000_000  # 1,000,000.00 CNY
TERM_DAYS = 90
RATE_BP = 262
OVERDUE_FEN = 20_000_000  # 200,000.00 CNY: the second ticket, left unpaid
OVERDUE_DAYS = 10  # it matured this many days before the business date (more than the grace days)
DEMO_FILE = "demo.json"  # in the data directory: the demo made there, per ledger kind


def recorded_demo(data_dir: Path, ledger_kind: str) -> dict[str, Any] | None:
    """What ``record_demo`` wrote for this data directory and ledger kind, or None."""
    try:
        recorded = json.loads((Path(data_dir) / DEMO_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    entry = recorded.get(ledger_kind) if isinstance(recorded, dict) else None
    return entry if isinstance(entry, dict) else None


def record_demo(data_dir: Path, ledger_kind: str, entry: dict[str, Any]) -> None:
    """Note in the data directory (0600, replaced atomically) that its demo is made."""
    path = Path(data_dir) / DEMO_FILE
    try:
        recorded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        recorded = {}
    if not isinstance(recorded, dict):
        recorded = {}
    recorded[ledger_kind] = entry
    partial = path.with_name(f".{DEMO_FILE}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        json.dump(recorded, file, ensure_ascii=False, indent=2)
    os.replace(partial, path)


def _on(platform: Platform, day: dt.date) -> Platform:
    """The platform with its clock on ``day`` (the demo's back-dated steps)."""
    return Platform(
        dataclasses.replace(platform.settings, today=day), platform.ledger, platform.keystore, platform.cards
    )


def demo_kyc(index: int, name: str) -> dict[str, str]:
    """A demo member's KYC record (#21): a 统一社会信用代码 with its check character computed by
    python-stdnum, a settlement account in the member's own name with a 12-digit CNAPS code.
    Invented numbers, documented as demo data."""
    from stdnum.cn import uscc

    base = f"9132000071{index:07d}"
    return {
        "uscc": base + uscc.calc_check_digit(base),
        "legal_representative": "演示法人",
        "registered_address": "江苏省演示市金票路 1 号",
        "account_name": name,
        "account_number": f"6222 0210 0000 00{index:02d}".replace(" ", ""),
        "bank_name": "江南商业银行",
        "cnaps_code": f"3133010000{index:02d}",
    }


def setup_consortium(platform: Platform, portal: Portal | None = None) -> dict[str, Actor]:
    """Register the demo members and one user each with a card (skipping what already exists);
    with the portal, each new member with its KYC record (so the demo's settlement has its
    payment file)."""
    existing = {member["id"] for member in members.list_members(platform)}
    desk = platform.desk()
    users = {}
    for index, (member_id, name, name_en, role, username) in enumerate(MEMBERS, start=1):
        if member_id not in existing:
            kyc_sha256 = None
            if portal is not None:
                checked = d.check_kyc(demo_kyc(index, name), name)
                keep_kyc(portal, member_id, checked)
                kyc_sha256 = checked.sha256
            members.register_member(
                platform,
                desk,
                member_id=member_id,
                name=name,
                name_en=name_en,
                role=role,
                kyc_sha256=kyc_sha256,
            )
        if platform.users.has_user(username):
            users[member_id] = platform.actor(username)
        else:
            users[member_id] = members.add_user(
                platform, desk, member_id=member_id, username=username, pin=DEMO_PIN
            )
    return users


def run_demo(platform: Platform, say: Callable[[str], None], portal: Portal | None = None) -> dict[str, Any]:
    """Run one life cycle, from TERM_DAYS before the business date to its settlement on the
    business date, and return its clearing statement."""
    users = setup_consortium(platform, portal)
    names = {m[0]: f"{m[1]} ({m[2]})" for m in MEMBERS}
    names[OPERATOR] = "金票平台运营方 (GoldTicket Operator)"
    core, tier1, tier2a, tier2b = users["hdzg"], users["szjm"], users["wxdj"], users["czzg"]
    bank, factor = users["jnyh"], users["hhbl"]
    fmt = d.format_fen
    say(
        f"Consortium: {len(MEMBERS)} members on the {platform.ledger.kind} ledger, height {platform.ledger.height()}"
    )

    operator = platform.actor(OPERATOR)
    pin = DEMO_PIN
    business_date = platform.today()
    start = business_date - dt.timedelta(days=TERM_DAYS)  # the life cycle's first day
    maturity = business_date
    settle_on, platform = platform, _on(platform, start)
    say(f"The life cycle starts on {start}, {TERM_DAYS} days before the business date {business_date}")
    lines = credit.list_credit_lines(platform, operator, "hdzg")
    active = [line for line in lines if line.get("status", "active") == "active"]
    if not any(line["limit_fen"] - line["used_fen"] >= AMOUNT_FEN for line in active):
        line = credit.grant_credit_line(
            platform, bank, core_org_id="hdzg", limit_fen=50 * AMOUNT_FEN, pin=pin
        )
        credit.accept_credit_line(platform, core, credit_line_id=line["id"], pin=pin)
        say(
            f"1. {names['jnyh']} offers {names['hdzg']} a credit line of {fmt(line['limit_fen'])} CNY; "
            "the core enterprise accepts it"
        )
    else:
        say("1. The core enterprise already has a credit line")

    invoice_number = f"INV-{start:%Y%m%d}-{platform.ledger.height()}"
    invoice = {
        "number": invoice_number,
        "amount_fen": AMOUNT_FEN,
        "sha256": hashlib.sha256(invoice_number.encode()).hexdigest(),
    }
    root = tickets.issue_ticket(
        platform,
        core,
        payee_org_id="szjm",
        amount_fen=AMOUNT_FEN,
        maturity_date=maturity,
        invoices=[invoice],
        pin=pin,
    )
    say(
        f"2. {names['hdzg']} issues ticket {root['id']}: {fmt(AMOUNT_FEN)} CNY "
        f"({d.chinese_capital(AMOUNT_FEN)}) to {names['szjm']}, maturity {maturity}"
    )
    tickets.accept_ticket(platform, tier1, root["id"], pin=pin)
    say(f"3. {names['szjm']} accepts it")

    offer = transfers.offer_transfer(
        platform, tier1, ticket_id=root["id"], to_org_id="wxdj", amount_fen=60_000_000, pin=pin
    )
    moved = transfers.accept_offer(platform, tier2a, offer["offer_id"], pin=pin)
    say(
        f"4. {names['szjm']} transfers {fmt(60_000_000)} to {names['wxdj']} (tier 2), keeps {fmt(moved['remainder']['amount_fen'])}"
    )

    offer = transfers.offer_transfer(
        platform,
        tier2a,
        ticket_id=moved["transferred"]["id"],
        to_org_id="czzg",
        amount_fen=25_000_000,
        pin=pin,
    )
    moved2 = transfers.accept_offer(platform, tier2b, offer["offer_id"], pin=pin)
    say(
        f"5. {names['wxdj']} transfers {fmt(25_000_000)} to {names['czzg']}, keeps {fmt(moved2['remainder']['amount_fen'])}"
    )

    application = financing.apply_financing(
        platform,
        tier2b,
        ticket_id=moved2["transferred"]["id"],
        bank_org_id="hhbl",
        amount_fen=25_000_000,
        max_annual_rate_bp=RATE_BP,  # the rate of the quote the holder saw
        pin=pin,
    )
    # #21: the factor files the registration (中登网) the platform prepared and records the
    # number it obtained before it approves; the filing goes to the registry adapter's outbox
    application_id = application["application_id"]
    kyc: registration.KycLookup = registration.no_kyc
    if portal is not None:
        receipt = registration.file_with_registry(portal, factor, application_id)
        say(f"   {names['hhbl']} files the registration (中登网): {receipt.locations[0]}")
        kyc = registration.kyc_of(portal)
    registered = registration.record_registration(
        platform,
        factor,
        application_id=application_id,
        registration_number=f"0{start:%Y%m%d}DEMO0001",
        registered_on=start,
        kyc=kyc,
        pin=pin,
    )
    say(
        f"   registered as {registered['registration_number']} on {registered['registered_on']}, "
        f"until {registered['expires_on']}"
    )
    approved = financing.approve_financing(
        platform,
        factor,
        application_id=application["application_id"],
        annual_rate_bp=RATE_BP,
        value_date=start,
        pin=pin,
    )
    say(
        f"6. {names['czzg']} discounts {fmt(25_000_000)} with {names['hhbl']} at {RATE_BP / 100:.2f}% for "
        f"{approved['days']} days: interest {fmt(approved['discount_interest_fen'])}, "
        f"proceeds {fmt(approved['proceeds_fen'])}"
    )

    unpaid = _unpaid_ticket(platform, core, tier1, start, business_date)
    say(
        f"   {names['hdzg']} also issues ticket {unpaid['id']} of {fmt(OVERDUE_FEN)} to {names['szjm']}, "
        f"due {unpaid['maturity_date']} ({OVERDUE_DAYS} days before the business date); accepted"
    )

    statement = settlement.settle_ticket(settle_on, core, root["id"], pin=pin)
    say(f"7. At maturity ({maturity}, the business date) {names['hdzg']} settles ticket {root['id']}")
    demand = _overdue_with_demand(settle_on, tier1, unpaid["id"])
    say(
        f"8. Ticket {unpaid['id']} is still unpaid after its grace days: {names['szjm']} marks it OVERDUE and "
        f"demands {fmt(demand['amount_fen'])} of {names['hdzg']} (追索, demand {demand['demand_id']})"
    )

    say("\nLineage (穿透):")
    for text in render_lineage(tickets.ticket_lineage(settle_on, core, root["id"]), names):
        say(text)
    say("\nClearing statement (清分):")
    for text in render_statement(statement, names):
        say(text)
    return statement


def _unpaid_ticket(
    platform: Platform, core: Actor, holder: Actor, start: dt.date, business_date: dt.date
) -> dict[str, Any]:
    """A ticket issued on the life cycle's first day that matured OVERDUE_DAYS before the
    business date and that its issuer never settles (the overdue page's example)."""
    number = f"INV-{start:%Y%m%d}-{platform.ledger.height()}-D"
    invoice = {
        "number": number,
        "amount_fen": OVERDUE_FEN,
        "sha256": hashlib.sha256(number.encode()).hexdigest(),
    }
    issued = tickets.issue_ticket(
        platform,
        core,
        payee_org_id=holder.member_id,
        amount_fen=OVERDUE_FEN,
        maturity_date=business_date - dt.timedelta(days=OVERDUE_DAYS),
        invoices=[invoice],
        pin=DEMO_PIN,
    )
    return tickets.accept_ticket(platform, holder, issued["id"], pin=DEMO_PIN)


def _overdue_with_demand(platform: Platform, holder: Actor, ticket_id: str) -> dict[str, Any]:
    """On the business date the holder marks the unpaid piece OVERDUE and demands all of it of
    the issuer, with the signed demand document (services.recourse)."""
    recourse.mark_overdue(platform, holder, ticket_id, pin=DEMO_PIN)
    issuer = str(platform.evaluate("GetTicket", {"ticket_id": ticket_id})["issuer_org_id"])
    return recourse.demand_payment(platform, holder, ticket_id, obligor_org_id=issuer, pin=DEMO_PIN)


def render_lineage(node: dict[str, Any], names: dict[str, str], depth: int = 0) -> list[str]:
    ticket = node["ticket"]
    line = (
        f"{'    ' * depth}{ticket['id']}  {d.format_fen(ticket['amount_fen']):>16}  "
        f"{ticket['status']:<16} {names.get(ticket['holder_org_id'], ticket['holder_org_id'])}"
    )
    lines = [line]
    for child in node["children"]:
        lines.extend(render_lineage(child, names, depth + 1))
    return lines


def render_statement(statement: dict[str, Any], names: dict[str, str]) -> list[str]:
    lines = [
        f"statement {statement['statement_id']} for ticket {statement['root_id']} on {statement['settled_on']}"
    ]
    for payment in statement["paid"]:
        lines.append(
            f"  paid      {d.format_fen(payment['amount_fen']):>16}  "
            f"{names.get(payment['holder_org_id'], payment['holder_org_id'])}  ({payment['ticket_id']})"
        )
    for payment in statement["withheld"]:
        lines.append(
            f"  withheld  {d.format_fen(payment['amount_fen']):>16}  "
            f"{names.get(payment['holder_org_id'], payment['holder_org_id'])}  ({payment['ticket_id']})"
        )
    lines.append(
        f"  total paid {d.format_fen(statement['total_paid_fen'])} CNY "
        f"({d.chinese_capital(statement['total_paid_fen'])})"
    )
    return lines
