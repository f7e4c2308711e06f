"""Typed errors of the gold ticket rules.

Every error carries a stable ``code`` (the same strings the HTTP API uses) and a plain
lowercase sentence. The chaincode sends them to clients as ``"<code>: <sentence>"`` and
the services turn that back into the same type with :func:`error_from_message`.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base class: a request that the rules refuse. Nothing was changed."""

    code = "rule_violation"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def wire(self) -> str:
        """The ``code: message`` form used on the ledger's wire."""
        return f"{self.code}: {self.message}"


class InvalidInputError(DomainError):
    """Malformed input: a zero or negative amount, a bad date, a missing field."""

    code = "invalid_input"


class RuleViolationError(DomainError):
    """Well-formed input that a business rule refuses (over balance, credit exceeded...)."""

    code = "rule_violation"


class StateConflictError(DomainError):
    """The ticket or offer is not in a state that allows the operation."""

    code = "conflict"


class NotFoundError(DomainError):
    """No such ticket, offer, member or identity."""

    code = "not_found"


class ForbiddenError(DomainError):
    """The signer may not do this (wrong member, wrong role, revoked identity)."""

    code = "forbidden"


_BY_CODE: dict[str, type[DomainError]] = {
    cls.code: cls
    for cls in (InvalidInputError, RuleViolationError, StateConflictError, NotFoundError, ForbiddenError)
}


def error_from_message(text: str) -> DomainError | None:
    """Rebuild a typed error from its ``code: message`` wire form, or None if not one."""
    code, sep, message = text.partition(": ")
    cls = _BY_CODE.get(code)
    if not sep or cls is None:
        return None
    return cls(message)
