"""Errors of signing and identities."""


class SigningError(Exception):
    """A signature could not be made."""

    code = "signing_failed"


class CertificateError(SigningError):
    """A certificate could not be issued or read."""

    code = "invalid_input"
