"""Export of a ticket list, filtered as on screen, as CSV or XLSX: the same read as the list
(goldticket.services.reads.list_tickets), so the same need-to-know applies, row for row.

CSV is UTF-8 with a byte-order mark, so that Excel reads Chinese names correctly. In XLSX,
amounts are numbers in yuan with two decimals, computed exactly from integer fen (a Decimal,
never a float sum), and dates are dates.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from goldticket import domain as d
from goldticket.store.models import MemberRow

from . import reads
from .context import Actor
from .portal import Portal

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

HEADERS = {
    "zh": ("票号", "根票号", "开立方", "持有方", "金额（元）", "开立日", "到期日", "状态", "发票号"),
    "en": (
        "Ticket no.",
        "Root ticket no.",
        "Issuer",
        "Holder",
        "Amount (yuan)",
        "Issue date",
        "Maturity date",
        "Status",
        "Invoice no.",
    ),
}


@dataclasses.dataclass(frozen=True)
class Export:
    data: bytes
    mimetype: str
    filename: str
    rows: int


def yuan(fen: int) -> Decimal:
    """``fen`` as yuan with exactly two decimals."""
    return Decimal(fen).scaleb(-2).quantize(Decimal("0.01"))


def _names(portal: Portal) -> dict[str, str]:
    with portal.database.session() as session:
        return {
            row.id: str(json.loads(row.doc).get("name", row.id)) for row in session.scalars(select(MemberRow))
        }


def export_tickets(
    portal: Portal,
    actor: Actor,
    fmt: str,
    *,
    language: str = "zh",
    status_names: dict[str, str] | None = None,
    **list_args: Any,
) -> Export:
    """The whole filtered list (at most reads.MAX_EXPORT rows) as ``fmt`` (csv or xlsx)."""
    if fmt not in FORMATS:
        raise d.InvalidInputError("format must be csv or xlsx")
    if language not in HEADERS:
        raise d.InvalidInputError("language must be zh or en")
    listed = reads.list_tickets(portal, actor, limit=reads.MAX_EXPORT, **list_args)
    if listed["total"] > reads.MAX_EXPORT:
        raise d.InvalidInputError(
            f"{listed['total']} tickets match: narrow the filters to at most {reads.MAX_EXPORT} to export"
        )
    names = _names(portal)
    shown = status_names or {}
    rows = [
        (
            ticket["id"],
            ticket["root_id"],
            names.get(ticket["issuer_org_id"], ticket["issuer_org_id"]),
            names.get(ticket["holder_org_id"], ticket["holder_org_id"]),
            yuan(ticket["amount_fen"]),
            dt.date.fromisoformat(ticket["issue_date"]),
            dt.date.fromisoformat(ticket["maturity_date"]),
            shown.get(ticket["display_status"], ticket["display_status"]),
            " ".join(invoice["number"] for invoice in ticket.get("invoices", [])),
        )
        for ticket in listed["items"]
    ]
    stamp = portal.platform.today().isoformat()
    header = HEADERS[language]
    data = _csv(header, rows) if fmt == "csv" else _xlsx(header, rows)
    return Export(data=data, mimetype=FORMATS[fmt], filename=f"tickets-{stamp}.{fmt}", rows=len(rows))


STATEMENT_HEADERS = {
    "zh": ("清分单号", "根票号", "清分日", "票号", "持有方", "金额（元）", "结果"),
    "en": (
        "Statement no.",
        "Root ticket no.",
        "Settled on",
        "Ticket no.",
        "Holder",
        "Amount (yuan)",
        "Outcome",
    ),
}
OUTCOMES = {
    "zh": {"paid": "已付", "withheld": "暂缓（冻结）"},
    "en": {"paid": "paid", "withheld": "withheld (frozen)"},
}


def export_statement(
    portal: Portal, actor: Actor, root_id: str, statement_id: str, fmt: str, *, language: str = "zh"
) -> Export:
    """A settlement's clearing statement as ``fmt`` (csv or xlsx), one row per piece paid or
    withheld, the lines ``actor`` may read (the issuer and the operator every line, a holder its
    own: services.certificates.statements). Raises NotFoundError, ForbiddenError."""
    from .certificates import statements  # the statement's access rules live there

    if fmt not in FORMATS:
        raise d.InvalidInputError("format must be csv or xlsx")
    if language not in STATEMENT_HEADERS:
        raise d.InvalidInputError("language must be zh or en")
    statement = statements.get_statement(portal.platform, actor, root_id, statement_id)
    names = _names(portal)
    settled_on = dt.date.fromisoformat(statement["settled_on"])
    rows = [
        (
            statement["statement_id"],
            root_id,
            settled_on,
            item["ticket_id"],
            names.get(item["holder_org_id"], item["holder_org_id"]),
            yuan(int(item["amount_fen"])),
            OUTCOMES[language][outcome],
        )
        for outcome in ("paid", "withheld")
        for item in statement[outcome]
    ]
    header = STATEMENT_HEADERS[language]
    data = _csv(header, rows) if fmt == "csv" else _xlsx(header, rows, title="statement")
    name = f"statement-{statement['statement_id']}.{fmt}"
    return Export(data=data, mimetype=FORMATS[fmt], filename=name, rows=len(rows))


RECONCILIATION_HEADERS = {
    "zh": (
        "清分单号",
        "根票号",
        "票号",
        "持有方",
        "应付（元）",
        "银行已付（元）",
        "未付（元）",
        "状态",
        "银行流水号",
        "记账日",
    ),
    "en": (
        "Statement no.",
        "Root ticket no.",
        "Ticket no.",
        "Holder",
        "Due (yuan)",
        "Booked by the bank (yuan)",
        "Outstanding (yuan)",
        "Status",
        "Bank references",
        "Booked on",
    ),
}
PAYMENT_STATUSES = {
    "zh": {"PAID": "已付讫", "PARTIALLY_PAID": "部分付讫", "PAYMENT_PENDING": "待银行付款"},
    "en": {"PAID": "paid", "PARTIALLY_PAID": "partly paid", "PAYMENT_PENDING": "awaiting the bank"},
}
TOTAL = {"zh": "合计", "en": "Total"}


def export_reconciliation(
    portal: Portal, actor: Actor, root_id: str, statement_id: str, fmt: str, *, language: str = "zh"
) -> Export:
    """The reconciliation of a settlement with the issuer's bank as ``fmt`` (csv or xlsx): one
    row per piece (due, booked by the bank, outstanding, status, the bank's references), the
    lines ``actor`` may read, and a total row, so a piece the bank has not (fully) paid is in the
    report. Raises NotFoundError, ForbiddenError, InvalidInputError."""
    from . import reconciliation  # its access rules are the statement's

    if fmt not in FORMATS:
        raise d.InvalidInputError("format must be csv or xlsx")
    if language not in RECONCILIATION_HEADERS:
        raise d.InvalidInputError("language must be zh or en")
    report = reconciliation.reconciliation(portal, actor, root_id, statement_id)
    names = _names(portal)
    rows: list[tuple[Any, ...]] = [
        (
            statement_id,
            root_id,
            line["ticket_id"],
            names.get(line["holder_org_id"], line["holder_org_id"]),
            yuan(int(line["due_fen"])),
            yuan(int(line["paid_fen"])),
            yuan(int(line["outstanding_fen"])),
            PAYMENT_STATUSES[language][line["status"]],
            " ".join(str(payment["bank_reference"]) for payment in line["payments"]),
            " ".join(str(payment["booked_on"]) for payment in line["payments"]),
        )
        for line in report["lines"]
    ]
    total = (
        TOTAL[language],
        "",
        "",
        "",
        yuan(int(report["due_fen"])),
        yuan(int(report["paid_fen"])),
        yuan(int(report["outstanding_fen"])),
        "",
        "",
        "",
    )
    header = RECONCILIATION_HEADERS[language]
    data = (
        _csv(header, [*rows, total])
        if fmt == "csv"
        else _xlsx(header, [*rows, total], title="reconciliation")
    )
    return Export(
        data=data, mimetype=FORMATS[fmt], filename=f"reconciliation-{statement_id}.{fmt}", rows=len(rows)
    )


PAYMENT_HEADERS = {
    "zh": (
        "清分单号",
        "根票号",
        "付款日",
        "端到端标识（票号）",
        "收款人户名",
        "收款人账号",
        "收款人开户行",
        "收款行联行号",
        "金额（元）",
        "币种",
        "附言",
        "付款人户名",
        "付款人账号",
    ),
    "en": (
        "Statement no.",
        "Root ticket no.",
        "Execution date",
        "End-to-end id (ticket no.)",
        "Payee account name",
        "Payee account no.",
        "Payee bank",
        "Payee bank CNAPS code",
        "Amount (yuan)",
        "Currency",
        "Remittance information",
        "Payer account name",
        "Payer account no.",
    ),
}


def export_payment_file(
    portal: Portal, actor: Actor, root_id: str, statement_id: str, fmt: str, *, language: str = "zh"
) -> Export:
    """The settlement's payment file (the credit transfers its pain.001 instructs the issuer's
    bank to make: services.payments) as ``fmt`` (csv or xlsx), one row per piece and a total
    row: for the issuer, who pays, only. Raises NotFoundError, RuleViolationError,
    InvalidInputError."""
    from . import payments  # the payment file's access rule and accounts live there

    if fmt not in FORMATS:
        raise d.InvalidInputError("format must be csv or xlsx")
    if language not in PAYMENT_HEADERS:
        raise d.InvalidInputError("language must be zh or en")
    made = payments.payment_instructions(portal, actor, root_id, statement_id)
    debtor = made.debtor
    rows: list[tuple[Any, ...]] = [
        (
            made.statement_id,
            made.root_id,
            made.execution_date,
            transfer.end_to_end_id,
            transfer.creditor.name,
            transfer.creditor.number,
            transfer.creditor.bank_name,
            transfer.creditor.cnaps_code,
            yuan(transfer.amount_fen),
            "CNY",
            transfer.remittance,
            debtor.name,
            debtor.number,
        )
        for transfer in made.transfers
    ]
    total_fen = sum(transfer.amount_fen for transfer in made.transfers)
    total = (TOTAL[language], "", "", "", "", "", "", "", yuan(total_fen), "CNY", "", "", "")
    header = PAYMENT_HEADERS[language]
    data = _csv(header, [*rows, total]) if fmt == "csv" else _xlsx(header, [*rows, total], title="payments")
    return Export(
        data=data, mimetype=FORMATS[fmt], filename=f"payment-{made.statement_id}.{fmt}", rows=len(rows)
    )


def _cell(value: Any) -> str:
    text = value.isoformat() if isinstance(value, dt.date) else str(value)
    # a cell Excel would read as a formula is written as text
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv(header: tuple[str, ...], rows: list[tuple[Any, ...]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([_cell(value) for value in row] for row in rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _xlsx(header: tuple[str, ...], rows: list[tuple[Any, ...]], title: str = "tickets") -> bytes:
    from openpyxl import Workbook  # imported when used: the portal starts without it loaded
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title)
    sheet.append(list(header))
    for row in rows:
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, Decimal):
                cell.number_format = "#,##0.00"
            elif isinstance(value, dt.date):
                cell.number_format = "yyyy-mm-dd"
            elif isinstance(value, str):
                cell.data_type = "s"  # text stays text: never a formula
            cells.append(cell)
        sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
