"""Readable output: tables, key/value lines, the lineage tree and the clearing statement, with
amounts in yuan (``*_fen`` fields) and times in China time. ``--json`` prints the JSON instead."""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Any

from goldticket import domain as d

CHINA = dt.timezone(dt.timedelta(hours=8))
HIDDEN = {"certificate_pem", "backup", "key_pem", "last_action"}
# Long identifiers left out of tables (``--json`` and ``show`` keep them).
NARROW = {"tx_id", "card_serial", "credit_line_id", "frozen_from"}
FIRST = (
    "id",
    "serial",
    "username",
    "offer_id",
    "application_id",
    "ticket_id",
    "root_id",
    "name",
    "role",
    "member_id",
    "status",
    "display_status",
    "amount_fen",
)
_TIME_KEYS = {"time", "timestamp", "expires_at", "created_at", "taken_at"}


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int, right: bool = False) -> str:
    space = " " * (width - _width(text))
    return space + text if right else text + space


def header(key: str) -> str:
    return key.removesuffix("_fen") + (" (yuan)" if key.endswith("_fen") else "")


def cell(key: str, value: Any) -> str:
    if value is None:
        return "-"
    if key.endswith("_fen") and isinstance(value, int) and not isinstance(value, bool):
        return d.format_fen(value)
    if isinstance(value, str) and (key in _TIME_KEYS or key.endswith("_at")):
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
        if moment.tzinfo is not None:
            return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S CST")
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return (
            ", ".join(str(item) for item in value)
            if all(not isinstance(i, dict) for i in value)
            else f"{len(value)} items"
        )
    if isinstance(value, dict):
        return ", ".join(f"{k}={cell(k, v)}" for k, v in value.items() if k not in HIDDEN)
    return str(value)


def _columns(rows: list[dict[str, Any]]) -> list[str]:
    seen: list[str] = []
    for row in rows:
        for key, value in row.items():
            if key not in seen and key not in HIDDEN | NARROW and not isinstance(value, list | dict):
                seen.append(key)
    return [key for key in FIRST if key in seen] + [key for key in seen if key not in FIRST]


def table(rows: list[dict[str, Any]], empty: str = "(none)") -> list[str]:
    if not rows:
        return [empty]
    columns = _columns(rows)
    cells = [[cell(key, row.get(key)) for key in columns] for row in rows]
    heads = [header(key) for key in columns]
    widths = [max(_width(text) for text in [heads[i], *(r[i] for r in cells)]) for i in range(len(columns))]
    money = [key.endswith("_fen") for key in columns]
    lines = ["  ".join(_pad(h, w, m) for h, w, m in zip(heads, widths, money, strict=True)).rstrip()]
    lines += [
        "  ".join(_pad(c, w, m) for c, w, m in zip(row, widths, money, strict=True)).rstrip() for row in cells
    ]
    return lines


def lineage(node: dict[str, Any], depth: int = 0) -> list[str]:
    ticket = node["ticket"]
    lines = [
        f"{'    ' * depth}{ticket['id']}  {d.format_fen(ticket['amount_fen']):>16}  "
        f"{ticket['status']:<16} {ticket['holder_org_id']}"
    ]
    for child in node["children"]:
        lines.extend(lineage(child, depth + 1))
    return lines


def statement(value: dict[str, Any]) -> list[str]:
    lines = [f"statement {value['statement_id']} for ticket {value['root_id']} on {value['settled_on']}"]
    for kind in ("paid", "withheld"):
        for payment in value.get(kind, []):
            lines.append(
                f"  {kind:<9} {d.format_fen(payment['amount_fen']):>16}  {payment['holder_org_id']}"
                f"  ({payment['ticket_id']})"
            )
    total = value["total_paid_fen"]
    lines.append(
        f"  total paid {d.format_fen(total)} yuan ({d.chinese_capital(total) if total else '零元整'})"
    )
    return lines


def render(value: Any) -> list[str]:
    """Lines a person reads for any command's result."""
    if isinstance(value, list):
        if all(isinstance(item, dict) for item in value):
            return table(value)
        return [cell("", item) for item in value]
    if not isinstance(value, dict):
        return [str(value)]
    if "ticket" in value and "children" in value:
        return lineage(value)
    if "statement_id" in value and "paid" in value:
        return statement(value)
    if isinstance(value.get("items"), list) and set(value) <= {"items", "total", "page", "per_page"}:
        return table(value["items"])
    lines: list[str] = []
    nested: list[tuple[str, Any]] = []
    scalars = {k: v for k, v in value.items() if k not in HIDDEN}
    width = max((_width(header(k)) for k in scalars), default=0)
    for key, item in scalars.items():
        if (
            isinstance(item, dict)
            and bool(item)
            or isinstance(item, list)
            and item
            and all(isinstance(i, dict) for i in item)
        ):
            nested.append((key, item))
        else:
            lines.append(f"{_pad(header(key), width)}  {cell(key, item)}")
    for key, item in nested:
        lines.append("")
        lines.append(f"{key}:")
        lines.extend("  " + line for line in render(item))
    return lines
