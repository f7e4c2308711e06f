"""Certificates: a holder's (or issuer's) signed PDF of a ticket, anchored on the ledger before
it is handed out; the verdict on an uploaded file; the public look-up by certificate id; the
clearing statement of a settlement as a signed PDF.

Issuing reads the ticket, its lineage and invoices from the ledger, renders the PDF, signs it
with the platform's document key (goldticket.certificates) and records its SHA-256, id, ticket,
holder and the hash of the ticket's state with ``RecordCertificate``, signed by the operator
desk's card (a download carries no PIN; the chaincode checks the requester is the holder or
issuer and that the ticket is still in the stated state). Only then is the PDF returned.

Verdicts: ``valid`` (signed by the platform over the whole file, its hash on the ledger, the
ticket's state unchanged), ``stale`` (genuine, but the ticket changed since: the reasons say
what and when), ``forged`` (anything else, for any bytes at all).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
import threading
from pathlib import Path
from typing import Any

from goldticket import certificates as pdf
from goldticket import domain as d

from . import pending
from .platform import CHINA, OPERATOR, Actor, Platform
from .reads import present_ticket

SIGNING_CERTIFICATE_PATH = "/api/v1/certificates/signing-certificate"
STATUS_LABELS = {
    "PENDING_ACCEPTANCE": ("待签收", "Pending acceptance"),
    "ACTIVE": ("持有中", "Active"),
    "LOCKED_TRANSFER": ("转让中", "Transfer pending"),
    "LOCKED_FINANCING": ("融资申请中", "Financing pending"),
    "SPLIT": ("已拆分", "Split"),
    "FINANCED": ("已融资", "Financed"),
    "SETTLED": ("已兑付", "Settled"),
    "REJECTED": ("已拒收", "Rejected"),
    "CANCELLED": ("已撤销", "Cancelled"),
    "FROZEN": ("已冻结", "Frozen"),
}
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

_SIGNERS: dict[Path, pdf.DocumentSigner] = {}
_SIGNERS_LOCK = threading.Lock()


@dataclasses.dataclass(frozen=True)
class IssuedCertificate:
    """A certificate recorded on the ledger: the PDF to hand out and its ledger record."""

    certificate_id: str
    sha256: str
    ticket_id: str
    pdf: bytes
    record: dict[str, Any]

    @property
    def filename(self) -> str:
        return f"certificate-{self.ticket_id}-{self.certificate_id}.pdf"


# ------------------------------------------------------------------ the platform's key
def document_signer(platform: Platform) -> pdf.DocumentSigner:
    """The platform's document signer (made on first use): in a SoftHSM2 token with the
    PKCS#11 card backend, a software key with the software backend only."""
    directory = (platform.settings.data_dir / "certificates").resolve()
    with _SIGNERS_LOCK:
        if directory not in _SIGNERS:
            cards = platform.cards
            factory = cards.factories.get("pkcs11") if cards.default_backend == "pkcs11" else None
            ca = platform.keystore.cas()["OperatorMSP"]
            _SIGNERS[directory] = pdf.open_document_signer(directory, ca, factory)
        return _SIGNERS[directory]


def signing_certificates_pem(platform: Platform) -> bytes:
    """The platform's document-signing certificate, then the operator CA's: what anyone needs
    to check a certificate PDF's signature (published at SIGNING_CERTIFICATE_PATH)."""
    signer = document_signer(platform)
    return signer.certificate_pem + signer.ca_pem


def verify_url(platform: Platform, certificate_id: str) -> str:
    """The public page the certificate's QR code opens."""
    return f"{platform.settings.public_url.rstrip('/')}/verify/{certificate_id}"


# ---------------------------------------------------------------------------- issue
def issue_certificate(platform: Platform, actor: Actor, ticket_id: str) -> IssuedCertificate:
    """Render, sign and anchor a certificate of ``ticket_id`` for its holder or issuer.

    Raises NotFoundError (no such ticket), ForbiddenError (not the holder or issuer),
    RuleViolationError (a ticket that is not held: pending, refused, cancelled or split),
    StateConflictError (the ticket changed while the certificate was made: ask again),
    CertificateError (the document key cannot sign)."""
    ticket = platform.evaluate("GetTicket", {"ticket_id": d.require_text(ticket_id, "ticket_id", 64)})
    if actor.member_id not in (ticket["holder_org_id"], ticket["issuer_org_id"]):
        raise d.ForbiddenError(f"only the holder or issuer of ticket {ticket['id']} may certify it")
    d.check_certifiable(d.Ticket.from_dict(ticket))
    certificate_id = "CT" + secrets.token_hex(10).upper()
    state = d.state_sha256(ticket)
    view = certificate_view(platform, ticket, certificate_id, state)
    signer = document_signer(platform)
    signed = signer.sign(pdf.render_certificate(view), reason=f"GoldTicket certificate {certificate_id}")
    # never anchor or hand out a file our own verification would call forged
    check = pdf.check_signature(signed, signer.certificate_pem, signer.ca_pem)
    if not check.genuine:
        raise pdf.CertificateError(f"the signed certificate does not verify: {check.reason}")
    sha256 = check.sha256
    desk = platform.desk()  # the platform records it with the operator desk's card
    request = {
        "ticket_id": ticket["id"],
        "sha256": sha256,
        "certificate_id": certificate_id,
        "state_sha256": state,
        "requested_by": actor.member_id,
    }
    record = platform.submit(desk.actor, "RecordCertificate", request, pin=desk.pin).result
    return IssuedCertificate(certificate_id, sha256, ticket["id"], signed, record)


