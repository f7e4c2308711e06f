"""The OpenAPI 3.1 document, generated from the declared operations and their pydantic
schemas: the classes that validate a request are the ones described."""

from __future__ import annotations

import re
from typing import Any

import pydantic

import goldticket
from goldticket.domain.financing import MAX_RATE_BP
from goldticket.services.inbox import KINDS
from goldticket.services.signed_documents import REASON_CODES

from ..errors import STATUS
from ._endpoint import OPERATIONS, Operation
from .schemas import PATH_IDS

PREFIX = "/api/v1"
ERROR = {
    "type": "object",
    "required": ["error", "message"],
    "additionalProperties": False,
    "properties": {"error": {"type": "string", "enum": sorted(STATUS)}, "message": {"type": "string"}},
}
# What each error status means (API.md, Conventions); an operation lists the ones it can give.
ERRORS = {
    400: "invalid_input: a query, a body or an HTTP request this operation does not take",
    401: "unauthenticated: no token, or one expired or revoked (a login: a wrong password or code)",
    403: "forbidden: not for the caller's role or member; wrong_pin: the card refused the PIN",
    404: "not_found: an id in the path or the body names nothing the caller may see",
    409: "conflict: the state changed, or was already used; an Idempotency-Key reused with another"
    " body, or its first request still in progress",
    413: "payload_too_large: the body is over the server's limit",
    414: "uri_too_long: the request line is over the server's limit",
    415: "unsupported_media_type: the body is not of the media type this operation takes",
    422: "rule_violation: a rule between the fields or against the ledger's state",
    423: "card_locked or card_revoked: the caller's card signs nothing",
    429: "rate_limited: too many wrong passwords, or over the card's signature rate (Retry-After)",
    431: "headers_too_large: a header, or the number of headers, is over the server's limit",
    502: "signing_failed: the card did not sign",
    503: "gateway_unavailable, ledger_error or audit_failed: nothing was written; retry after"
    " Retry-After seconds",
    507: "insufficient_storage: the server's disk is full; nothing was written; retry after"
    " Retry-After seconds",
}
# A ticket object (API.md, Conventions: "at least" these fields).
TICKET = {
    "type": "object",
    "required": [
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
    ],
    "properties": {
        "id": {"type": "string", "pattern": PATH_IDS["ticket_id"]},
        "root_id": {"type": "string", "pattern": PATH_IDS["root_id"]},
        "parent_id": {"anyOf": [{"type": "string", "pattern": PATH_IDS["ticket_id"]}, {"type": "null"}]},
        "issuer_org_id": {"type": "string"},
        "holder_org_id": {"type": "string"},
        "amount_fen": {"type": "integer", "minimum": 1},
        "issue_date": {"type": "string", "format": "date"},
        "maturity_date": {"type": "string", "format": "date"},
        "status": {"type": "string"},
        "invoices": {"type": "array", "items": {"type": "object"}},
        "tx_id": {"type": "string"},
        "offer_id": {"type": "string", "pattern": PATH_IDS["offer_id"]},
        "application_id": {"type": "string", "pattern": PATH_IDS["application_id"]},
        "term_reason": {"type": "string", "minLength": 1, "maxLength": 500},
        "grace_days": {"type": "integer", "minimum": 0, "maximum": 30},
    },
}
_TICKET = {"$ref": "#/components/schemas/Ticket"}
_PIECE = {"anyOf": [_TICKET, {"type": "null"}]}
_SESSION = {
    "type": "object",
    "required": ["token", "expires_at"],
    "properties": {
        "token": {"type": "string", "minLength": 1},
        "expires_at": {"type": "string", "format": "date-time"},
    },
}
_CARD = {
    "type": "object",
    "required": ["card_id", "status"],
    "properties": {
        "card_id": {"type": "string", "pattern": PATH_IDS["card_id"]},
        "serial": {"type": "string"},
        "username": {"type": "string"},
        "status": {
            "enum": [
                "awaiting_pin",
                "awaiting_recovery",
                "pending_approval",
                "active",
                "suspended",
                "replaced",
                "eliminated",
            ]
        },
        # null until its user set the PIN (the key and certificate are made then), or once eliminated
        "certificate_pem": {
            "anyOf": [{"type": "string", "pattern": "^-----BEGIN CERTIFICATE-----"}, {"type": "null"}]
        },
        "replaces": {"type": "string", "pattern": PATH_IDS["card_id"]},
        "recovery": {"type": "object"},
    },
}
_ME = {
    "type": "object",
    "required": ["username", "org_id", "role", "cards"],
    "properties": {
        "username": {"type": "string"},
        "org_id": {"type": "string"},
        "role": {"type": "string"},
        "cards": {"type": "array", "items": _CARD},
    },
}
_LINE = {
    "type": "object",
    "required": ["id", "bank_org_id", "core_org_id", "limit_fen", "used_fen", "status"],
    "properties": {
        "id": {"type": "string", "pattern": PATH_IDS["line_id"]},
        "bank_org_id": {"type": "string"},
        "core_org_id": {"type": "string"},
        "limit_fen": {"type": "integer", "minimum": 1},
        "used_fen": {"type": "integer", "minimum": 0},
        "status": {"type": "string"},
    },
}
_ORG = {
    "type": "object",
    "required": ["id", "name", "role", "msp_id"],
    "properties": {
        "id": {"type": "string"},
        "name": {"type": "string"},
        "name_en": {"type": "string"},
        "role": {"enum": ["operator", "core", "supplier", "bank"]},
        "msp_id": {"type": "string"},
    },
}
_VERDICT = {  # POST /certificates/verify (a bank checks a PDF)
    "type": "object",
    "required": ["verdict", "ticket_id", "reasons", "current"],
    "properties": {
        "verdict": {"enum": ["valid", "stale", "forged"]},
        "ticket_id": {"anyOf": [{"type": "string", "pattern": PATH_IDS["ticket_id"]}, {"type": "null"}]},
        "reasons": {"type": "array", "items": {"type": "string"}},
        "current": _PIECE,
    },
}
_PUBLIC_VERDICT = {  # GET /verify/{id}: genuine or not, valid or stale, the status; nothing else
    "type": "object",
    "required": ["verdict", "genuine", "reasons"],
    "properties": {
        "verdict": {"enum": ["valid", "stale", "forged"]},
        "genuine": {"type": "boolean"},
        "reasons": {"type": "array", "items": {"type": "string"}},
        "certificate_id": {"type": "string"},
    },
}
_DOCUMENT_VERDICT = {  # POST .../verify of a document signed by members' cards (#21)
    "type": "object",
    "required": ["verdict", "reason_code", "reason", "sha256", "recorded_sha256", "kind"],
    "properties": {
        "verdict": {"enum": ["valid", "forged"]},
        # why forged, stable for machines ("" when valid); reason is the same in English words
        "reason_code": {"enum": ["", *REASON_CODES]},
        "reason": {"type": "string"},
        "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        "recorded_sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        "kind": {"type": "string"},
    },
}


