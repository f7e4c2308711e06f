"""The operator desk's writes, through the same confirmation page as every other write: members,
users and their cards (open and issue, report lost, replace, eliminate, unlock). Thin: each
calls one function of goldticket.services.desk or accounts, which make every check."""

from __future__ import annotations

import dataclasses
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from goldticket import domain as d
from goldticket.services import access, accounts, desk, worklists
from goldticket.services.context import Actor
from goldticket.services.portal import Portal

from .actions import ACTIONS, Action, Summary, text
from .formatting import role_text

DESK = "/desk"


def _card_summary(portal: Portal, actor: Actor, values: dict[str, str]) -> Summary:
    card = portal.platform.cards.registry.get(text(values, "card_id", 64))
    return Summary(
        values, counterparty=card.member_id, rows=[(_l("User"), card.username), (_l("Card"), card.serial)]
    )


def _user_summary(portal: Portal, actor: Actor, values: dict[str, str]) -> Summary:
    user = portal.platform.actor(text(values, "user_id", 64))
    return Summary(values, counterparty=user.member_id, rows=[(_l("User"), user.username)])


def _login_summary(portal: Portal, actor: Actor, values: dict[str, str]) -> Summary:
    """A user's login, by the desk's directory (a user without a card yet included)."""
    username = text(values, "user_id", 64)
    for user in worklists.directory(portal, actor):
        if user["username"] == username:
            return Summary(
                values,
                counterparty=user["org_id"],
                rows=[(_l("User"), username), (_l("Role"), role_text(user["role"]))],
            )
    raise d.NotFoundError(f"no user {username}")


def _details(values: dict[str, str]) -> dict[str, Any]:
    """The member details the edit form changes: the fields filled in, nothing else."""
    details: dict[str, Any] = {}
    for field in ("name", "name_en"):
        if (values.get(field) or "").strip():
            details[field] = text(values, field)
    for field, allowed in (("day_basis", ("360", "365")), ("fee_bp", None)):
        typed = (values.get(field) or "").strip()
        if typed:
            if not typed.isdigit() or (allowed and typed not in allowed) or int(typed) > 10_000:
                raise d.InvalidInputError(_("A day basis is 360 or 365; a fee is 0 to 10000 basis points."))
            details[field] = int(typed)
    if not details:
        raise d.InvalidInputError(_("Fill in what changes."))
    return details


def _edit_org_summary(portal: Portal, actor: Actor, values: dict[str, str]) -> Summary:
    org_id = text(values, "org_id", 64)
    labels = {
        "name": _l("Name"),
        "name_en": _l("English name"),
        "day_basis": _l("Day basis"),
        "fee_bp": _l("Fee (basis points)"),
    }
    rows = [(labels[field], value) for field, value in _details(values).items()]
    return Summary(values, counterparty=org_id, rows=rows)


def _org_summary(portal: Portal, actor: Actor, values: dict[str, str]) -> Summary:
    role = text(values, "role", 16)
    if role not in ("core", "supplier", "bank"):
        raise d.InvalidInputError(_("A member is a core enterprise, a supplier or a bank."))
    rows = [
        (_l("Name"), text(values, "name")),
        (_l("Role"), role_text(role)),
        (_l("Id"), values.get("id") or "—"),
    ]
    if values.get("name_en"):
        rows.append((_l("English name"), values["name_en"]))
    kyc = _kyc(values)
    if kyc is not None:  # checked before the PIN: the code's check character, the account's name
        checked = d.check_kyc(kyc, text(values, "name"))
        rows += [(KYC_LABELS[field], getattr(checked, field)) for field in d.kyc.FIELDS]
    return Summary(values, rows=rows)


KYC_LABELS = {
    "uscc": _l("Unified social credit code"),
    "legal_representative": _l("Legal representative"),
    "registered_address": _l("Registered address"),
    "account_name": _l("Settlement account name"),
    "account_number": _l("Settlement account number"),
    "bank_name": _l("Bank of the account"),
    "cnaps_code": _l("CNAPS code"),
}


def _kyc(values: dict[str, str]) -> dict[str, str] | None:
    """The KYC fields of the register form, or None when all are left empty."""
    kyc = {field: (values.get(field) or "").strip() for field in d.kyc.FIELDS}
    return kyc if any(kyc.values()) else None


def _new_user_summary(portal: Portal, actor: Actor, values: dict[str, str]) -> Summary:
    org_id = text(values, "org_id", 64)
    rows = [(_l("User"), text(values, "username", 64)), (_l("Role"), role_text(text(values, "role", 16)))]
    return Summary(values, counterparty=org_id, rows=rows)


def _new_org(portal: Portal, actor: Actor, values: dict[str, str], secrets: dict[str, str]) -> dict[str, Any]:
    return desk.create_org(
        portal,
        actor,
        desk_pin=secrets["desk_pin"],
        name=text(values, "name"),
        role=text(values, "role", 16),
        org_id=(values.get("id") or "").strip() or None,
        name_en=(values.get("name_en") or "").strip(),
        kyc=_kyc(values),
    )


