"""Need to know, on the ledger: who may read what through the chaincode's queries.

Every query is signed by a registered, unrevoked identity (``Tx.viewer``): the operator's
identities (the portal's read identity among them) read everything; any other member reads its
own records only, and of a ticket tree the pieces goldticket.domain.visibility lets it see.
"""

from __future__ import annotations

from typing import Any

from goldticket import domain as d
from goldticket.domain.visibility import visible_pieces

from .transactions import Tx

OPERATOR_ROLE = "operator"


def sees_everything(member: dict[str, Any]) -> bool:
    return bool(member["role"] == OPERATOR_ROLE)


async def pieces(tx: Tx, root_id: str) -> dict[str, dict[str, Any]]:
    """Every piece of the tree under ``root_id``, by id."""
    return {attrs[1]: await tx.require("ticket", attrs[1]) for attrs, _ in await tx.scan("piece", root_id)}


async def visible_ids(tx: Tx, member: dict[str, Any], docs: dict[str, dict[str, Any]]) -> set[str]:
    """The pieces of one tree ``member`` may see (goldticket.domain.visibility's rule)."""
    if sees_everything(member):
        return set(docs)
    asked = [ticket_id for ticket_id, doc in docs.items() if await _asked(tx, member["id"], doc)]
    return visible_pieces(member["id"], docs, asked)


async def _asked(tx: Tx, member_id: str, doc: dict[str, Any]) -> bool:
    """Whether an open offer or financing application on the piece asks ``member_id``."""
    if doc.get("offer_id"):
        offer = await tx.get("offer", doc["offer_id"])
        if offer is not None and offer.get("to_org_id") == member_id:
            return True
    if doc.get("application_id"):
        application = await tx.get("application", doc["application_id"])
        if application is not None and application.get("bank_org_id") == member_id:
            return True
    return False


async def require_visible(tx: Tx, member: dict[str, Any], ticket: d.Ticket) -> None:
    """NotFoundError (as for a ticket that does not exist) unless ``member`` may see it."""
    if sees_everything(member):
        return
    if ticket.id not in await visible_ids(tx, member, await pieces(tx, ticket.root_id)):
        raise d.NotFoundError(f"no ticket {ticket.id}")


def require_own(member: dict[str, Any], *member_ids: Any) -> None:
    """ForbiddenError unless ``member`` is the operator or one of ``member_ids``."""
    if not sees_everything(member) and member["id"] not in member_ids:
        raise d.ForbiddenError("a member reads only its own records")