_FIGURE = {  # a count of pieces and their amount
    "type": "object",
    "required": ["count", "amount_fen"],
    "properties": {
        "count": {"type": "integer", "minimum": 0},
        "amount_fen": {"type": "integer", "minimum": 0},
    },
}
_DUE = {
    "type": "object",
    "required": ["week", "month", "overdue"],
    "properties": {"week": _FIGURE, "month": _FIGURE, "overdue": _FIGURE},
}
_FINANCED = {
    "type": "object",
    "required": ["count", "amount_fen", "proceeds_fen", "interest_fen", "fee_fen", "cost_fen"],
    "properties": {
        key: {"type": "integer", "minimum": 0}
        for key in ("count", "amount_fen", "proceeds_fen", "interest_fen", "fee_fen", "cost_fen")
    },
}
_HOLDER_PROPERTIES: dict[str, Any] = {
    "held": _FIGURE,
    "available_to_finance": _FIGURE,
    "to_accept": _FIGURE,
    "due": _DUE,
    "financed": _FINANCED,
}
_HOLDER_FIGURES = {"type": "object", "required": list(_HOLDER_PROPERTIES), "properties": _HOLDER_PROPERTIES}
_DASHBOARD = {  # GET /dashboard: the fields of the caller's role (services/dashboards.py)
    "type": "object",
    "required": ["role", "today"],
    "properties": {
        "role": {"enum": ["operator", "core", "supplier", "bank"]},
        "today": {"type": "string", "format": "date"},
        **_HOLDER_PROPERTIES,
        "holder": _HOLDER_FIGURES,
        "owed": _FIGURE,
        "waiting_acceptance": _FIGURE,
        "credit_lines": {
            "type": "array",
            "items": {"type": "object", "required": ["id", "limit_fen", "used_fen"]},
        },
        "portfolio": _FIGURE,
        "exposure": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["core_org_id", "held_fen", "limit_fen", "used_fen"],
                "properties": {
                    "core_org_id": {"type": "string"},
                    "held_fen": {"type": "integer", "minimum": 0},
                    "limit_fen": {"type": "integer", "minimum": 0},
                    "used_fen": {"type": "integer", "minimum": 0},
                },
            },
        },
        "live": _FIGURE,
        "states": {"type": "object", "additionalProperties": _FIGURE},
        "members": {"type": "integer", "minimum": 0},
    },
}

