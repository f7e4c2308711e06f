"""Request bodies and queries of API v1. The same classes validate requests (strictly: an
amount is a JSON integer of fen, never a float or a string; a date is YYYY-MM-DD) and give the
OpenAPI document its schemas."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    model_validator,
)

from goldticket.domain.financing import MAX_RATE_BP
from goldticket.domain.money import MAX_FEN
from goldticket.domain.recourse import MAX_GRACE_DAYS
from goldticket.services.notify import preferences as notify_preferences

Fen = Annotated[StrictInt, Field(ge=1, le=MAX_FEN, description="integer fen (1 fen = 0.01 CNY)")]
Pin = Annotated[StrictStr, Field(pattern=r"^[0-9]{6,12}$", description="the signer's card PIN")]
Id = Annotated[StrictStr, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
# The domain's rule for text (goldticket.domain.ticket.require_text): no control character, and
# something besides white space (what str.strip() removes).
VISIBLE = r"^[^\x00-\x1f]*[^\x00-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00-\x1f]*$"
Text = Annotated[StrictStr, Field(min_length=1, max_length=500, pattern=VISIBLE)]
# The domain's one rate limit (goldticket.domain.financing.MAX_RATE_BP), in every schema.
RateBp = Annotated[
    StrictInt, Field(ge=0, le=MAX_RATE_BP, description=f"annual rate in basis points (0 to {MAX_RATE_BP})")
]
# Ids the ledger makes: a prefix and 20 hex digits of a hash of the transaction
# (chaincode/state.py derive_id); cards and certificates have ids of their own shape.
PATH_IDS = {
    "ticket_id": r"^TK[0-9a-f]{20}$",
    "root_id": r"^TK[0-9a-f]{20}$",
    "offer_id": r"^OF[0-9a-f]{20}$",
    "application_id": r"^FA[0-9a-f]{20}$",
    "statement_id": r"^ST[0-9a-f]{20}$",
    "demand_id": r"^DM[0-9a-f]{20}$",
    "certificate_id": r"^CT[0-9A-F]{20}$",
    "card_id": r"^BS[0-9A-F]{16}$",
    "line_id": r"^CL[0-9a-f]{20}$",
    "notification_id": r"^NT[0-9a-f]{20}$",
    "operation_id": r"^OP[0-9a-f]{20}$",
    "change_id": r"^AC[0-9a-f]{20}$",
    "org_id": r"^[A-Za-z0-9_.-]{1,64}$",
    "username": r"^[a-z0-9][a-z0-9_.-]{1,63}$",
}
# Every status a stored ticket can have: TicketStatus (OVERDUE is shown, never stored, so never
# filtered on). Spelled out for the type checker; a test keeps it equal to the enum.
Status = Literal[
    "PENDING_ACCEPTANCE",
    "ACTIVE",
    "LOCKED_TRANSFER",
    "LOCKED_FINANCING",
    "SPLIT",
    "FINANCED",
    "SETTLED",
    "REJECTED",
    "CANCELLED",
    "FROZEN",
]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Signed(Body):
    pin: Pin


class BankStatementImport(Signed):
    """The issuer's bank statement (ISO 20022 camt.053.001.08 XML, as the bank sent it) or its
    debit notification (camt.054.001.08)."""

    statement_xml: Annotated[StrictStr, Field(min_length=1, max_length=240_000)]


class Login(Body):
    username: Annotated[StrictStr, Field(min_length=1, max_length=64)]
    password: Annotated[StrictStr, Field(min_length=1, max_length=256)]


DeskPin = Annotated[
    StrictStr, Field(pattern=r"^[0-9]{6,12}$", description="the acting operator admin's own card PIN")
]


class DeskBody(Body):
    """Every operator desk action: the admin proves it with their own card's PIN."""

    desk_pin: DeskPin


