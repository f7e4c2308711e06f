"""The ledger's documents rule (#21): a move records the SHA-256 of its signed document in the
same transaction, or it does not happen.

A ledger's bootstrap states the rule once: ``required`` (every ledger made since the rule) or
``optional`` (a ledger bootstrapped before it, whose history replays as it was, and dev or test
ledgers that measure the ledger's operations alone). The operator may turn an optional ledger's
rule on, never off."""

from __future__ import annotations

from typing import Any

from .errors import InvalidInputError, RuleViolationError, StateConflictError

REQUIRED = "required"
OPTIONAL = "optional"
DOCUMENT_RULES = (REQUIRED, OPTIONAL)
# the request field that carries each document's SHA-256, and what the document is
DOCUMENTS = {
    "commitment_sha256": "the issuer's payment commitment (付款承诺函)",
    "agreement_sha256": "the assignment agreement (债权转让协议)",
    "notice_sha256": "the notice to the debtor (债权转让通知)",
    "assignment_sha256": "the assignment to the bank (应收账款转让)",
}


def document_rule(config: dict[str, Any]) -> str:
    """The rule of a ledger from its bootstrap record: a ledger bootstrapped before the rule
    has none, and is optional."""
    rule = config.get("documents", OPTIONAL)
    return rule if rule in DOCUMENT_RULES else OPTIONAL


def check_document_rule(value: Any, environment: str) -> str:
    """The rule a bootstrap states; a production ledger cannot be made without it."""
    if value not in DOCUMENT_RULES:
        raise InvalidInputError(f"documents must be one of {', '.join(DOCUMENT_RULES)}")
    if value != REQUIRED and environment == "prod":
        raise InvalidInputError("a prod ledger requires the signed documents: documents must be required")
    return str(value)


def require_document_rule_change(config: dict[str, Any]) -> dict[str, Any]:
    """The bootstrap record with the rule turned on; StateConflictError when it already is."""
    if document_rule(config) == REQUIRED:
        raise StateConflictError("the ledger already requires the signed documents")
    return {**config, "documents": REQUIRED}


def require_documents(config: dict[str, Any], **hashes: Any) -> None:
    """Under the rule, RuleViolationError naming each document whose SHA-256 is missing."""
    if document_rule(config) != REQUIRED:
        return
    missing = [field for field, value in hashes.items() if value is None]
    if missing:
        named = " and ".join(f"{DOCUMENTS[field]} ({field})" for field in missing)
        raise RuleViolationError(
            f"the ledger requires the signed documents of each move: {named} missing; "
            "sign the document with your card and record its SHA-256 with the move"
        )