_COUNT = {"type": "integer", "minimum": 0}
_TODO = {  # GET /todo (services/worklists.py todo_counts)
    "type": "object",
    "required": [
        "tickets_to_accept",
        "offers_to_accept",
        "applications_to_review",
        "operations_to_review",
        "pieces_due_soon",
        "due_by",
    ],
    "properties": {
        "tickets_to_accept": _COUNT,
        "offers_to_accept": _COUNT,
        "applications_to_review": _COUNT,
        "operations_to_review": _COUNT,
        "pieces_due_soon": _COUNT,
        "due_by": {"type": "string", "format": "date"},
    },
}
_NOTIFICATION = {  # services/inbox.py; kinds in goldticket/store/notices.py
    "type": "object",
    "required": ["id", "kind", "ticket_id", "amount_fen", "tx_id", "timestamp", "read", "read_at"],
    "properties": {
        "id": {"type": "string", "pattern": PATH_IDS["notification_id"]},
        "kind": {"enum": list(KINDS)},
        # null for a notice of no ticket (account_changed: a counterparty's settlement account)
        "ticket_id": {"anyOf": [{"type": "string", "pattern": PATH_IDS["ticket_id"]}, {"type": "null"}]},
        "subject_id": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "other_org_id": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "amount_fen": {"anyOf": [{"type": "integer", "minimum": 1}, {"type": "null"}]},
        "tx_id": {"type": "string"},
        "timestamp": {"type": "string", "format": "date-time"},
        "read": {"type": "boolean"},
        "read_at": {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]},
    },
}

_NULLABLE_TEXT = {"anyOf": [{"type": "string"}, {"type": "null"}]}
_NOTIFY_SETTINGS = {  # services/notify/preferences.py; the secret only once (PUT, POST .../webhook-secret)
    "type": "object",
    "required": [
        "member_id",
        "language",
        "email_to",
        "email_kinds",
        "webhook_url",
        "webhook_kinds",
        "webhook_secret_set",
    ],
    "properties": {
        "member_id": {"type": "string"},
        "language": {"enum": ["zh", "en"]},
        "email_to": {"type": "array", "items": {"type": "string"}},
        "email_kinds": {"type": "array", "items": {"enum": list(KINDS)}},
        "webhook_url": _NULLABLE_TEXT,
        "webhook_kinds": {"type": "array", "items": {"enum": list(KINDS)}},
        "webhook_secret_set": {"type": "boolean"},
        "webhook_secret": {
            "type": "string",
            "description": "answered once: when the webhook is first set, or rotated",
        },
        "updated_by": _NULLABLE_TEXT,
        "updated_at": {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]},
    },
}
_DELIVERY = {
    "type": "object",
    "required": ["id", "notification_id", "channel", "state", "attempts"],
    "properties": {
        "id": {"type": "string", "pattern": r"^DL[0-9a-f]{32}$"},
        "notification_id": {"type": "string", "pattern": PATH_IDS["notification_id"]},
        "channel": {"enum": ["email", "webhook"]},
        "state": {"enum": ["pending", "delivered", "failed", "cancelled"]},
        "attempts": {"type": "integer", "minimum": 0},
        "last_error": _NULLABLE_TEXT,
        "created_at": {"type": "string", "format": "date-time"},
        "next_attempt_at": {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]},
        "delivered_at": {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]},
    },
}


def _page(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["items", "total"],
        "properties": {"items": {"type": "array", "items": item}, "total": {"type": "integer", "minimum": 0}},
    }


