"""Refusals of the portal's own use cases (accounts and requests). Domain, ledger and signing
errors keep their own types; these add what only the portal knows."""

from __future__ import annotations

from goldticket.domain import DomainError


class UnauthenticatedError(DomainError):
    """No valid credentials: a wrong password, or a token unknown, expired or revoked."""

    code = "unauthenticated"


class RateLimitedError(DomainError):
    """Too many failed logins for this user or client; wait and try again."""

    code = "rate_limited"
