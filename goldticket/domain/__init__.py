"""Every gold ticket rule as pure functions and values: no I/O, no clock (dates come in)."""

from .bank_payments import BankEntry, apply_bank_entries, reconciliation
from .certificate import check_certifiable, check_certificate_id, state_sha256
from .credit import CreditLine, choose_credit_line, offer_credit_line
from .errors import (
    DomainError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
    RuleViolationError,
    StateConflictError,
    error_from_message,
)
from .financing import (
    MAX_RATE_BP,
    DiscountQuote,
    FinancingApplication,
    apply_financing,
    approve_financing,
    check_rate_bound,
    format_rate,
    quote_discount,
    reject_financing,
    require_rate_bp,
)
from .invoices import allocate_invoices, check_same_invoice
from .kyc import MemberKyc, check_kyc, check_uscc, require_sha256
from .lifecycle import (
    accept_ticket,
    cancel_ticket,
    freeze_ticket,
    issue_ticket,
    reject_ticket,
    split_ticket,
    unfreeze_ticket,
)
from .money import AMOUNT_FORMS, chinese_capital, format_fen, parse_amount, parse_yuan, require_fen
from .settlement import Payment, SettlementPlan, plan_settlement, settle_piece
from .status import LIVE, OVERDUE, TERMINAL, TicketStatus, display_status
from .terms import DEFAULT_MAX_TERM_MONTHS, add_months, check_term
from .ticket import Invoice, Ticket, normalise_invoice_number, parse_date, require_text
from .transfer import Offer, accept_offer, close_offer, offer_transfer

__all__ = [
    "MemberKyc",
    "check_kyc",
    "check_uscc",
    "require_sha256",
    "check_certifiable",
    "check_certificate_id",
    "state_sha256",
    "CreditLine",
    "choose_credit_line",
    "offer_credit_line",
    "DomainError",
    "ForbiddenError",
    "InvalidInputError",
    "NotFoundError",
    "RuleViolationError",
    "StateConflictError",
    "error_from_message",
    "MAX_RATE_BP",
    "check_rate_bound",
    "format_rate",
    "require_rate_bp",
    "DiscountQuote",
    "FinancingApplication",
    "apply_financing",
    "approve_financing",
    "quote_discount",
    "reject_financing",
    "allocate_invoices",
    "check_same_invoice",
    "accept_ticket",
    "cancel_ticket",
    "freeze_ticket",
    "issue_ticket",
    "reject_ticket",
    "split_ticket",
    "unfreeze_ticket",
    "chinese_capital",
    "parse_amount",
    "AMOUNT_FORMS",
    "format_fen",
    "parse_yuan",
    "require_fen",
    "Payment",
    "SettlementPlan",
    "plan_settlement",
    "BankEntry",
    "apply_bank_entries",
    "reconciliation",
    "settle_piece",
    "LIVE",
    "OVERDUE",
    "TERMINAL",
    "TicketStatus",
    "display_status",
    "DEFAULT_MAX_TERM_MONTHS",
    "add_months",
    "check_term",
    "Invoice",
    "Ticket",
    "parse_date",
    "require_text",
    "normalise_invoice_number",
    "Offer",
    "accept_offer",
    "close_offer",
    "offer_transfer",
]