# Overdue and recourse (#21): the overdue record of a piece and a demand for payment.
_OVERDUE = {
    "type": "object",
    "required": [
        "ticket_id",
        "root_id",
        "holder_org_id",
        "issuer_org_id",
        "unpaid_fen",
        "marked_on",
        "status",
    ],
    "properties": {
        "ticket_id": {"type": "string", "pattern": PATH_IDS["ticket_id"]},
        "root_id": {"type": "string", "pattern": PATH_IDS["root_id"]},
        "unpaid_fen": {"type": "integer", "minimum": 1},
        "recovered_fen": {"type": "integer", "minimum": 0},
        "grace_days": {"type": "integer", "minimum": 0, "maximum": 30},
        "marked_on": {"type": "string", "format": "date"},
        "status": {"const": "OVERDUE"},
    },
}
_DEMAND = {
    "type": "object",
    "required": [
        "demand_id",
        "ticket_id",
        "obligor_org_id",
        "basis",
        "amount_fen",
        "document_sha256",
        "status",
    ],
    "properties": {
        "demand_id": {"type": "string", "pattern": PATH_IDS["demand_id"]},
        "ticket_id": {"type": "string", "pattern": PATH_IDS["ticket_id"]},
        "basis": {"enum": ["issuer", "recourse"]},
        "amount_fen": {"type": "integer", "minimum": 1},
        "document_sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        "status": {"enum": ["OPEN", "PAID", "WRITTEN_OFF"]},
    },
}

# Registration of a financing (中登网, #21).
_REGISTRATION = {
    "type": "object",
    "required": [
        "registration_id",
        "application_id",
        "registration_number",
        "registry",
        "registered_on",
        "expires_on",
        "filing_sha256",
        "invoice_numbers",
        "status",
    ],
    "properties": {
        "registration_id": {"type": "string", "pattern": "^RG[0-9a-f]{20}$"},
        "application_id": {"type": "string", "pattern": PATH_IDS["application_id"]},
        "registered_on": {"type": "string", "format": "date"},
        "expires_on": {"type": "string", "format": "date"},
        "filing_sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        "invoice_numbers": {"type": "array", "items": {"type": "string"}},
        "amends": {"type": ["string", "null"]},
        "amended_by": {"type": ["string", "null"]},
        "status": {"enum": ["current", "pending", "expired", "amended"]},
    },
}

