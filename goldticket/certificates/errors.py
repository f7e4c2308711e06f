"""Errors of the certificate pipeline, raised for a setup it cannot use (WeasyPrint's libraries
missing, a token that will not sign). A signing failure like any other (code
``signing_failed``), so the CLI and the API report it as they report a card's. A forged or
unreadable upload is not an error: verification answers it with a verdict."""

from __future__ import annotations

from goldticket.signing.errors import SigningError


class DocumentSigningError(SigningError):
    """The certificate pipeline cannot render or sign."""

    code = "signing_failed"


CertificateError = DocumentSigningError
