"""Maker-checker (经办/复核, #20) in the portal: the operations waiting for review (another user's,
of the same member), the reviewer's confirmation page showing every field of the prepared intent
and its SHA-256 (exactly what the reviewer's card signs), approval or rejection signed with the
reviewer's own card, and a member admin's setting. The ledger refuses the rest (the maker's own
approval, another member's user, a changed intent): chaincode/dual_control.py."""

from __future__ import annotations

from typing import Any

from flask import abort, render_template, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from goldticket import domain as d
from goldticket.domain import dual_control as dc
from goldticket.services import dual_control
from goldticket.services.context import OPERATOR, Actor
from goldticket.services.portal import Portal

from ._blueprint import actor, bp, org_name, portal
from .actions import ACTIONS, Action, Summary, amount, figures, percent, text

OPERATION_TITLES = {
    "issue": _l("Issue a ticket"),
    "transfer": _l("Offer a transfer"),
    "approve_financing": _l("Approve financing"),
    "settle": _l("Settle at maturity"),
    "dual_control": _l("Weaken the maker-checker setting"),
}
# every field a prepared request may carry, as the reviewer reads it (none is left unshown)
FIELD_LABELS = {
    "payee_org_id": _l("Payee"),
    "to_org_id": _l("Receiver"),
    "ticket_id": _l("Ticket"),
    "root_id": _l("Ticket"),
    "application_id": _l("Financing application"),
    "amount_fen": _l("Amount"),
    "maturity_date": _l("Maturity date"),
    "value_date": _l("Value date"),
    "annual_rate_bp": _l("Annual rate"),
    "max_annual_rate_bp": _l("Highest annual rate the holder accepts"),
    "invoices": _l("Invoices"),
    "credit_line_id": _l("Credit line"),
    "term_reason": _l("Reason for the term"),
    "grace_days": _l("Grace days"),
    "operations": _l("Operations that need a reviewer"),
    "threshold_fen": _l("Above"),
    "reviewers": _l("Reviewers besides the admins"),
}


def operation_title(operation: dict[str, Any]) -> Any:
    return OPERATION_TITLES.get(operation["operation"], operation["function"])


def _shown(field: str, value: Any) -> Any:
    if field in ("payee_org_id", "to_org_id"):
        return f"{org_name(value)} ({value})"
    if field in ("amount_fen", "threshold_fen"):
        return figures(int(value))
    if field == "operations":
        return ", ".join(str(OPERATION_TITLES.get(name, name)) for name in value) or _("none")
    if field == "reviewers":
        return ", ".join(value) or _("none")
    if field in ("annual_rate_bp", "max_annual_rate_bp"):
        return percent(int(value))
    if field == "invoices":
        return "; ".join(
            f"{item.get('number')} {figures(int(item.get('amount_fen', 0)))} SHA-256 {item.get('sha256')}"
            for item in value
        )
    return value


def intent_rows(operation: dict[str, Any]) -> list[tuple[Any, Any]]:
    """Every field of the prepared request, then who prepared it and the intent's hash."""
    rows: list[tuple[Any, Any]] = [(_l("Operation"), operation_title(operation))]
    # a financing approval's rate is private: read from the bank's collection (#20)
    salts = (dc.SALT, "terms_salt")  # random, not what the reviewer checks
    private = {k: v for k, v in (operation.get("private_request") or {}).items() if k not in salts}
    for field, value in sorted({**operation["request"], **private}.items()):
        if value is not None:
            rows.append((FIELD_LABELS.get(field, field), _shown(field, value)))
    if operation.get("amount_fen") is not None and "amount_fen" not in operation["request"]:
        rows.append((_l("Amount"), figures(int(operation["amount_fen"]))))
    rows += [
        (_l("Prepared by"), operation["maker"]["user"]),
        (_l("Prepared on"), operation["prepared_on"]),
        (_l("Review by"), operation["expires_on"]),
        (_l("Operation no."), operation["id"]),
        (_l("Intent SHA-256"), operation["intent_sha256"]),
    ]
    return rows


@bp.get("/reviews")
def reviews() -> Any:
    p, me = portal(), actor()
    if me.member_id == OPERATOR:
        abort(404)
    waiting = dual_control.to_review(p.platform, me)
    mine = [
        item for item in dual_control.list_operations(p.platform, me) if item["maker"]["user"] == me.username
    ]
    setting = dual_control.get_setting(p.platform, me.member_id)
    return render_template(
        "portal/reviews.html",
        waiting=waiting,
        mine=mine[:50],
        setting=setting,
        covered=("、" if session.get("lang", "zh") == "zh" else ", ").join(
            str(OPERATION_TITLES[name]) for name in setting["operations"]
        ),
        operation_title=operation_title,
    )


@bp.get("/reviews/settings")
def review_settings() -> Any:
    p, me = portal(), actor()
    if me.member_id == OPERATOR or me.role != "admin":
        abort(404)
    setting = dual_control.get_setting(p.platform, me.member_id)
    return render_template("portal/review_settings.html", setting=setting, titles=OPERATION_TITLES)