# The body of a success where it is more than "a JSON object" (API.md, Tickets).
RESULTS: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/financing/<application_id>/registration"): _REGISTRATION,
    ("GET", "/financing/<application_id>/registrations"): {
        "type": "object",
        "required": ["application_id", "items", "current"],
        "properties": {
            "items": {"type": "array", "items": _REGISTRATION},
            "current": {"type": ["string", "null"]},
        },
    },
    ("POST", "/tickets/<ticket_id>/overdue"): _OVERDUE,
    ("POST", "/tickets/<ticket_id>/demands"): _DEMAND,
    ("POST", "/tickets/<ticket_id>/demands/<demand_id>/close"): _DEMAND,
    ("GET", "/overdue"): {
        "type": "object",
        "required": ["items", "total"],
        "properties": {
            "items": {"type": "array", "items": {**_OVERDUE, "required": [*_OVERDUE["required"], "demands"]}},
            "total": {"type": "integer", "minimum": 0},
        },
    },
    ("GET", "/tickets/<ticket_id>/overdue"): {
        "type": "object",
        "required": [
            "ticket_id",
            "overdue",
            "demands",
            "unpaid_fen",
            "grace_days",
            "overdue_from",
            "obligors",
        ],
        "properties": {
            "overdue": {"anyOf": [_OVERDUE, {"type": "null"}]},
            "demands": {"type": "array", "items": _DEMAND},
            "unpaid_fen": {"type": "integer", "minimum": 0},
            "overdue_from": {"type": "string", "format": "date"},
            "obligors": {"type": "object", "additionalProperties": {"enum": ["issuer", "recourse"]}},
        },
    },
    ("POST", "/tickets"): _TICKET,
    ("POST", "/tickets/<ticket_id>/accept"): _TICKET,
    ("POST", "/tickets/<ticket_id>/reject"): _TICKET,
    ("POST", "/tickets/<ticket_id>/cancel"): _TICKET,
    ("POST", "/tickets/<ticket_id>/freeze"): _TICKET,
    ("POST", "/tickets/<ticket_id>/unfreeze"): _TICKET,
    ("GET", "/tickets/<ticket_id>"): _TICKET,
    ("GET", "/tickets"): {
        "type": "object",
        "required": ["items", "total"],
        "properties": {
            "items": {"type": "array", "items": _TICKET},
            "total": {"type": "integer", "minimum": 0},
        },
    },
    ("POST", "/tickets/<ticket_id>/transfers"): {
        "type": "object",
        "required": ["offer_id", "ticket"],
        "properties": {"offer_id": {"type": "string", "pattern": PATH_IDS["offer_id"]}, "ticket": _TICKET},
    },
    ("POST", "/tickets/<ticket_id>/financing"): {
        "type": "object",
        "required": ["application_id", "ticket"],
        "properties": {
            "application_id": {"type": "string", "pattern": PATH_IDS["application_id"]},
            "ticket": _TICKET,
        },
    },
    ("POST", "/offers/<offer_id>/accept"): {
        "type": "object",
        "required": ["transferred", "remainder"],
        "properties": {"transferred": _TICKET, "remainder": _PIECE},
    },
    ("GET", "/financing/<application_id>/terms"): {
        "type": "object",
        "required": [
            "annual_rate_bp",
            "value_date",
            "days",
            "discount_interest_fen",
            "fee_fen",
            "proceeds_fen",
            "sha256",
        ],
        "properties": {
            "annual_rate_bp": {"type": "integer", "minimum": 0, "maximum": MAX_RATE_BP},
            "value_date": {"type": "string", "format": "date"},
            "days": {"type": "integer", "minimum": 1},
            "discount_interest_fen": {"type": "integer", "minimum": 0},
            "fee_fen": {"type": "integer", "minimum": 0},
            "proceeds_fen": {"type": "integer", "minimum": 0},
            # the random salt kept with the private terms (absent: approved before it was drawn)
            "salt": {"type": "string", "pattern": "^[0-9a-f]{32,128}$"},
            # the SHA-256 the channel records of the private terms (null: approved before #19)
            "sha256": {"anyOf": [{"type": "string", "pattern": "^[0-9a-f]{64}$"}, {"type": "null"}]},
        },
    },
    ("POST", "/financing/<application_id>/approve"): {
        "type": "object",
        "required": ["discount_interest_fen", "fee_fen", "proceeds_fen", "days", "financed", "remainder"],
        "properties": {
            "discount_interest_fen": {"type": "integer", "minimum": 0},
            "fee_fen": {"type": "integer", "minimum": 0},
            "proceeds_fen": {"type": "integer", "minimum": 0},
            "days": {"type": "integer", "minimum": 1},
            "financed": _TICKET,
            "remainder": _PIECE,
        },
    },
    ("POST", "/tickets/<ticket_id>/settle"): {
        "type": "object",
        "required": ["statement_id", "paid", "withheld", "total_paid_fen"],
        "properties": {
            "statement_id": {"type": "string", "pattern": PATH_IDS["statement_id"]},
            "paid": {"type": "array", "items": {"type": "object"}},
            "withheld": {"type": "array", "items": {"type": "object"}},
            "total_paid_fen": {"type": "integer", "minimum": 0},
        },
    },
    ("GET", "/tickets/<ticket_id>/history"): {
        "type": "array",
        "items": {"type": "object", "required": ["tx_id", "action", "timestamp"]},
    },
    ("GET", "/tickets/<ticket_id>/lineage"): {
        "type": "object",
        "required": ["ticket", "children"],
        "properties": {"ticket": _TICKET, "children": {"type": "array", "items": {"type": "object"}}},
    },
    ("POST", "/offers/<offer_id>/reject"): _TICKET,
    ("POST", "/offers/<offer_id>/cancel"): _TICKET,
    ("POST", "/financing/<application_id>/reject"): _TICKET,
    ("POST", "/auth/token"): _SESSION,
    ("POST", "/auth/activate"): _SESSION,
    ("DELETE", "/auth/token"): {
        "type": "object",
        "required": ["revoked"],
        "properties": {"revoked": {"type": "boolean"}},
    },
    ("GET", "/auth/me"): _ME,
    ("GET", "/me"): _ME,
    ("POST", "/me/password"): {
        "type": "object",
        "required": ["changed", "username"],
        "properties": {"changed": {"const": True}, "username": {"type": "string"}},
    },
    ("POST", "/me/cards/<card_id>/pin"): _CARD,
    ("POST", "/me/cards/<card_id>/recover"): _CARD,
    ("POST", "/cards"): _CARD,
    ("POST", "/cards/<card_id>/approve"): _CARD,
    ("POST", "/cards/<card_id>/recovery-approvals"): _CARD,
    ("POST", "/cards/<card_id>/report-lost"): _CARD,
    ("POST", "/cards/<card_id>/unlock"): _CARD,
    ("POST", "/cards/<card_id>/replace"): _CARD,
    ("DELETE", "/cards/<card_id>"): _CARD,
    ("POST", "/credit-lines"): _LINE,
    ("POST", "/credit-lines/<line_id>/accept"): _LINE,
    ("POST", "/credit-lines/<line_id>/decline"): _LINE,
    ("GET", "/credit-lines"): _page(_LINE),
    ("GET", "/dashboard"): _DASHBOARD,
    ("GET", "/todo"): _TODO,
    ("GET", "/notifications"): {
        "type": "object",
        "required": ["items", "total", "unread"],
        "properties": {
            "items": {"type": "array", "items": _NOTIFICATION},
            "total": _COUNT,
            "unread": _COUNT,
        },
    },
    ("POST", "/notifications/<notification_id>/read"): _NOTIFICATION,
    ("GET", "/orgs/<org_id>/notification-settings"): _NOTIFY_SETTINGS,
    ("PUT", "/orgs/<org_id>/notification-settings"): _NOTIFY_SETTINGS,
    ("POST", "/orgs/<org_id>/notification-settings/webhook-secret"): _NOTIFY_SETTINGS,
    ("GET", "/orgs/<org_id>/deliveries"): {
        "type": "object",
        "required": ["items"],
        "properties": {"items": {"type": "array", "items": _DELIVERY}},
    },
    ("POST", "/orgs"): _ORG,
    ("PATCH", "/orgs/<org_id>"): _ORG,
    ("GET", "/orgs/<org_id>/kyc"): {
        "type": "object",
        "required": ["member_id", "kyc", "kyc_sha256"],
        "properties": {
            "member_id": {"type": "string"},
            "kyc": {"type": "object", "required": ["uscc", "account_name", "account_number", "cnaps_code"]},
            "kyc_sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        },
    },
    ("POST", "/users/<username>/disable"): {
        "type": "object",
        "required": ["username", "login"],
        "properties": {"username": {"type": "string"}, "login": {"const": "disabled"}},
    },
    ("POST", "/users/<username>/reset-password"): {
        "type": "object",
        "required": ["id", "username", "activation_code", "expires_at"],
        "properties": {
            "id": {"type": "string"},
            "username": {"type": "string"},
            "activation_code": {"type": "string", "minLength": 1},
            "expires_at": {"type": "string", "format": "date-time"},
        },
    },
    ("GET", "/orgs"): _page(_ORG),
    ("POST", "/users"): {
        "type": "object",
        "required": ["id", "username", "org_id", "role", "activation_code", "expires_at"],
        "properties": {
            "id": {"type": "string"},
            "username": {"type": "string"},
            "org_id": {"type": "string"},
            "role": {"type": "string"},
            "activation_code": {"type": "string", "minLength": 1},
            "expires_at": {"type": "string", "format": "date-time"},
        },
    },
    ("GET", "/quote"): {
        "type": "object",
        "required": ["amount_fen", "days", "discount_interest_fen", "fee_fen", "proceeds_fen"],
        "properties": {
            "amount_fen": {"type": "integer", "minimum": 1},
            "days": {"type": "integer", "minimum": 1},
            "discount_interest_fen": {"type": "integer", "minimum": 0},
            "fee_fen": {"type": "integer", "minimum": 0},
            "proceeds_fen": {"type": "integer", "minimum": 0},
            # interest and fee over the proceeds, per 365-day year (null when nothing is paid out)
            "annualised_cost_bp": {"anyOf": [{"type": "integer", "minimum": 0}, {"type": "null"}]},
        },
    },
    ("GET", "/healthz"): {
        "type": "object",
        "required": ["status"],
        "properties": {
            "status": {"type": "string"},
            "ledger": {"type": "string"},
            "height": {"type": "integer"},
        },
    },
    ("GET", "/openapi.json"): {"type": "object", "required": ["openapi", "paths", "components"]},
    ("GET", "/verify/<certificate_id>"): _PUBLIC_VERDICT,
    ("POST", "/certificates/verify"): _VERDICT,
    ("POST", "/tickets/<ticket_id>/commitment/verify"): _DOCUMENT_VERDICT,
    ("POST", "/offers/<offer_id>/agreement/verify"): _DOCUMENT_VERDICT,
    ("POST", "/offers/<offer_id>/notice/verify"): _DOCUMENT_VERDICT,
    ("POST", "/applications/<application_id>/assignment/verify"): _DOCUMENT_VERDICT,
}


