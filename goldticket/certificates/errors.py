"""Errors of the certificate pipeline: one base class, raised for a setup the pipeline cannot
use (a missing font, a token that will not sign). A forged or unreadable upload is not an
error: verification answers it with a verdict."""

from __future__ import annotations


class CertificateError(Exception):
    """The certificate pipeline cannot render or sign."""

    code = "signing_failed"