class Kyc(Body):
    """A member's KYC record: the 统一社会信用代码 with its check character, the legal
    representative and address, the settlement account in the member's own name."""

    uscc: Annotated[StrictStr, Field(pattern=r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$")]
    legal_representative: Annotated[StrictStr, Field(min_length=1, max_length=64, pattern=VISIBLE)]
    registered_address: Annotated[StrictStr, Field(min_length=1, max_length=256, pattern=VISIBLE)]
    account_name: Annotated[StrictStr, Field(min_length=1, max_length=128, pattern=VISIBLE)]
    account_number: Annotated[StrictStr, Field(pattern=r"^[0-9]{8,32}$")]
    bank_name: Annotated[StrictStr, Field(min_length=1, max_length=128, pattern=VISIBLE)]
    cnaps_code: Annotated[StrictStr, Field(pattern=r"^[0-9]{12}$")]


class SettlementAccount(Body):
    """A settlement account: in the member's own name, its number, bank and CNAPS code."""

    account_name: Annotated[StrictStr, Field(min_length=1, max_length=128, pattern=VISIBLE)]
    account_number: Annotated[StrictStr, Field(pattern=r"^[0-9]{8,32}$")]
    bank_name: Annotated[StrictStr, Field(min_length=1, max_length=128, pattern=VISIBLE)]
    cnaps_code: Annotated[StrictStr, Field(pattern=r"^[0-9]{12}$")]


class AccountChangeRequest(Signed):
    """A member's admin asks to change its settlement account (#21): its own card signs."""

    account: SettlementAccount


class AccountChangeReject(Body):
    """The operator declines (``desk_pin``) or the member's admin withdraws (``pin``) a change."""

    pin: Pin | None = None
    desk_pin: DeskPin | None = None
    reason: Annotated[StrictStr, Field(max_length=500)] = ""


class AccountChangeQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Literal["PENDING", "CONFIRMED", "REJECTED"] | None = None


class NewOrg(DeskBody):
    name: Annotated[StrictStr, Field(min_length=1, max_length=128, pattern=VISIBLE)]
    role: Literal["core", "supplier", "bank"]
    id: Id | None = None
    name_en: Annotated[StrictStr, Field(max_length=128)] = ""
    day_basis: Literal[360, 365] = 360
    fee_bp: Annotated[StrictInt, Field(ge=0, le=10_000)] = 0
    kyc: Kyc | None = Field(None, description="who the member is and where it is paid (#21)")
    msp_id: Annotated[StrictStr, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9.-]+$")] | None = (
        Field(
            None,
            description="a bank or core enterprise with its own node (#19): its organisation's MSP id, "
            "trusted by the platform first (goldticket member trust-org); default: the role's",
        )
    )


class OrgChange(DeskBody):
    """The desk corrects a member's details: only the fields given change (a bank's day basis
    and fee; any member's names). Its id, role and MSP never change."""

    # at least one field to change, not null (null means "not given")
    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "anyOf": [
                {"required": [name], "properties": {name: {"not": {"type": "null"}}}}
                for name in ("name", "name_en", "day_basis", "fee_bp")
            ]
        },
    )

    name: Annotated[StrictStr, Field(min_length=1, max_length=128, pattern=VISIBLE)] | None = None
    name_en: Annotated[StrictStr, Field(max_length=128)] | None = None
    day_basis: Literal[360, 365] | None = None
    fee_bp: Annotated[StrictInt, Field(ge=0, le=10_000)] | None = None

    @model_validator(mode="after")
    def _something_to_change(self) -> OrgChange:
        if self.name is None and self.name_en is None and self.day_basis is None and self.fee_bp is None:
            raise ValueError("give at least one of name, name_en, day_basis, fee_bp")
        return self


# A user's name (goldticket.services.directory): also the user_id of the desk's calls.
Username = Annotated[StrictStr, Field(pattern=r"^[a-z0-9][a-z0-9_.-]{1,63}$")]


class NewUser(DeskBody):
    """The desk never chooses a password: the answer carries a one-time activation code."""

    org_id: Id
    username: Username
    role: Literal["admin", "clerk"] = "clerk"


class NewCard(DeskBody):
    """The desk never chooses a PIN: the card waits for its user's (POST /me/cards/{id}/pin)."""

    user_id: Username


class ReplaceCard(DeskBody):
    operator_password: Annotated[StrictStr, Field(min_length=1, max_length=256)]


Password = Annotated[StrictStr, Field(min_length=10, max_length=256)]


class Activation(Body):
    username: Annotated[StrictStr, Field(min_length=1, max_length=64)]
    activation_code: Annotated[StrictStr, Field(min_length=1, max_length=64)]
    password: Password


class PasswordChange(Body):
    old_password: Annotated[StrictStr, Field(min_length=1, max_length=256)]
    new_password: Password


class CardPin(Body):
    """The first time ``new_pin`` only; afterwards ``old_pin`` too."""

    new_pin: Pin
    old_pin: Pin | None = None


class Empty(Body):
    pass