# every desk action is authenticated by the acting operator admin's own card PIN
DESK_PIN = (("desk_pin", _l("Your own card PIN (operator admin)")),)
_BEFORE = set(ACTIONS)
ACTIONS.update(
    {
        action.name: action
        for action in [
            Action(
                "create_org",
                _l("Register a member"),
                ("id", "name", "name_en", "role", *d.kyc.FIELDS),
                _org_summary,
                _new_org,
                lambda result, v: DESK,
                secrets=DESK_PIN,
            ),
            Action(
                "create_user",
                _l("Add a user"),
                ("org_id", "username", "role"),
                _new_user_summary,
                lambda p, a, v, s: accounts.create_user(
                    p,
                    a,
                    desk_pin=s["desk_pin"],
                    org_id=text(v, "org_id", 64),
                    username=text(v, "username", 64),
                    role=text(v, "role", 16),
                ),
                lambda result, v: DESK,
                secrets=DESK_PIN,
                keeps_answer=False,
            ),
            Action(
                "update_org",
                _l("Edit a member's details"),
                ("org_id", "name", "name_en", "day_basis", "fee_bp"),
                _edit_org_summary,
                lambda p, a, v, s: desk.update_org(
                    p, a, desk_pin=s["desk_pin"], org_id=text(v, "org_id", 64), **_details(v)
                ),
                lambda result, v: DESK,
                secrets=DESK_PIN,
            ),
            Action(
                "disable_user",
                _l("Disable the user's login"),
                ("user_id",),
                _login_summary,
                lambda p, a, v, s: accounts.disable_user(
                    p, a, desk_pin=s["desk_pin"], username=text(v, "user_id", 64)
                ),
                lambda result, v: DESK,
                secrets=DESK_PIN,
            ),
            Action(
                "reset_password",
                _l("Reset the password (a new activation code)"),
                ("user_id",),
                _login_summary,
                lambda p, a, v, s: accounts.reset_password(
                    p, a, desk_pin=s["desk_pin"], username=text(v, "user_id", 64)
                ),
                lambda result, v: DESK,
                secrets=DESK_PIN,
                keeps_answer=False,
            ),
            Action(
                "issue_card",
                _l("Open and issue a card"),
                ("user_id",),
                _user_summary,
                lambda p, a, v, s: desk.issue_card(
                    p, a, desk_pin=s["desk_pin"], user_id=text(v, "user_id", 64)
                ),
                lambda result, v: DESK,
                secrets=DESK_PIN,
            ),
            Action(
                "report_lost",
                _l("Report the card lost"),
                ("card_id",),
                _card_summary,
                lambda p, a, v, s: desk.report_lost(p, a, text(v, "card_id", 64), desk_pin=s["desk_pin"]),
                lambda result, v: DESK,
                secrets=DESK_PIN,
            ),
            Action(
                "replace_card",
                _l("Replace the card (same key)"),
                ("card_id",),
                _card_summary,
                lambda p, a, v, s: desk.replace_card(
                    p,
                    a,
                    text(v, "card_id", 64),
                    desk_pin=s["desk_pin"],
                    operator_password=s["operator_password"],
                ),
                lambda result, v: DESK,
                secrets=(("operator_password", _l("The operator password")), *DESK_PIN),
            ),
            Action(
                "eliminate_card",
                _l("Eliminate the card"),
                ("card_id",),
                _card_summary,
                lambda p, a, v, s: desk.eliminate_card(p, a, text(v, "card_id", 64), desk_pin=s["desk_pin"]),
                lambda result, v: DESK,
                secrets=DESK_PIN,
            ),
            Action(
                "unlock_card",
                _l("Unlock the card"),
                ("card_id",),
                _card_summary,
                lambda p, a, v, s: desk.unlock_card(p, a, text(v, "card_id", 64), desk_pin=s["desk_pin"]),
                lambda result, v: DESK,
                secrets=DESK_PIN,
            ),
        ]
    }
)
DESK_ACTIONS = frozenset(set(ACTIONS) - _BEFORE)


def _desk_only(prepare: Any) -> Any:
    """The desk's confirmation pages are the operator desk's, as the API's desk calls: any other
    user is refused before the page names a card's or user's member (issue #17, point 13)."""

    def checked(portal: Portal, actor: Actor, values: dict[str, str]) -> Summary:
        access.require_operator_admin(actor)
        return prepare(portal, actor, values)  # type: ignore[no-any-return]

    return checked


for _name in DESK_ACTIONS:
    ACTIONS[_name] = dataclasses.replace(
        ACTIONS[_name], prepare=_desk_only(ACTIONS[_name].prepare), rehearses=False
    )
