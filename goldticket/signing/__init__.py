"""Signers (software now; BSIM cards behind the same interface) and organisation CAs."""

from .ca import ATTRIBUTES_OID, OrgCA, new_member_key
from .errors import CertificateError, SigningError
from .interfaces import Signer
from .software import SoftwareSigner

__all__ = [
    "ATTRIBUTES_OID",
    "OrgCA",
    "new_member_key",
    "CertificateError",
    "SigningError",
    "Signer",
    "SoftwareSigner",
]