def _operation(p: Portal, me: Actor, values: dict[str, str]) -> dict[str, Any]:
    operation = dual_control.get_operation(p.platform, me, text(values, "operation_id", 64))
    if operation["status"] != "PENDING":
        raise d.StateConflictError(f"operation {operation['id']} is {operation['status']}, not PENDING")
    return operation


def prepare_approval(p: Portal, me: Actor, values: dict[str, str]) -> Summary:
    operation = _operation(p, me, values)
    if operation["maker"]["user"] == me.username:
        raise d.ForbiddenError(_("You prepared this operation: another user of your member reviews it."))
    request_ = operation["request"]
    ticket_id = request_.get("ticket_id") or request_.get("root_id")
    return Summary(values, ticket_id=ticket_id, rows=intent_rows(operation))


def prepare_rejection(p: Portal, me: Actor, values: dict[str, str]) -> Summary:
    operation = _operation(p, me, values)
    text(values, "reason", 500)
    return Summary(values, rows=[*intent_rows(operation), (_l("Reason"), values["reason"])])


def approved_page(result: dict[str, Any], values: dict[str, str]) -> str:
    """The ticket the approved operation made or changed (a settlement: its statement)."""
    done = result.get("result") or {}
    if "statement_id" in done:
        return url_for("portal.statement", root_id=done["root_id"], statement_id=done["statement_id"])
    for key in ("financed", "ticket"):
        if isinstance(done.get(key), dict):
            return str(done[key]["id"])
    return str(done.get("id") or url_for("portal.reviews"))


def _setting_values(values: dict[str, str]) -> dict[str, Any]:
    operations = [name for name in dc.OPERATIONS if values.get(f"op_{name}")]
    threshold = (values.get("threshold") or "").strip()
    threshold_fen = 0 if threshold in ("", "0") else amount(values, "threshold")
    reviewers = sorted(
        {
            name.strip()
            for name in (values.get("reviewers") or "").replace("，", ",").split(",")
            if name.strip()
        }
    )
    return {"operations": operations, "threshold_fen": threshold_fen, "reviewers": reviewers}


def prepare_setting(p: Portal, me: Actor, values: dict[str, str]) -> Summary:
    if me.role != "admin":
        raise d.ForbiddenError(_("Only an admin of your member changes this setting."))
    setting = _setting_values(values)
    wanted = dc.DualControl.from_request(me.member_id, setting)
    names = ", ".join(str(OPERATION_TITLES[name]) for name in setting["operations"]) or _("none")
    rows: list[tuple[Any, Any]] = [
        (_l("Operations that need a reviewer"), names),
        (_l("Above"), figures(setting["threshold_fen"]) if setting["threshold_fen"] else figures(0)),
        (_l("Reviewers besides the admins"), ", ".join(setting["reviewers"]) or _("none")),
    ]
    if dual_control.weakens(p.platform, me.member_id, wanted):
        rows.append(
            (
                _l("Review"),
                _(
                    "This weakens the setting: signing prepares it, and it takes effect only when "
                    "another admin or reviewer of your member approves it."
                ),
            )
        )
    return Summary(values, rows=rows)


SETTING_FIELDS = (*(f"op_{name}" for name in dc.OPERATIONS), "threshold", "reviewers")

ACTIONS.update(
    {
        action.name: action
        for action in [
            Action(
                "approve_operation",
                _l("Review and approve an operation of your member"),
                ("operation_id",),
                prepare_approval,
                lambda p, a, v, s: dual_control.approve(
                    p.platform, a, text(v, "operation_id", 64), pin=s["pin"]
                ),
                approved_page,
            ),
            Action(
                "reject_operation",
                _l("Reject an operation prepared for review"),
                ("operation_id", "reason"),
                prepare_rejection,
                lambda p, a, v, s: dual_control.reject(
                    p.platform, a, text(v, "operation_id", 64), reason=text(v, "reason", 500), pin=s["pin"]
                ),
                lambda result, v: url_for("portal.reviews"),
            ),
            Action(
                "set_dual_control",
                _l("Set which operations need a reviewer"),
                SETTING_FIELDS,
                prepare_setting,
                lambda p, a, v, s: dual_control.set_setting(
                    p.platform, a, **_setting_values(v), pin=s["pin"]
                ),
                lambda result, v: url_for("portal.reviews"),
            ),
        ]
    }
)


# the portal's writes a member's setting may put under review, and the function each signs
REVIEWED_ACTIONS = {
    "issue": "IssueTicket",
    "transfer": "OfferTransfer",
    "approve": "ApproveFinancing",
    "settle": "SettleTicket",
}


def for_review(p: Portal, me: Actor, action_name: str, amount_fen: int | None) -> bool:
    """Whether signing ``action_name`` for ``amount_fen`` only prepares it for a reviewer."""
    function = REVIEWED_ACTIONS.get(action_name)
    if function is None or amount_fen is None or me.member_id == OPERATOR:
        return False
    setting = dc.DualControl.from_dict(dual_control.get_setting(p.platform, me.member_id), me.member_id)
    return setting.needs_review(function, amount_fen)


def pending_page(result: dict[str, Any]) -> str:
    """Where a maker goes once an operation is prepared instead of signed."""
    return url_for("portal.reviews", prepared=result["operation"]["id"])
