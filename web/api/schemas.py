"""Request bodies and queries of API v1. The same classes validate requests (strictly: an
amount is a JSON integer of fen, never a float or a string; a date is YYYY-MM-DD) and give the
OpenAPI document its schemas."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictInt, StrictStr

from goldticket.domain.money import MAX_FEN

Fen = Annotated[StrictInt, Field(ge=1, le=MAX_FEN, description="integer fen (1 fen = 0.01 CNY)")]
Pin = Annotated[StrictStr, Field(pattern=r"^[0-9]{6,12}$", description="the signer's card PIN")]
Id = Annotated[StrictStr, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
Text = Annotated[StrictStr, Field(min_length=1, max_length=500)]
RateBp = Annotated[StrictInt, Field(ge=0, le=100_000, description="annual rate in basis points")]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Signed(Body):
    pin: Pin


class Login(Body):
    username: Annotated[StrictStr, Field(min_length=1, max_length=64)]
    password: Annotated[StrictStr, Field(min_length=1, max_length=256)]


DeskPin = Annotated[
    StrictStr, Field(pattern=r"^[0-9]{6,12}$", description="the acting operator admin's own card PIN")
]


class DeskBody(Body):
    """Every operator desk action: the admin proves it with their own card's PIN."""

    desk_pin: DeskPin


class NewOrg(DeskBody):
    name: Annotated[StrictStr, Field(min_length=1, max_length=128)]
    role: Literal["core", "supplier", "bank"]
    id: Id | None = None
    name_en: Annotated[StrictStr, Field(max_length=128)] = ""
    day_basis: Literal[360, 365] = 360
    fee_bp: Annotated[StrictInt, Field(ge=0, le=10_000)] = 0


class NewUser(DeskBody):
    """The desk never chooses a password: the answer carries a one-time activation code."""

    org_id: Id
    username: Annotated[StrictStr, Field(pattern=r"^[a-z0-9][a-z0-9_.-]{1,63}$")]
    role: Literal["admin", "clerk"] = "clerk"


class NewCard(DeskBody):
    """The desk never chooses a PIN: the card waits for its user's (POST /me/cards/{id}/pin)."""

    user_id: Id


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
    core_org_id: Id
    limit_fen: Fen


class InvoiceIn(Body):
    number: Annotated[StrictStr, Field(min_length=1, max_length=64)]
    amount_fen: Fen
    sha256: Annotated[StrictStr, Field(pattern=r"^[0-9a-f]{64}$")]


class NewTicket(Signed):
    payee_org_id: Id
    amount_fen: Fen
    maturity_date: dt.date
    invoices: Annotated[list[InvoiceIn], Field(min_length=1, max_length=100)]


class WithReason(Signed):
    reason: Text


class NewTransfer(Signed):
    to_org_id: Id
    amount_fen: Fen


class NewFinancing(Signed):
    bank_org_id: Id
    amount_fen: Fen


class Approval(Signed):
    annual_rate_bp: RateBp
    value_date: dt.date


class Paging(BaseModel):
    model_config = ConfigDict(extra="forbid")
    page: Annotated[int, Field(ge=1, le=1_000_000)] = 1
    per_page: Annotated[int, Field(ge=1, le=500)] = 50


class TicketQuery(Paging):
    holder_org_id: Id | None = None
    status: Annotated[str, Field(max_length=32)] | None = None
    root_id: Id | None = None


class CreditQuery(Paging):
    core_org_id: Id | None = None


def _whole(value: object) -> object:
    """A query string's "360" as the number a Literal compares with."""
    return int(value) if isinstance(value, str) and value.isdigit() else value


class QuoteQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount_fen: Annotated[int, Field(ge=1, le=MAX_FEN)]
    annual_rate_bp: Annotated[int, Field(ge=0, le=100_000)]
    value_date: dt.date
    maturity_date: dt.date
    day_basis: Annotated[Literal[360, 365], BeforeValidator(_whole)] = 360
    fee_bp: Annotated[int, Field(ge=0, le=10_000)] = 0
