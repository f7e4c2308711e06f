"""The issuer imports its bank's statement in the portal (#21): the file uploaded on the
clearing statement's page (camt.053.001.08 statement or camt.054.001.08 debit notification) is
checked and previewed (what will be recorded, what is already, what is refused, which debits pay
no piece of this settlement) on the confirmation page, then the issuer's card signs the
recording. Thin: services.reconciliation decides."""

from __future__ import annotations

from typing import Any

from flask import flash, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from goldticket.services import reconciliation
from goldticket.services.context import Actor
from goldticket.services.portal import Portal

from .actions import ACTIONS, Action, Summary, figures, text

FIELDS = ("root_id", "statement_id", "statement_xml")


def _xml(values: dict[str, str]) -> bytes:
    return (values.get("statement_xml") or "").encode("utf-8")


def prepare_import(portal: Portal, actor: Actor, values: dict[str, str]) -> Summary:
    root_id, statement_id = text(values, "root_id", 64), text(values, "statement_id", 64)
    found = reconciliation.preview_bank_statement(portal, actor, root_id, statement_id, _xml(values))
    recording = sum(int(entry["amount_fen"]) for entry in found["recorded"])
    rows: list[tuple[Any, Any]] = [
        (_l("Clearing statement"), statement_id),
        (_l("Payments to record"), len(found["recorded"])),
        (_l("Already recorded"), len(found["already"])),
    ]
    if found["refused"]:
        rows.append((_l("Refused: more than the piece is still due"), len(found["refused"])))
    if found["unknown"]:
        unknown = ", ".join(
            f"{item['end_to_end_id']} {figures(int(item['amount_fen']))}" for item in found["unknown"]
        )
        rows.append((_l("Debits that pay no piece of this settlement"), unknown))
    return Summary(values, ticket_id=root_id, amount_fen=recording, rows=rows)


def _done(result: dict[str, Any], values: dict[str, str]) -> str:
    flash(
        _(
            "%(recorded)d payments recorded, %(already)d already recorded, %(refused)d refused,"
            " %(unknown)d debits of no piece of this settlement.",
            recorded=len(result["recorded"]),
            already=len(result["already"]),
            refused=len(result["refused"]),
            unknown=len(result["unknown"]),
        ),
        "ok" if not (result["refused"] or result["unknown"]) else "error",
    )
    return str(
        url_for(
            "portal.statement", root_id=values.get("root_id", ""), statement_id=values.get("statement_id", "")
        )
    )


ACTIONS["import_bank_statement"] = Action(
    "import_bank_statement",
    _l("Import the bank's statement"),
    FIELDS,
    prepare_import,
    lambda p, a, v, s: reconciliation.import_bank_statement(
        p, a, text(v, "root_id", 64), text(v, "statement_id", 64), _xml(v), pin=s["pin"]
    ),
    _done,
    # the preview makes the use case's own checks on the same records; RecordBankPayments is
    # the chaincode's check of exactly what the card signs
    rehearses=False,
)
