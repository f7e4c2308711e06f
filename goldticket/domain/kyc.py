"""Know your customer at onboarding (#21): who a member is and where it is paid.

- 统一社会信用代码 (unified social credit code, GB 32100-2015): 18 characters with its check
  character, validated by python-stdnum (``stdnum.cn.uscc``).
- The legal representative and the registered address: plain text.
- The settlement account: the account's name must be the member's registered name exactly
  (money is paid only to the member itself), the account number digits (8 to 32), the bank's
  name, and its CNAPS code (大额支付系统行号: 12 digits).

The record is stored off the ledger (the portal's database, visible to the operator and the
member's own users); the ledger keeps its SHA-256 over a canonical JSON form, so anyone the
member shows the record to can check it is the one registered."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from typing import Any

from stdnum.cn import uscc as _uscc
from stdnum.exceptions import ValidationError

from .errors import InvalidInputError, RuleViolationError

FIELDS = (
    "uscc",
    "legal_representative",
    "registered_address",
    "account_name",
    "account_number",
    "bank_name",
    "cnaps_code",
)
_CNAPS = re.compile(r"^[0-9]{12}$")
_ACCOUNT = re.compile(r"^[0-9]{8,32}$")


@dataclasses.dataclass(frozen=True)
class MemberKyc:
    uscc: str
    legal_representative: str
    registered_address: str
    account_name: str
    account_number: str
    bank_name: str
    cnaps_code: str

    def to_dict(self) -> dict[str, str]:
        return dataclasses.asdict(self)

    @property
    def sha256(self) -> str:
        """SHA-256 of the canonical JSON (sorted keys, no spaces, UTF-8): what the ledger keeps."""
        canonical = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()


_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def require_sha256(value: Any, field: str) -> str:
    """64 lowercase hex digits, or InvalidInputError."""
    if not isinstance(value, str) or not _SHA256.match(value):
        raise InvalidInputError(f"{field} must be 64 lowercase hex digits")
    return value


def check_uscc(value: Any) -> str:
    """The code in its compact form (upper case, no spaces); InvalidInputError when not text,
    RuleViolationError when it is not a valid code (length, characters, check character)."""
    if not isinstance(value, str):
        raise InvalidInputError("uscc must be text")
    try:
        return str(_uscc.validate(value))
    except ValidationError as error:  # not a code that exists, however well formed: 422
        raise RuleViolationError(
            f"uscc {value!r} is not a valid unified social credit code: {error}"
        ) from None


def _text(data: dict[str, Any], field: str, limit: int) -> str:
    value = data.get(field)
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise InvalidInputError(f"{field} is text of 1 to {limit} characters")
    if any(ord(char) < 0x20 for char in value):
        raise InvalidInputError(f"{field} may not contain control characters")
    return value.strip()


def check_kyc(data: Any, member_name: str) -> MemberKyc:
    """A member's KYC record from ``data`` (the FIELDS, nothing else), each checked; the
    account's name must equal ``member_name``. Raises InvalidInputError, RuleViolationError."""
    if not isinstance(data, dict):
        raise InvalidInputError("kyc must be an object")
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise InvalidInputError(f"kyc has unknown fields: {', '.join(unknown)}")
    number = re.sub(r"[\s-]", "", str(data.get("account_number") or ""))
    if not _ACCOUNT.match(number):
        raise InvalidInputError("account_number is 8 to 32 digits")
    cnaps = str(data.get("cnaps_code") or "").strip()
    if not _CNAPS.match(cnaps):
        raise InvalidInputError("cnaps_code is the bank's 12-digit CNAPS code (大额支付系统行号)")
    kyc = MemberKyc(
        uscc=check_uscc(data.get("uscc")),
        legal_representative=_text(data, "legal_representative", 64),
        registered_address=_text(data, "registered_address", 256),
        account_name=_text(data, "account_name", 128),
        account_number=number,
        bank_name=_text(data, "bank_name", 128),
        cnaps_code=cnaps,
    )
    if kyc.account_name != member_name.strip():
        raise RuleViolationError(
            f"the settlement account's name ({kyc.account_name}) must be the member's name ({member_name.strip()})"
        )
    return kyc