def certificate_view(
    platform: Platform, ticket: dict[str, Any], certificate_id: str, state_sha256: str
) -> dict[str, Any]:
    """What the certificate template shows, every value already formatted."""
    names = _member_names(platform)
    history = platform.evaluate("GetHistory", {"ticket_id": ticket["id"]})["items"]
    last_tx = history[-1]["tx_id"] if history else ticket["tx_id"]
    zh, en = STATUS_LABELS.get(ticket["status"], (ticket["status"], ticket["status"]))
    url = verify_url(platform, certificate_id)
    return {
        "certificate_id": certificate_id,
        "issued_at": dt.datetime.now(CHINA).strftime("%Y-%m-%d %H:%M:%S (UTC+8)"),
        "platform_name": names.get(OPERATOR, ("", ""))[0],
        "platform_name_en": names.get(OPERATOR, ("", ""))[1],
        "qr": pdf.qr_data_uri(url),
        "verify_url": url,
        "signer_url": platform.settings.public_url.rstrip("/") + SIGNING_CERTIFICATE_PATH,
        "ticket": {
            "id": ticket["id"],
            "root_id": ticket["root_id"],
            "issuer": _name(names, ticket["issuer_org_id"]),
            "holder": _name(names, ticket["holder_org_id"]),
            "amount": d.format_fen(ticket["amount_fen"]),
            "amount_capital": d.chinese_capital(ticket["amount_fen"]),
            "issue_date": ticket["issue_date"],
            "maturity_date": ticket["maturity_date"],
            "status": ticket["status"],
            "status_zh": zh,
            "status_en": en,
        },
        "lineage": _moves(platform, ticket, names),
        "invoices": [
            {"number": item["number"], "amount": d.format_fen(item["amount_fen"]), "sha256": item["sha256"]}
            for item in ticket["invoices"]
        ],
        "ledger": {
            "channel": platform.ledger.channel_id,
            "kind": platform.ledger.kind,
            "tx_id": last_tx,
            "block": _block(platform, last_tx),
            "height": platform.ledger.height(),
            "state_sha256": state_sha256,
        },
    }


def _member_names(platform: Platform) -> dict[str, tuple[str, str]]:
    members = platform.evaluate("ListMembers", {})["items"]
    return {member["id"]: (member["name"], member.get("name_en") or "") for member in members}


def _name(names: dict[str, tuple[str, str]], member_id: str) -> str:
    zh, en = names.get(member_id, (member_id, ""))
    return f"{zh} {en} ({member_id})".replace("  ", " ")


def _block(platform: Platform, tx_id: str) -> int:
    return platform.ledger.commit_status(tx_id, platform.reader).block_number


def _path(tree: dict[str, Any], ticket_id: str) -> list[dict[str, Any]]:
    """The ticket documents from the root down to ``ticket_id``."""
    if tree["ticket"]["id"] == ticket_id:
        return [tree["ticket"]]
    for child in tree["children"]:
        below = _path(child, ticket_id)
        if below:
            return [tree["ticket"], *below]
    return []


def _moves(
    platform: Platform, ticket: dict[str, Any], names: dict[str, tuple[str, str]]
) -> list[dict[str, Any]]:
    tree = platform.evaluate("GetLineage", {"ticket_id": ticket["id"]})
    moves = []
    parent: dict[str, Any] | None = None
    for piece in _path(tree, ticket["id"]) or [ticket]:
        history = platform.evaluate("GetHistory", {"ticket_id": piece["id"]})["items"]
        created = history[0] if history else {"timestamp": "", "action": "issue"}
        if parent is None:
            kind = ("开立", "Issue")
            source = piece["issuer_org_id"]
        elif piece["holder_org_id"] == parent["holder_org_id"]:
            kind = ("拆分留存", "Remainder kept")
            source = parent["holder_org_id"]
        elif created.get("action") == "approve_financing":
            kind = ("融资", "Financing")
            source = parent["holder_org_id"]
        else:
            kind = ("转让", "Transfer")
            source = parent["holder_org_id"]
        moves.append(
            {
                "kind_zh": kind[0],
                "kind_en": kind[1],
                "from": _name(names, source),
                "to": _name(names, piece["holder_org_id"]),
                "amount": d.format_fen(piece["amount_fen"]),
                "date": _china_date(created["timestamp"]),
                "ticket_id": piece["id"],
                "tx_id": piece["tx_id"],
                "block": _block(platform, piece["tx_id"]),
            }
        )
        parent = piece
    return moves


def _china_date(timestamp: str) -> str:
    if not timestamp:
        return ""
    return dt.datetime.fromisoformat(timestamp).astimezone(CHINA).date().isoformat()


