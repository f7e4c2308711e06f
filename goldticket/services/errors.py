"""Refusals of the portal's own use cases (accounts and requests). Domain, ledger and signing
errors keep their own types; these add what only the portal knows."""

from __future__ import annotations

from goldticket.domain import DomainError


class UnauthenticatedError(DomainError):
    """No valid credentials: a wrong password, or a token unknown, expired or revoked.
    ``tries_left``: after a wrong password, how many more may be tried before a delay."""

    code = "unauthenticated"

    def __init__(self, message: str, tries_left: int | None = None) -> None:
        super().__init__(message)
        self.tries_left = tries_left


class RateLimitedError(DomainError):
    """Too many failed logins for this user or client; wait ``retry_after`` seconds."""

    code = "rate_limited"

    def __init__(self, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class DownloadLimitError(RateLimitedError):
    """Too many certificates downloaded this hour by this user (the API's ``rate_limited``)."""
