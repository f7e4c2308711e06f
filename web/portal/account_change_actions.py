"""A change of settlement account in the portal (#21): the member's admin asks on the
settlement account page (its card's PIN on the confirmation page), an operator admin confirms or
declines it at the desk (its own card's PIN), the admin may withdraw it. Thin: each calls one
function of goldticket.services.account_changes, which makes every check."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import lazy_gettext as _l

from goldticket.services import account_changes
from goldticket.services.context import OPERATOR, Actor
from goldticket.services.portal import Portal

from .actions import ACTIONS, Action, Summary, text
from .desk_actions import DESK_PIN

FIELDS = account_changes.ACCOUNT_FIELDS
LABELS = {
    "account_name": _l("Settlement account name"),
    "account_number": _l("Settlement account number"),
    "bank_name": _l("Bank of the account"),
    "cnaps_code": _l("CNAPS code"),
}


def _account(values: dict[str, str]) -> dict[str, str]:
    return {field: (values.get(field) or "").strip() for field in FIELDS}


def _request_summary(portal: Portal, actor: Actor, values: dict[str, str]) -> Summary:
    current, checked = account_changes.check_request(portal, actor, _account(values))
    rows: list[tuple[Any, Any]] = [
        (_l("Current account"), f"{current['account_number']} · {current['bank_name']}"),
        *[(LABELS[field], getattr(checked, field)) for field in FIELDS],
        (_l("Takes effect"), _l("when the operator confirms it")),
    ]
    return Summary(values, rows=rows)


def _change_summary(portal: Portal, actor: Actor, values: dict[str, str]) -> Summary:
    member_id, change_id = text(values, "member_id", 64), text(values, "change_id", 64)
    change = account_changes.pending(portal, member_id, change_id)
    shown = [
        item
        for item in account_changes.changes(portal, actor, member_id=member_id)
        if item["id"] == change_id
    ]
    account = shown[0]["account"] if shown else None
    rows: list[tuple[Any, Any]] = [
        (_l("Change"), change_id),
        (_l("Asked by"), (change.get("requested_by") or {}).get("user")),
    ]
    if account:
        rows += [(LABELS[field], account[field]) for field in FIELDS]
    return Summary(values, counterparty=member_id, rows=rows)


def _page(result: dict[str, Any], values: dict[str, str]) -> str:
    return str(url_for("portal.settlement_account"))


def _desk(result: dict[str, Any], values: dict[str, str]) -> str:
    return str(url_for("portal.desk")) + "#account-changes"


def _reject(portal: Portal, actor: Actor, values: dict[str, str], secrets: dict[str, str]) -> dict[str, Any]:
    member_id, change_id = text(values, "member_id", 64), text(values, "change_id", 64)
    reason = (values.get("reason") or "").strip()
    if actor.member_id == OPERATOR:
        return account_changes.reject_change(
            portal, actor, member_id, change_id, reason=reason, desk_pin=secrets.get("desk_pin")
        )
    return account_changes.reject_change(
        portal, actor, member_id, change_id, reason=reason, pin=secrets.get("pin")
    )


ACTIONS["request_account_change"] = Action(
    "request_account_change",
    _l("Ask to change the settlement account"),
    FIELDS,
    _request_summary,
    lambda p, a, v, s: account_changes.request_change(p, a, _account(v), pin=s["pin"]),
    _page,
    rehearses=False,  # the summary makes the use case's checks; RequestAccountChange the chaincode's
)
ACTIONS["withdraw_account_change"] = Action(
    "withdraw_account_change",
    _l("Withdraw the settlement account change"),
    ("member_id", "change_id"),
    _change_summary,
    _reject,
    _page,
    rehearses=False,
)
ACTIONS["confirm_account_change"] = Action(
    "confirm_account_change",
    _l("Confirm the settlement account change"),
    ("member_id", "change_id"),
    _change_summary,
    lambda p, a, v, s: account_changes.confirm_change(
        p, a, text(v, "member_id", 64), text(v, "change_id", 64), desk_pin=s["desk_pin"]
    ),
    _desk,
    secrets=DESK_PIN,
    rehearses=False,
)
ACTIONS["reject_account_change"] = Action(
    "reject_account_change",
    _l("Decline the settlement account change"),
    ("member_id", "change_id", "reason"),
    _change_summary,
    _reject,
    _desk,
    secrets=DESK_PIN,
    rehearses=False,
)
