"""A use case run as a proposal before its signer types the PIN (issue #20 point 3): the same
service function, on a platform whose ``submit`` rehearses the transaction through the
chaincode (its own rules on the current state: maturity range, credit line, invoices, value
date...) and stops there. Nothing is signed, endorsed or written; a refusal comes back as the
typed error the real submission would raise, so the confirmation page can show it first."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .context import Actor
from .platform import Platform
from .portal import Portal


class _Rehearsed(Exception):
    """The use case reached its transaction and the chaincode accepted it."""


class _RehearsalPlatform:
    """The platform, except that a write is rehearsed, never signed or submitted; the documents
    it carries (services.signed_documents) are rendered, not signed or kept (no PIN try)."""

    rehearsing = True

    def __init__(self, platform: Platform) -> None:
        self._platform = platform

    def __getattr__(self, name: str) -> Any:
        return getattr(self._platform, name)

    def submit(self, actor: Actor, function: str, request: dict[str, Any], *, pin: str) -> Any:
        self._platform.rehearse(actor, function, request)
        raise _Rehearsed(function)


class _RehearsalPortal:
    def __init__(self, portal: Portal) -> None:
        self._portal = portal
        self.platform = _RehearsalPlatform(portal.platform)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._portal, name)


def rehearse(portal: Portal, use_case: Callable[[Portal], Any]) -> None:
    """Run ``use_case`` (one ledger write, called with a stand-in portal) as far as its
    transaction, which the chaincode runs unsigned. Raises what the services or the chaincode
    refuse; returns None when the write would be accepted as things stand."""
    try:
        use_case(_RehearsalPortal(portal))  # type: ignore[arg-type]
    except _Rehearsed:
        return
