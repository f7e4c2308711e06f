"""Certificate rules shared by the chaincode and the services: which tickets may be certified,
what a certificate id looks like, and the hash of a ticket's state that a certificate states."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from .errors import InvalidInputError, RuleViolationError
from .status import TicketStatus
from .ticket import Ticket

_CERTIFICATE_ID = re.compile(r"^CT[0-9A-F]{20}$")
# A certificate speaks for a piece someone holds; pending, refused, withdrawn and consumed
# pieces have no holder to speak for.
UNCERTIFIABLE = frozenset(
    {TicketStatus.PENDING_ACCEPTANCE, TicketStatus.REJECTED, TicketStatus.CANCELLED, TicketStatus.SPLIT}
)
STATE_FIELDS = (
    "id",
    "root_id",
    "parent_id",
    "issuer_org_id",
    "holder_org_id",
    "amount_fen",
    "issue_date",
    "maturity_date",
    "status",
    "invoices",
    "tx_id",
    "offer_id",
    "application_id",
    "frozen_from",
)


def state_sha256(ticket: dict[str, Any]) -> str:
    """SHA-256 (hex) of the ticket's state: the fields a certificate states, as sorted compact
    JSON. Absent and null fields hash alike, so the chaincode's and the API's shapes agree."""
    state = {field: ticket.get(field) for field in STATE_FIELDS}
    encoded = json.dumps(state, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def check_certifiable(ticket: Ticket) -> None:
    """Raise RuleViolationError unless the ticket is a piece someone holds."""
    if ticket.status in UNCERTIFIABLE:
        raise RuleViolationError(
            f"ticket {ticket.id} is {ticket.status.value}: only a held piece can be certified"
        )


def check_certificate_id(value: Any) -> str:
    """``CT`` and 20 upper-case hex digits; raises InvalidInputError otherwise."""
    if not isinstance(value, str) or not _CERTIFICATE_ID.match(value):
        raise InvalidInputError("certificate_id must be CT followed by 20 upper-case hex digits")
    return value