BINARY = {"type": "string", "format": "binary"}
UPLOAD = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {"type": "object", "required": ["file"], "properties": {"file": BINARY}},
            "encoding": {"file": {"contentType": "application/pdf"}},
        },
        "application/pdf": {"schema": BINARY},
    },
}


def _form(model: type[pydantic.BaseModel], file_field: str, components: dict[str, Any]) -> dict[str, Any]:
    """A JSON body's model as multipart/form-data: ``file_field`` the file ``file``, the other
    fields form fields of the same schema."""
    schema = _schema(model, components)
    if "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    properties = {name: value for name, value in schema.get("properties", {}).items() if name != file_field}
    required = [name for name in schema.get("required", []) if name != file_field]
    return {
        "schema": {
            "type": "object",
            "additionalProperties": False,
            "required": ["file", *required],
            "properties": {"file": BINARY, **properties},
        },
        "encoding": {"file": {"contentType": "application/xml, text/xml, application/octet-stream"}},
    }


# Operations whose answer names something other operations take in their path: OpenAPI links
# (a client, or schemathesis's stateful phase, follows them with the ids the server made).
PRODUCES: dict[tuple[str, str], dict[str, str]] = {
    ("POST", "/tickets"): {"ticket_id": "/id"},
    ("POST", "/tickets/<ticket_id>/transfers"): {"offer_id": "/offer_id", "ticket_id": "/ticket/id"},
    ("POST", "/offers/<offer_id>/accept"): {"ticket_id": "/transferred/id"},
    ("POST", "/tickets/<ticket_id>/financing"): {
        "application_id": "/application_id",
        "ticket_id": "/ticket/id",
    },
    ("POST", "/credit-lines"): {"line_id": "/id"},
    ("POST", "/cards"): {"card_id": "/card_id"},
}


