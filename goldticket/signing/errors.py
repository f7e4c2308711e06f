"""Errors of signing, cards and the signing gateway. Each carries the stable code the HTTP API
uses (see shared/API.md): ``wrong_pin`` 403, ``card_locked`` 423, ``card_revoked`` 423, ..."""

from __future__ import annotations


class SigningError(Exception):
    """A signature could not be made."""

    code = "signing_failed"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class CertificateError(SigningError):
    """A certificate could not be issued or read."""

    code = "invalid_input"


class WrongPinError(SigningError):
    """The PIN (payment password) was wrong. ``tries_left`` before the card locks."""

    code = "wrong_pin"

    def __init__(self, message: str, tries_left: int | None = None) -> None:
        super().__init__(message)
        self.tries_left = tries_left


class CardLockedError(SigningError):
    """Too many wrong PINs: the card signs nothing until the operator desk unlocks it."""

    code = "card_locked"


class CardRevokedError(SigningError):
    """The card is suspended (reported lost) or eliminated."""

    code = "card_revoked"


class CardNotFoundError(SigningError):
    code = "not_found"


class CardStateError(SigningError):
    """The card is not in a state that allows this life-cycle step."""

    code = "conflict"


class BackupError(SigningError):
    """A seed backup could not be opened: a wrong password or a damaged record."""

    code = "forbidden"


class RefusedError(SigningError):
    """The gateway refuses to sign: the message is not what the intent says."""

    code = "forbidden"


class GatewayUnavailableError(SigningError):
    """The signing gateway could not be reached."""

    code = "gateway_unavailable"


class UnauthenticatedError(SigningError):
    """The caller of the gateway did not prove who it is."""

    code = "unauthenticated"


class AuditLogError(SigningError):
    """The audit log cannot be appended to (damaged last line): nothing is signed."""

    code = "audit_failed"