def _china_time(timestamp: str) -> str:
    return dt.datetime.fromisoformat(timestamp).astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S (UTC+8)")


# --------------------------------------------------------------------------- verify
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
    current = answer["current"]
    # The public page shows where the ticket stands, not the ticket's whole document.
    answer["current"] = {key: current[key] for key in ("id", "status", "display_status", "amount_fen")}
    answer.update(
        genuine=True,
        amount_fen=record["ticket"]["amount_fen"],
        maturity_date=record["ticket"]["maturity_date"],
    )
    return answer


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
        reasons.append(
            f"{_china_time(entry['timestamp'])}: {action} by {entry.get('by_org_id', '?')}; "
            f"status {entry.get('status')} (transaction {entry['tx_id']})"
        )
    if current["status"] != stated["status"]:
        reasons.append(f"the ticket is now {current['status']}, the certificate states {stated['status']}")
    if current["holder_org_id"] != stated["holder_org_id"]:
        reasons.append(f"the ticket is now held by {current['holder_org_id']}, not {stated['holder_org_id']}")
    if current["status"] == "SPLIT":
        reasons.extend(_split_into(platform, current))
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


def _split_into(platform: Platform, ticket: dict[str, Any]) -> list[str]:
    tree = platform.evaluate("GetLineage", {"ticket_id": ticket["id"]})

    def find(node: dict[str, Any]) -> dict[str, Any] | None:
        if node["ticket"]["id"] == ticket["id"]:
            return node
        return next((hit for child in node["children"] if (hit := find(child)) is not None), None)

    node = find(tree)
    pieces = [child["ticket"] for child in (node or {"children": []})["children"]]
    return [
        f"split: {d.format_fen(piece['amount_fen'])} now held by {piece['holder_org_id']} "
        f"as {piece['id']} ({piece['status']})"
        for piece in pieces
    ]


# ----------------------------------------------------------------------- statements
def _is_party(actor: Actor, root: dict[str, Any], statement: dict[str, Any]) -> bool:
    """The issuer, a payee or holder named in the statement, or the operator."""
    parties = {root["issuer_org_id"], OPERATOR}
    parties |= {item["holder_org_id"] for item in statement["paid"] + statement["withheld"]}
    return actor.member_id in parties


def get_statement(platform: Platform, actor: Actor, root_id: str, statement_id: str) -> dict[str, Any]:
    """A settlement's clearing statement (with its ``root_id``), for a party to it. Raises
    NotFoundError, ForbiddenError."""
    request = {
        "root_id": d.require_text(root_id, "root_id", 64),
        "statement_id": d.require_text(statement_id, "statement_id", 64),
    }
    statement = platform.evaluate("GetStatement", request)
    root = platform.evaluate("GetTicket", {"ticket_id": root_id})
    if not _is_party(actor, root, statement):
        raise d.ForbiddenError(f"only a party to statement {statement_id} may read it")
    return {**statement, "root_id": root_id}


def list_statements(platform: Platform, actor: Actor, root_id: str) -> list[dict[str, Any]]:
    """The clearing statements of ``root_id`` the actor is a party to (none before settlement)."""
    root = platform.evaluate("GetTicket", {"ticket_id": d.require_text(root_id, "root_id", 64)})
    items = pending.statements(platform, root["id"])
    return [{**item, "root_id": root["id"]} for item in items if _is_party(actor, root, item)]


def statement_pdf(platform: Platform, actor: Actor, root_id: str, statement_id: str) -> bytes:
    """The clearing statement of a settlement, signed by the platform. For the issuer, a payee
    or holder named in it, or the operator. Raises NotFoundError, ForbiddenError."""
    statement = get_statement(platform, actor, root_id, statement_id)
    root = platform.evaluate("GetTicket", {"ticket_id": root_id})
    names = _member_names(platform)

    def payments(items: list[dict[str, Any]]) -> list[dict[str, str]]:
        return [
            {
                "ticket_id": item["ticket_id"],
                "holder": _name(names, item["holder_org_id"]),
                "amount": d.format_fen(item["amount_fen"]),
            }
            for item in items
        ]

    view = {
        "statement_id": statement["statement_id"],
        "settled_on": statement["settled_on"],
        "root_id": root_id,
        "issuer": _name(names, root["issuer_org_id"]),
        "total_paid": d.format_fen(statement["total_paid_fen"]),
        "total_paid_capital": d.chinese_capital(statement["total_paid_fen"]),
        "total_withheld": d.format_fen(statement["total_withheld_fen"]),
        "previously_settled": d.format_fen(statement["previously_settled_fen"]),
        "paid": payments(statement["paid"]),
        "withheld": payments(statement["withheld"]),
        "platform_name": names.get(OPERATOR, ("", ""))[0],
        "platform_name_en": names.get(OPERATOR, ("", ""))[1],
        "signer_url": platform.settings.public_url.rstrip("/") + SIGNING_CERTIFICATE_PATH,
    }
    rendered = pdf.render_statement(view)
    return document_signer(platform).sign(rendered, reason=f"GoldTicket clearing statement {statement_id}")
