"""The verdict on an uploaded file and the public look-up by certificate id.

``valid``: signed by the platform over the whole file, its hash on the ledger, the certificate
id and ticket the signature states are the ledger record's, the ticket's state unchanged;
``stale``: genuine, but the ticket changed since (the reasons say what and when, not who: no
member names, other pieces' holders or transaction ids); ``forged``: anything else, for any
bytes at all. The public look-up by id says genuine or not, valid or stale and the ticket's
status, nothing more.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from goldticket import certificates as pdf
from goldticket import domain as d

from ..context import CHINA
from ..platform import Platform
from ..reads import present_ticket
from .documents import document_signer
from .issue import signed_reason

HELD_ELSEWHERE = "the ticket is no longer held by the holder the certificate states"
MISMATCH = "the certificate id or ticket stated in the PDF is not the ledger record's"

# What each ledger action did to a ticket, as a stale verdict says it.
ACTIONS = {
    "accept": "accepted",
    "offer_transfer": "offered for transfer",
    "accept_transfer": "transferred (the ticket was split)",
    "reject_transfer": "transfer offer rejected",
    "cancelled_transfer": "transfer offer cancelled",
    "rejected_transfer": "transfer offer rejected",
    "apply_financing": "offered to a bank for financing",
    "approve_financing": "financed (the ticket was split)",
    "reject_financing": "financing rejected",
    "settle": "settled at maturity",
    "freeze": "frozen by the operator",
    "unfreeze": "unfrozen by the operator",
}


def _china_time(timestamp: str) -> str:
    return dt.datetime.fromisoformat(timestamp).astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S (UTC+8)")


def verify_certificate(platform: Platform, data: bytes) -> dict[str, Any]:
    """The verdict on an uploaded file: ``{"verdict", "ticket_id", "certificate_id",
    "sha256", "reasons", "current", ...}``. Any bytes get an answer; only a ledger that cannot
    be reached raises (LedgerError)."""
    signer = document_signer(platform)
    check = pdf.check_signature(bytes(data), signer.certificate_pem, signer.ca_pem)
    if not check.genuine:
        return _forged(check.sha256, check.reason)
    try:
        record = platform.evaluate("GetCertificate", {"sha256": check.sha256})
    except d.NotFoundError:
        return _forged(check.sha256, "the file's SHA-256 is not recorded on the ledger")
    if check.signed_reason != signed_reason(str(record.get("certificate_id")), record["ticket_id"]):
        # a platform-signed file of another kind (a clearing statement) or another ticket
        return _forged(check.sha256, MISMATCH)
    return _judge(platform, record)


def lookup_certificate(platform: Platform, certificate_id: str) -> dict[str, Any]:
    """The public page's answer for a certificate id (what its QR code names): ``genuine`` is
    whether the platform issued a certificate with this id; the verdict says whether its ticket
    is still as stated. An unknown or malformed id answers ``forged``."""
    try:
        d.check_certificate_id(certificate_id)
        record = platform.evaluate("GetCertificate", {"certificate_id": certificate_id})
    except (d.InvalidInputError, d.NotFoundError):
        answer = _forged(None, "no certificate with this id was issued by the platform")
        return {**answer, "genuine": False, "certificate_id": certificate_id}
    answer = _judge(platform, record)
    # genuine or not, valid or stale, and the ticket's status: nothing about who or how much
    return {
        "verdict": answer["verdict"],
        "genuine": True,
        "certificate_id": certificate_id,
        "ticket_id": None,
        "sha256": None,
        "reasons": [],
        "current": {key: answer["current"][key] for key in ("status", "display_status")},
    }


def _forged(sha256: str | None, reason: str) -> dict[str, Any]:
    return {
        "verdict": "forged",
        "ticket_id": None,
        "certificate_id": None,
        "sha256": sha256,
        "reasons": [reason],
        "current": None,
    }


def _judge(platform: Platform, record: dict[str, Any]) -> dict[str, Any]:
    current = platform.evaluate("GetTicket", {"ticket_id": record["ticket_id"]})
    answer: dict[str, Any] = {
        "verdict": "valid",
        "ticket_id": record["ticket_id"],
        "certificate_id": record.get("certificate_id"),
        "sha256": record["sha256"],
        "certified_at": record.get("recorded_at"),
        "reasons": [],
        "current": present_ticket(current, platform.today()),
    }
    if d.state_sha256(current) == record.get("state_sha256", d.state_sha256(record["ticket"])):
        return answer
    changes = _changes_since(platform, record, current)
    answer.update(verdict="stale", reasons=changes, changed_at=_first_change(platform, record))
    return answer


def _changes_since(platform: Platform, record: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """What changed since the certificate, and when: one sentence per ledger action, then where
    the ticket stands now."""
    stated = record["ticket"]
    reasons = []
    for entry in _history_since(platform, record):
        action = ACTIONS.get(entry.get("action", ""), entry.get("action", "changed"))
        reasons.append(f"{_china_time(entry['timestamp'])}: {action}; status {entry.get('status')}")
    if current["status"] != stated["status"]:
        reasons.append(f"the ticket is now {current['status']}, the certificate states {stated['status']}")
    if current["holder_org_id"] != stated["holder_org_id"]:
        reasons.append(HELD_ELSEWHERE)
    if current["status"] == "SPLIT":
        reasons.append(f"split into {_piece_count(platform, current)} pieces")
    return reasons


def _history_since(platform: Platform, record: dict[str, Any]) -> list[dict[str, Any]]:
    """The ticket's ledger actions after the version the certificate states: after the last
    version with the stated state hash written before the certificate was recorded."""
    items = platform.evaluate("GetHistory", {"ticket_id": record["ticket_id"]})["items"]
    stated = record.get("state_sha256")
    recorded = dt.datetime.fromisoformat(record["recorded_at"]) if record.get("recorded_at") else None
    start = 0
    for index, item in enumerate(items):
        # the record's time has whole seconds; the history's has fractions
        before = recorded is None or dt.datetime.fromisoformat(item["timestamp"]) < recorded + dt.timedelta(
            seconds=1
        )
        if before and item.get("state_sha256") == stated:
            start = index + 1
    return items[start:]


def _first_change(platform: Platform, record: dict[str, Any]) -> str | None:
    entries = _history_since(platform, record)
    return entries[0]["timestamp"] if entries else None


def _piece_count(platform: Platform, ticket: dict[str, Any]) -> int:
    """How many pieces the ticket was split into (not who holds them, nor their amounts)."""
    return sum(1 for doc in platform.evaluate("ListTickets", {"root_id": ticket["root_id"]})["items"]
               if doc.get("parent_id") == ticket["id"])  # fmt: skip