def _operation_id(op: Operation) -> str:
    return f"{op.method.lower()}_{re.sub(r'[^a-z0-9]+', '_', _path(op.rule).lower()).strip('_')}"


def _links(op: Operation) -> dict[str, Any]:
    made = PRODUCES.get((op.method, op.rule), {})
    links = {}
    for target in OPERATIONS if made else []:
        names = re.findall(r"<(?:[a-z]+:)?([a-z_]+)>", target.rule)
        if names and all(name in made for name in names):
            links[_operation_id(target)] = {
                "operationId": _operation_id(target),
                "parameters": {name: f"$response.body#{made[name]}" for name in names},
            }
    return links


def _success(op: Operation, produces: str) -> dict[str, Any]:
    """The schema of a success body: a JSON object (of the shape RESULTS gives), a PDF's or a
    spreadsheet's bytes, or text (PEM, CSV)."""
    if produces == "application/json":
        return RESULTS.get((op.method, op.rule), {"type": "object"})
    return {"type": "string"} if produces.startswith(("text/", "application/x-pem")) else BINARY


# Reads that write on the ledger with the caller's card (a certificate's SHA-256 is recorded).
SIGNING_READS = {("GET", "/tickets/<ticket_id>/certificate")}


def _signed(op: Operation) -> bool:
    """A write on the ledger, or a call that proves a PIN on the caller's card."""
    fields = op.body.model_fields if op.body is not None else {}
    return op.idempotent or "pin" in fields or "desk_pin" in fields or (op.method, op.rule) in SIGNING_READS


def error_statuses(op: Operation) -> list[int]:
    """Every error status the operation can answer (docs/decisions.md: schemathesis)."""
    codes = {400, 414, 431}  # anything gunicorn or the schemas refuse
    if op.auth:
        codes |= {401, 403, 404}
    if "<" in op.rule:
        codes.add(404)
    if op.body is not None or op.upload:
        codes |= {413, 415}
    if op.rule.startswith("/auth/") or op.rule == "/me/password":
        codes |= {401, 429, 507}  # wrong passwords or codes, counted; a token or hash written
    if op.upload or op.rule in (
        "/quote",
        "/me/password",
        "/tickets",
        "/tickets/export",
    ):  # rules between fields
        codes.add(422)
    if op.rule.endswith("/webhook-secret"):
        codes.add(409)  # no webhook set to rotate the secret of
    if op.method == "PUT" and op.rule.endswith("/notification-settings"):
        codes.add(422)  # kinds with nowhere to go; a webhook URL the platform does not post to
    if _signed(op):
        codes |= {403, 409, 422, 423, 429, 502, 503, 507}
    return sorted(codes)