class NewCreditLine(Signed):
    """A bank offers a core enterprise a credit line; it is drawn once the core accepts it."""

    core_org_id: Id
    limit_fen: Fen


class InvoiceIn(Body):
    number: Annotated[StrictStr, Field(min_length=1, max_length=64, pattern=VISIBLE)]
    amount_fen: Fen
    sha256: Annotated[StrictStr, Field(pattern=r"^[0-9a-f]{64}$")]


class NewTicket(Signed):
    payee_org_id: Id
    amount_fen: Fen
    maturity_date: dt.date
    invoices: Annotated[list[InvoiceIn], Field(min_length=1, max_length=100)]
    credit_line_id: Id | None = Field(
        None, description="the core's active credit line to draw on (default: the first with room)"
    )
    term_reason: Text | None = Field(
        None, description="why the term is over six months: required then, recorded with the ticket"
    )
    grace_days: Annotated[StrictInt, Field(ge=0, le=MAX_GRACE_DAYS)] | None = Field(
        None, description="days after maturity before an unpaid piece may be marked overdue (default 3)"
    )


class WithReason(Signed):
    reason: Text


class NewTransfer(Signed):
    to_org_id: Id
    amount_fen: Fen


class NewFinancing(Signed):
    bank_org_id: Id
    amount_fen: Fen
    max_annual_rate_bp: Annotated[
        StrictInt,
        Field(ge=0, le=MAX_RATE_BP, description="the highest annual rate the holder accepts, basis points"),
    ]
    recourse: StrictBool | None = Field(
        None, description="true: with recourse (有追索); false: without (无追索); absent: without"
    )


class NewDemand(Signed):
    """A demand for payment (追索) of an overdue piece, by its holder."""

    obligor_org_id: Id
    amount_fen: Fen | None = Field(None, description="default: all that is unpaid")


class DemandClose(Signed):
    outcome: Literal["paid", "written_off"]
    payment_reference: Annotated[StrictStr, Field(min_length=1, max_length=64, pattern=VISIBLE)] | None = (
        Field(
            None, description="with outcome paid: the holder confirms the obligor paid, with this reference"
        )
    )


class Registration(Signed):
    """The registration (中登网) the bank obtained for a financing application (#21)."""

    registration_number: Annotated[StrictStr, Field(min_length=1, max_length=64, pattern=VISIBLE)]
    registered_at: dt.date | None = Field(None, description="the date registered (default: today)")
    expires_on: dt.date | None = Field(None, description="the registration's expiry (default: a year on)")
    registry: Annotated[StrictStr, Field(min_length=1, max_length=100, pattern=VISIBLE)] | None = Field(
        None, description="default 中登网"
    )
    filing_sha256: Annotated[StrictStr, Field(pattern=r"^[0-9a-f]{64}$")] | None = Field(
        None,
        description="the SHA-256 of the filing's JSON the bank filed (checked against the filing prepared)",
    )
    amends: Annotated[StrictStr, Field(pattern=r"^RG[0-9a-f]{20}$")] | None = Field(
        None, description="the registration this one amends (replaces)"
    )


class RegistrationSearch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    invoice: Annotated[StrictStr, Field(min_length=1, max_length=64, pattern=VISIBLE)]


class Approval(Signed):
    annual_rate_bp: RateBp
    value_date: dt.date


class Paging(BaseModel):
    model_config = ConfigDict(extra="forbid")
    page: Annotated[int, Field(ge=1, le=1_000_000)] = 1
    per_page: Annotated[int, Field(ge=1, le=500)] = 50


YUAN = r"^[0-9]{1,13}(\.[0-9]{1,2})?$"
"""An amount a clerk types, in yuan with at most two decimals: kept as fen on the server."""


def _iso_date(value: object) -> object:
    """A query's date as YYYY-MM-DD only (not a number of seconds, which pydantic would take)."""
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        raise ValueError("a date is YYYY-MM-DD")
    return value


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date), Field(description="YYYY-MM-DD, inclusive")]


