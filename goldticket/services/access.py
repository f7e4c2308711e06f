"""Who may do what: every role check, made here before anything is signed.

The chaincode checks the same rules again on the ledger (it trusts no client); checking here
first means a refused request never reaches a card, so it costs no PIN try and no signature,
and a web view cannot forget a check the use case makes. Messages match the chaincode's. The records checked are read without a signed query
(``Platform.lookup``).
"""

from __future__ import annotations

from typing import Any

from goldticket import domain as d

from .context import OPERATOR, Actor
from .platform import Platform


def member_role(platform: Platform, member_id: str) -> str:
    """The role of a registered member (operator, core, supplier, bank). Raises NotFoundError."""
    return str(platform.lookup("member", d.require_text(member_id, "member id"))["role"])


def require_member_role(platform: Platform, actor: Actor, *roles: str) -> None:
    if member_role(platform, actor.member_id) not in roles:
        raise d.ForbiddenError(f"only a {' or '.join(roles)} member may do this")


def require_operator_admin(actor: Actor) -> None:
    """The operator desk: admins of the operator member only."""
    if actor.member_id != OPERATOR or actor.role != "admin":
        raise d.ForbiddenError("only an admin of the operator may do this")


def require_operator(actor: Actor) -> None:
    if actor.member_id != OPERATOR:
        raise d.ForbiddenError("only the operator may do this")


def ticket(platform: Platform, ticket_id: Any) -> dict[str, Any]:
    return platform.lookup("ticket", d.require_text(ticket_id, "ticket_id"))


def require_holder(platform: Platform, actor: Actor, ticket_id: Any) -> None:
    found = ticket(platform, ticket_id)
    if found["holder_org_id"] != actor.member_id:
        raise d.ForbiddenError(f"only the holder of ticket {found['id']} may do this")


def require_issuer(platform: Platform, actor: Actor, ticket_id: Any) -> None:
    found = ticket(platform, ticket_id)
    if found["issuer_org_id"] != actor.member_id:
        raise d.ForbiddenError(f"only the issuer of ticket {found['id']} may do this")


def require_offer_party(platform: Platform, actor: Actor, offer_id: Any, party: str) -> None:
    """``party`` is "payee" (to_org_id) or "holder" (from_org_id)."""
    offer = platform.lookup("offer", d.require_text(offer_id, "offer_id"))
    field = "to_org_id" if party == "payee" else "from_org_id"
    if offer[field] != actor.member_id:
        raise d.ForbiddenError(f"only the {party} of offer {offer['id']} may do this")


def require_application_bank(platform: Platform, actor: Actor, application_id: Any) -> dict[str, Any]:
    """The application, when ``actor`` is its bank (its rate bound is what approval states)."""
    application = platform.lookup("application", d.require_text(application_id, "application_id"))
    if application["bank_org_id"] != actor.member_id:
        raise d.ForbiddenError(f"only the bank of application {application['id']} may do this")
    return application