# Operations a member's maker-checker setting may turn into a prepared operation (#20): 202
# ``{"status": "PENDING_REVIEW", "operation"}``, nothing else changed until a reviewer approves.
REVIEWED = {
    ("POST", "/tickets"),
    ("POST", "/tickets/<ticket_id>/transfers"),
    ("POST", "/financing/<application_id>/approve"),
    ("POST", "/tickets/<ticket_id>/settle"),
    ("PUT", "/me/dual-control"),  # a weakening of the setting while it is on
}
PENDING_REVIEW = {
    "type": "object",
    "required": ["status", "operation"],
    "properties": {
        "status": {"const": "PENDING_REVIEW"},
        "operation": {
            "type": "object",
            "required": ["id", "function", "request", "intent_sha256", "status", "maker", "expires_on"],
        },
    },
}


def _responses(op: Operation) -> dict[str, Any]:
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    responses: dict[str, Any] = {
        str(op.status): {
            "description": "done",
            # an operation answering in one of several formats names them separated by commas
            "content": {kind: {"schema": _success(op, kind)} for kind in op.produces.split(",")},
        }
    }
    links = _links(op)
    if links:
        responses[str(op.status)]["links"] = links
    if (op.method, op.rule) in REVIEWED:
        responses["202"] = {
            "description": "prepared for a reviewer of the member (maker-checker): nothing else changed",
            "content": {"application/json": {"schema": PENDING_REVIEW}},
        }
    for code in error_statuses(op):
        responses[str(code)] = {"description": ERRORS[code], "content": error}
    return responses


def _path_schema(name: str) -> dict[str, Any]:
    """A path parameter: the shape of the ids the ledger and the card registry make (every id
    in a path has one; the server answers 404 for any other)."""
    return {"type": "string", "pattern": PATH_IDS[name]}


def _present(prop: dict[str, Any]) -> dict[str, Any]:
    """A query parameter's schema: present with a value, or absent (a query string has no
    null), so pydantic's ``X | None = None`` is described as X."""
    shown = {key: value for key, value in prop.items() if key not in ("title", "description")}
    choices = shown.pop("anyOf", None)
    if choices is not None:
        kept = [choice for choice in choices if choice != {"type": "null"}]
        shown = {**(kept[0] if len(kept) == 1 else {"anyOf": kept}), **shown}
    if shown.get("default", "") is None:
        del shown["default"]
    return shown


def _path(rule: str) -> str:
    return PREFIX + re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)


def _schema(model: type[pydantic.BaseModel], components: dict[str, Any]) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(schema.pop("$defs", {}))
    components[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def document() -> dict[str, Any]:
    components: dict[str, Any] = {"Error": ERROR, "Ticket": TICKET}
    paths: dict[str, Any] = {}
    for op in OPERATIONS:
        path = _path(op.rule)
        operation: dict[str, Any] = {
            "summary": op.summary,
            "tags": [op.tag],
            "operationId": _operation_id(op),
            "responses": _responses(op),
        }
        parameters = [
            {"name": name, "in": "path", "required": True, "schema": _path_schema(name)}
            for name in re.findall(r"{([a-z_]+)}", path)
        ]
        if op.query is not None:
            query_schema = op.query.model_json_schema()
            required = set(query_schema.get("required", []))
            for name, prop in query_schema["properties"].items():
                parameter = {
                    "name": name,
                    "in": "query",
                    "required": name in required,
                    "schema": _present(prop),
                }
                if "description" in prop:
                    parameter["description"] = prop["description"]
                parameters.append(parameter)
            if query_schema.get("description"):
                operation["description"] = query_schema["description"]
        if op.idempotent:
            parameters.append(
                {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": False,
                    "schema": {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": 128,
                        "pattern": "^[\\x20-\\x7e]+$",
                    },
                    "description": "a retry with the same key and body returns the first result"
                    " (after its PIN is proved again on the caller's card)",
                }
            )
        if parameters:
            operation["parameters"] = parameters
        if op.body is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": _schema(op.body, components)}},
            }
        if op.body is not None and op.file_field is not None:
            operation["requestBody"]["content"]["multipart/form-data"] = _form(
                op.body, op.file_field, components
            )
        if op.upload:
            operation["requestBody"] = UPLOAD
        if op.auth:
            operation["security"] = [{"bearer": []}]
        paths.setdefault(path, {})[op.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "GoldTicket API", "version": goldticket.__version__},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
