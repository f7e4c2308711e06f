"""Maker-checker (经办/复核, issue #20): a member's setting that some operations above an amount
need a second user of the same member.

A covered operation over the threshold is not signed alone: the clerk (maker) prepares it, which
records the intent (the function and its JSON request) and its SHA-256 on the ledger and changes
nothing else; a reviewer (checker) of the same member, another user, signs the same intent with
their own card and only then does it run. Pure rules here; the chaincode applies them
(chaincode/dual_control.py).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from typing import Any

from .errors import ForbiddenError, InvalidInputError
from .money import require_fen

# operation name (the setting's word) -> the contract function it covers
OPERATIONS = {
    "issue": "IssueTicket",
    "transfer": "OfferTransfer",
    "approve_financing": "ApproveFinancing",
    "settle": "SettleTicket",
}
FUNCTIONS = {function: operation for operation, function in OPERATIONS.items()}
# A weakening of a setting that is on is itself prepared and approved (#20): one admin alone
# must not switch maker-checker off. What a prepared operation may run: the covered functions
# and the setting.
SETTING_FUNCTION = "SetDualControl"
PREPARED = {**FUNCTIONS, SETTING_FUNCTION: "dual_control"}
# Fields of a prepared request that stay private (#19, #20): a financing approval's rate. The
# maker and the checker send them in the transient map beside the public request, with a random
# salt; the bank's collection keeps them, the operation record only the salted intent hash.
# The terms' own salt (``terms_salt``, goldticket/domain/financing.py) is prepared with the rate:
# the reviewer's approval writes the terms with the salt the maker drew.
PRIVATE = {"ApproveFinancing": ("annual_rate_bp", "terms_salt")}
SALT = "intent_salt"
# Fields the checker, the user whose approval commits the operation, states at approval beside
# the prepared request (#21): documents their own card signs then, which the maker could not have
# signed (a financing approval's countersignature of the holder's assignment: the bank is bound
# when the approval commits, by the card of the user who commits it). Outside the intent's hash;
# a preparation may not carry them.
AT_APPROVAL = {"ApproveFinancing": ("countersigned_assignment_sha256",)}
# how long a prepared operation waits for its reviewer before it can no longer be approved
REVIEW_DAYS = 7
MAX_REVIEWERS = 50


def intent_bytes(function: str, request: dict[str, Any]) -> bytes:
    """The canonical bytes of an intent: sorted compact JSON, UTF-8 (as the chaincode writes)."""
    intent = {"function": function, "request": request}
    return json.dumps(intent, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def intent_sha256(function: str, request: dict[str, Any]) -> str:
    """SHA-256 (hex) of :func:`intent_bytes`: what maker and checker both sign for."""
    return hashlib.sha256(intent_bytes(function, request)).hexdigest()


def salted_intent_sha256(function: str, request: dict[str, Any], salt: str) -> str:
    """SHA-256 (hex) of :func:`intent_bytes` then a newline and the salt: the hash a prepared
    operation with private fields records (without the salt a rate of a few thousand values would
    be found by trying each)."""
    return hashlib.sha256(intent_bytes(function, request) + b"\n" + salt.encode("ascii")).hexdigest()


def require_salt(value: Any) -> str:
    """A salt: 32 to 128 lowercase hex digits; InvalidInputError otherwise."""
    if (
        not isinstance(value, str)
        or not 32 <= len(value) <= 128
        or any(char not in "0123456789abcdef" for char in value)
    ):
        raise InvalidInputError(f"{SALT} must be 32 to 128 lowercase hex digits")
    return value


def approval_part(function: str, fields: dict[str, Any]) -> dict[str, Any]:
    """The fields of ``fields`` that the checker of ``function`` states at approval."""
    return {name: fields[name] for name in AT_APPROVAL.get(function, ()) if name in fields}


def private_part(function: str, fields: dict[str, Any]) -> dict[str, Any]:
    """The fields of ``fields`` that ``function`` keeps private when prepared."""
    return {name: fields[name] for name in PRIVATE.get(function, ()) if name in fields}


@dataclasses.dataclass(frozen=True)
class DualControl:
    """A member's maker-checker setting: the covered ``operations`` (words of OPERATIONS),
    the amount above which they need a reviewer, and the users besides the member's admins who
    may review (user names)."""

    member_id: str
    operations: tuple[str, ...] = ()
    threshold_fen: int = 0
    reviewers: tuple[str, ...] = ()

    @classmethod
    def from_request(cls, member_id: str, req: dict[str, Any]) -> DualControl:
        """Validate a setting as given; raises InvalidInputError."""
        operations = req.get("operations")
        if not isinstance(operations, list) or any(op not in OPERATIONS for op in operations):
            raise InvalidInputError(f"operations must be a list of {', '.join(OPERATIONS)}")
        threshold = require_fen(req.get("threshold_fen"), "threshold_fen", minimum=0)
        reviewers = req.get("reviewers", [])
        if (
            not isinstance(reviewers, list)
            or len(reviewers) > MAX_REVIEWERS
            or any(not isinstance(name, str) or not name.strip() or len(name) > 128 for name in reviewers)
        ):
            raise InvalidInputError(f"reviewers must be a list of at most {MAX_REVIEWERS} user names")
        return cls(member_id, tuple(sorted(set(operations))), threshold, tuple(sorted(set(reviewers))))

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None, member_id: str) -> DualControl:
        if not data:
            return cls(member_id)
        return cls(
            member_id,
            tuple(data.get("operations", ())),
            int(data.get("threshold_fen", 0)),
            tuple(data.get("reviewers", ())),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "member_id": self.member_id,
            "operations": list(self.operations),
            "threshold_fen": self.threshold_fen,
            "reviewers": list(self.reviewers),
        }

    def needs_review(self, function: str, amount_fen: int) -> bool:
        """Whether ``function`` for ``amount_fen`` needs a reviewer under this setting."""
        return FUNCTIONS.get(function) in self.operations and amount_fen > self.threshold_fen

    def weakened_by(self, new: DualControl) -> bool:
        """Whether ``new`` replacing this setting, which is on, lets anything pass with fewer
        eyes: an operation no longer covered, a higher threshold, or a reviewer added (another
        user who may approve). A setting that is off, or a change only adding operations,
        lowering the threshold or removing reviewers, is not: those are signed alone."""
        if not self.operations:
            return False
        return bool(
            set(self.operations) - set(new.operations)
            or new.threshold_fen > self.threshold_fen
            or set(new.reviewers) - set(self.reviewers)
        )

    def may_review(self, user: str, identity_role: str) -> bool:
        """An admin of the member, or a user the setting names."""
        return identity_role == "admin" or user in self.reviewers


def expires_on(prepared_on: dt.date) -> dt.date:
    return prepared_on + dt.timedelta(days=REVIEW_DAYS)


def check_same_intent(
    operation: dict[str, Any], function: Any, request: Any, salt: str | None = None
) -> None:
    """The checker signs exactly the intent the maker prepared (with its private fields and
    salt where it has them); ForbiddenError otherwise."""
    if not isinstance(request, dict) or not isinstance(function, str):
        raise InvalidInputError("an approval states the operation's function and request")
    stated = (
        intent_sha256(function, request) if salt is None else salted_intent_sha256(function, request, salt)
    )
    if stated != operation["intent_sha256"]:
        raise ForbiddenError(
            f"the intent signed differs from operation {operation['id']}'s: a reviewer approves exactly "
            "what was prepared"
        )
