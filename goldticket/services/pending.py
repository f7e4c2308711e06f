"""Pending work a member can find without being handed an id: open transfer offers (to it or
from it), open financing applications (to its bank or from it), the tickets it holds, and a
root's clearing statement. Reads from the ledger's world state, signed by the portal's read
identity; the member is the acting user's."""

from __future__ import annotations

from typing import Any

from goldticket import domain as d

from .context import Actor
from .platform import Platform

DIRECTIONS = ("to-me", "from-me", "all")


def ticket_status(text: str | None) -> str | None:
    """A ticket status in any case (``active``, ``Locked_Transfer``); an unknown one is refused
    with the list of known ones."""
    if text is None or text == "":
        return None
    wanted = text.strip().upper().replace("-", "_")
    known = [status.value for status in d.TicketStatus]
    if wanted == "OVERDUE":
        raise d.InvalidInputError(
            "OVERDUE is shown, not stored: list ACTIVE tickets and look at display_status"
        )
    if wanted not in known:
        raise d.InvalidInputError(f"unknown ticket status {text!r}; one of {', '.join(known)}")
    return wanted


def _direction(direction: str) -> str:
    if direction not in DIRECTIONS:
        raise d.InvalidInputError(f"direction is one of {', '.join(DIRECTIONS)}")
    return direction


def _locked(platform: Platform, status: str) -> list[dict[str, Any]]:
    return platform.evaluate("ListTickets", {"status": status})["items"]  # type: ignore[no-any-return]


def open_offers(platform: Platform, actor: Actor, direction: str = "all") -> list[dict[str, Any]]:
    """Open transfer offers to the actor's member (``to-me``: theirs to accept or reject),
    from it (``from-me``: theirs to cancel), or both."""
    _direction(direction)
    found = []
    for ticket in _locked(platform, d.TicketStatus.LOCKED_TRANSFER.value):
        offer = platform.evaluate("GetOffer", {"offer_id": ticket["offer_id"]})
        to_me, from_me = offer["to_org_id"] == actor.member_id, offer["from_org_id"] == actor.member_id
        if (
            (direction == "to-me" and to_me)
            or (direction == "from-me" and from_me)
            or (direction == "all" and (to_me or from_me))
        ):
            found.append({**offer, "maturity_date": ticket["maturity_date"], "root_id": ticket["root_id"]})
    return found


def open_applications(platform: Platform, actor: Actor, direction: str = "all") -> list[dict[str, Any]]:
    """Open financing applications to the actor's bank (``to-me``: to approve or decline), from
    its member (``from-me``), or both."""
    _direction(direction)
    found = []
    for ticket in _locked(platform, d.TicketStatus.LOCKED_FINANCING.value):
        application = platform.evaluate("GetApplication", {"application_id": ticket["application_id"]})
        to_me = application["bank_org_id"] == actor.member_id
        from_me = application["holder_org_id"] == actor.member_id
        if (
            (direction == "to-me" and to_me)
            or (direction == "from-me" and from_me)
            or (direction == "all" and (to_me or from_me))
        ):
            found.append({**application, "maturity_date": ticket["maturity_date"]})
    return found


def statements(platform: Platform, root_id: str) -> list[dict[str, Any]]:
    """The clearing statements of a root ticket (one once it is settled)."""
    return platform.evaluate("GetStatements", {"root_id": root_id})["items"]  # type: ignore[no-any-return]
