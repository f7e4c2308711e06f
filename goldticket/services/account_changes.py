"""A change of a member's settlement account (#21): its admin asks, the operator confirms.

- :func:`request_change`: an admin of the member (its own card) gives the new account (name =
  the member's name, number, bank, CNAPS code); the new KYC record (the registered one with that
  account) is checked and kept in the portal's database by its SHA-256, and the admin's card
  signs ``RequestAccountChange`` naming only that hash on the ledger.
- :func:`confirm_change`: an operator admin (the desk's card, its own PIN) reads the record,
  and signs ``ConfirmAccountChange`` stating its hash: the ledger's member record keeps the new
  hash from then on, so payment files (services.payments) pay the new account.
- :func:`reject_change`: the operator declines, or the member's admin withdraws.

Neither side alone changes the account; the operator cannot start one, a clerk cannot ask.
Counterparties (the members that share a ticket tree with it) see "settlement account changed
on DATE" (:func:`notices`) and get an inbox notification (goldticket.store.notices); they never
see the account itself.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from goldticket import domain as d
from goldticket.store.models import MemberRow, ParticipantRow

from . import desk, kyc_records, members
from .context import OPERATOR, Actor
from .portal import Portal

ACCOUNT_FIELDS = ("account_name", "account_number", "bank_name", "cnaps_code")


def _present(portal: Portal, change: dict[str, Any], *, details: bool) -> dict[str, Any]:
    shown = {
        key: change.get(key)
        for key in ("id", "member_id", "status", "kyc_sha256", "requested_on", "decided_on", "reason")
    }
    shown["requested_by"] = (change.get("requested_by") or {}).get("user")
    if details:  # the operator and the member's own users: the account asked for
        record = kyc_records.asked(portal, change["member_id"], change["kyc_sha256"])
        shown["account"] = {field: record[field] for field in ACCOUNT_FIELDS} if record else None
    return shown


def check_request(portal: Portal, admin: Actor, account: Any) -> tuple[dict[str, Any], d.MemberKyc]:
    """(The registered record, the record asked for) of the admin's member with ``account`` (the
    ACCOUNT_FIELDS), every check made, nothing written. Raises ForbiddenError (not an admin of a
    core, supplier or bank), InvalidInputError, RuleViolationError (the account's name is not
    the member's, no registered KYC record, the same account)."""
    if admin.member_id == OPERATOR or admin.role != "admin":
        raise d.ForbiddenError("only an admin of the member changes its settlement account")
    if not isinstance(account, dict) or set(account) != set(ACCOUNT_FIELDS):
        raise d.InvalidInputError(f"the new account is {', '.join(ACCOUNT_FIELDS)}")
    member = members.get_member(portal.platform, admin.member_id)
    current = kyc_records.registered(portal, member)
    if current is None:
        raise d.RuleViolationError(
            f"member {member['id']} has no registered KYC record: the desk registers the first one"
        )
    checked = d.check_kyc({**current, **account}, member["name"])
    if checked.sha256 == member.get("kyc_sha256"):
        raise d.RuleViolationError("this is the settlement account already registered")
    return current, checked


def request_change(portal: Portal, admin: Actor, account: Any, *, pin: str) -> dict[str, Any]:
    """The admin's member asks to be paid into ``account`` (see :func:`check_request` for the
    refusals; StateConflictError when a change already waits)."""
    _, checked = check_request(portal, admin, account)
    kyc_records.keep_asked(portal, admin.member_id, checked, admin.username)  # before the ledger names it
    change = portal.platform.submit(admin, "RequestAccountChange", {"kyc_sha256": checked.sha256}, pin=pin)
    return _present(portal, change.result, details=True)


def changes(
    portal: Portal, actor: Actor, *, member_id: str | None = None, status: str | None = None
) -> list[dict[str, Any]]:
    """Account changes, newest first: a member's own (its users), or any member's (the operator;
    every member's without ``member_id``). ``status``: PENDING, CONFIRMED or REJECTED."""
    if actor.member_id != OPERATOR:
        if member_id not in (None, actor.member_id):
            raise d.NotFoundError(f"no account changes of member {member_id} for you")
        member_id = actor.member_id
    if status is not None and status not in ("PENDING", "CONFIRMED", "REJECTED"):
        raise d.InvalidInputError("status is PENDING, CONFIRMED or REJECTED")
    request: dict[str, Any] = {}
    if member_id is not None:
        request["member_id"] = d.require_text(member_id, "member_id", 64)
    if status is not None:
        request["status"] = status
    found = portal.platform.evaluate("ListAccountChanges", request)["items"]
    return [_present(portal, change, details=True) for change in found]


def pending(portal: Portal, member_id: str, change_id: str) -> dict[str, Any]:
    """The pending change ``change_id`` of ``member_id`` as the ledger has it; NotFoundError,
    StateConflictError (no longer pending)."""
    member_id = d.require_text(member_id, "member_id", 64)
    change_id = d.require_text(change_id, "change_id", 64)
    for change in portal.platform.evaluate("ListAccountChanges", {"member_id": member_id})["items"]:
        if change["id"] == change_id:
            if change["status"] != "PENDING":
                raise d.StateConflictError(f"account change {change_id} is {change['status']}, not PENDING")
            return change  # type: ignore[no-any-return]
    raise d.NotFoundError(f"no account change {change_id} of member {member_id}")


def confirm_change(
    portal: Portal, actor: Actor, member_id: str, change_id: str, *, desk_pin: str
) -> dict[str, Any]:
    """The operator desk confirms a pending change after reading the record asked for: signed
    by the acting operator admin's card, stating the record's hash. The new record is the
    member's registered one from then on."""
    signed_by = desk.authenticate(portal, actor, desk_pin)
    change = pending(portal, member_id, change_id)
    record = kyc_records.asked(portal, change["member_id"], change["kyc_sha256"])
    if record is None:  # nothing the desk could check: it confirms nothing blind
        raise d.NotFoundError(f"the record of account change {change_id} is not in the portal's database")
    request = {
        "member_id": change["member_id"],
        "change_id": change["id"],
        "kyc_sha256": change["kyc_sha256"],
    }
    confirmed = portal.platform.submit(
        signed_by.actor, "ConfirmAccountChange", request, pin=signed_by.pin
    ).result
    kyc_records.make_current(portal, change["member_id"], record, change["kyc_sha256"])
    portal.platform.audit_desk(
        signed_by, "account change confirm", member=change["member_id"], change=change_id
    )
    return _present(portal, confirmed, details=True)


def reject_change(
    portal: Portal,
    actor: Actor,
    member_id: str,
    change_id: str,
    *,
    reason: str = "",
    pin: str | None = None,
    desk_pin: str | None = None,
) -> dict[str, Any]:
    """Close a pending change unapplied: the operator desk (``desk_pin``) declines it, or an
    admin of the member (``pin``) withdraws it."""
    change = pending(portal, member_id, change_id)
    request = {"member_id": change["member_id"], "change_id": change["id"], "reason": reason or "rejected"}
    if actor.member_id == OPERATOR:
        signed_by = desk.authenticate(portal, actor, desk_pin)
        result = portal.platform.submit(
            signed_by.actor, "RejectAccountChange", request, pin=signed_by.pin
        ).result
        portal.platform.audit_desk(
            signed_by, "account change reject", member=change["member_id"], change=change_id
        )
    else:
        if actor.member_id != change["member_id"] or actor.role != "admin":
            raise d.ForbiddenError("only the operator or the member's own admin closes its account change")
        result = portal.platform.submit(actor, "RejectAccountChange", request, pin=pin or "").result
    return _present(portal, result, details=True)


def notices(portal: Portal, actor: Actor, member_ids: Any = None) -> list[dict[str, Any]]:
    """The actor's counterparties whose settlement account changed: ``{"member_id", "name",
    "changed_on"}`` for each member that shares a ticket tree with the actor's (issued, held,
    been offered or asked to finance a piece of it; the read model's participants), newest
    first; only of ``member_ids`` when given (a page's parties). The operator's: none."""
    if actor.member_id == OPERATOR:
        return []
    with portal.database.session() as session:
        roots = select(ParticipantRow.root_id).where(ParticipantRow.org_id == actor.member_id)
        others = set(
            session.scalars(
                select(ParticipantRow.org_id).where(
                    ParticipantRow.root_id.in_(roots), ParticipantRow.org_id != actor.member_id
                )
            ).all()
        )
        if member_ids is not None:
            others &= set(member_ids)
        rows = (
            session.scalars(select(MemberRow).where(MemberRow.id.in_(sorted(others)))).all() if others else []
        )
        found = [json.loads(row.doc) for row in rows]
    shown = [
        {"member_id": doc["id"], "name": doc.get("name", doc["id"]), "changed_on": doc["account_changed_on"]}
        for doc in found
        if doc.get("account_changed_on")
    ]
    return sorted(shown, key=lambda item: (item["changed_on"], item["member_id"]), reverse=True)