class TicketFind(BaseModel):
    """Find in the tickets the caller may see. Also: a range whose start is after its end (of
    maturity_from/maturity_to, of amount_min/amount_max) answers 422 rule_violation: a rule
    between fields, which JSON Schema cannot say."""

    model_config = ConfigDict(extra="forbid")
    holder_org_id: Id | None = None
    status: Status | None = None
    root_id: Annotated[StrictStr, Field(pattern=PATH_IDS["root_id"])] | None = None
    q: (
        Annotated[
            StrictStr,
            Field(
                min_length=1,
                max_length=100,
                pattern=VISIBLE,
                description="Any part of the ticket id, an invoice number or a counterparty's name or id",
            ),
        ]
        | None
    ) = None
    maturity_from: IsoDate | None = None
    maturity_to: IsoDate | None = None
    amount_min: (
        Annotated[StrictStr, Field(pattern=YUAN, description="yuan, inclusive, e.g. 1000.50")] | None
    ) = None
    amount_max: (
        Annotated[StrictStr, Field(pattern=YUAN, description="yuan, inclusive, e.g. 1000.50")] | None
    ) = None
    sort: Literal["id", "maturity_date", "amount_fen", "status"] = "id"
    order: Literal["asc", "desc"] = "asc"


class TicketQuery(TicketFind, Paging):
    pass


class TicketExportQuery(TicketFind):
    format: Literal["csv", "xlsx"] = "csv"
    lang: Literal["zh", "en"] = "zh"


class StatementExportQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    format: Literal["csv", "xlsx"] = "csv"
    lang: Literal["zh", "en"] = "zh"


class PaymentFileQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    format: Literal["xml", "csv", "xlsx"] = Field(
        "xml",
        description="xml: the ISO 20022 pain.001.001.09 file for the bank; csv or xlsx: the same transfers",
    )
    lang: Literal["zh", "en"] = "zh"


class NotificationQuery(Paging):
    unread: bool = Field(False, description="only the notifications none of the member's users has read")


class CreditQuery(Paging):
    core_org_id: Id | None = None


def _whole(value: object) -> object:
    """A query string's "360" as the number a Literal compares with."""
    return int(value) if isinstance(value, str) and value.isdigit() else value


class QuoteQuery(BaseModel):
    """Also: the value date must be before the maturity date, and interest plus fee must not
    exceed the amount (422 rule_violation): rules between fields, which JSON Schema cannot say."""

    model_config = ConfigDict(extra="forbid")
    amount_fen: Annotated[int, Field(ge=1, le=MAX_FEN)]
    annual_rate_bp: Annotated[int, Field(ge=0, le=MAX_RATE_BP)]
    value_date: Annotated[dt.date, Field(description="YYYY-MM-DD, before maturity_date")]
    maturity_date: Annotated[dt.date, Field(description="YYYY-MM-DD, after value_date")]
    day_basis: Annotated[Literal[360, 365], BeforeValidator(_whole)] = 360
    fee_bp: Annotated[int, Field(ge=0, le=10_000)] = 0


NoticeKind = Literal[
    "ticket_issued",
    "ticket_accepted",
    "ticket_rejected",
    "ticket_cancelled",
    "ticket_settled",
    "ticket_frozen",
    "ticket_unfrozen",
    "offer_received",
    "offer_accepted",
    "offer_rejected",
    "offer_withdrawn",
    "financing_requested",
    "financing_approved",
    "financing_rejected",
    "account_changed",
]


class NotifySettings(Body):
    """A member's delivery preferences (#20), replaced whole: the kinds of notice sent to its
    e-mail addresses and to its webhook. A webhook set for the first time answers its signing
    secret, once (``webhook_secret``)."""

    language: Literal["zh", "en"] = "zh"
    email_to: Annotated[
        list[Annotated[StrictStr, Field(min_length=3, max_length=254, pattern=notify_preferences.ADDRESS)]],
        Field(max_length=5),
    ] = []
    email_kinds: Annotated[list[NoticeKind], Field(max_length=14)] = []
    webhook_url: Annotated[StrictStr, Field(max_length=500, pattern=notify_preferences.URL)] | None = None
    webhook_kinds: Annotated[list[NoticeKind], Field(max_length=14)] = []


class DualControlSetting(Signed):
    """A member's maker-checker setting (#20): the covered operations, the amount above which
    they need a reviewer, and the users besides the member's admins who may review."""

    operations: list[Literal["issue", "transfer", "approve_financing", "settle"]] = Field(max_length=4)
    threshold_fen: Annotated[StrictInt, Field(ge=0, le=MAX_FEN, description="integer fen")]
    reviewers: list[Annotated[StrictStr, Field(pattern=PATH_IDS["username"])]] = Field(
        default_factory=list, max_length=50
    )


class OperationQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Literal["PENDING", "APPROVED", "REJECTED", "TO_REVIEW"] | None = Field(
        None, description="TO_REVIEW: pending ones the caller may review (another user's, not expired)"
    )
