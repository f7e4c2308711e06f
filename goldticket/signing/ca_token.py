"""A CA key kept in a PKCS#11 token (issue #19: "its CA key, in its own PKCS#11 token, as the
cards are"): every organisation's, in a SoftHSM2 token of its own folder, and the operator's,
in a token of the data directory.

A CA made in software (:meth:`OrgCA.create`) is put into a new token as a sensitive,
never-extractable key (a card's :meth:`put_key`) and forgotten; its record then names the token
and holds no key, and certificates are signed inside the token (:func:`sign_in_token`). A record
made before, its key in the file, is moved into a token the next time it is opened with a module.
The record names the token before the token is made, so a move cut short is finished by the next
open, never leaving a key known nowhere; a token holding another key than the CA certificate's
is refused. The token's PIN is in the record (0600), for the single-machine quick start, as the
document-signing token's is: on a real HSM the organisation makes the key with its own tools.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from .ca import OrgCA
from .cards.pkcs11 import Pkcs11CardFactory, default_module_path
from .errors import CertificateError, SigningError

Record = dict[str, Any]


def ca_token_module(configured: str | None = None) -> str | None:
    """The PKCS#11 module that keeps CA keys: ``configured`` (the settings'
    GOLDTICKET_PKCS11_MODULE) or SoftHSM2 where installed; None (software keys in the record)
    when there is none, or when it is not SoftHSM2 (tokens are made here on SoftHSM2 only)."""
    module = configured or default_module_path()
    return module if module and "softhsm" in module else None


class TokenCAKey:
    """A CA key in a SoftHSM2 token of ``token_dir`` (a card labelled ``serial``): it signs
    digests, and nothing reads it out."""

    def __init__(self, module: str, token_dir: Path, serial: str, pin: str) -> None:
        self._card = Pkcs11CardFactory(module, token_dir=token_dir, session_seconds=0).card(serial)
        self._pin = pin

    def put(self, private_value: int) -> None:
        self._card.put_key(private_value, self._pin)

    def public_key(self) -> ec.EllipticCurvePublicKey:
        return self._card.public_key()

    def exists(self) -> bool:
        return self._card.exists()

    def sign_digest(self, digest: bytes) -> bytes:
        try:
            return self._card.sign_digest(digest, self._pin)
        except SigningError as error:
            raise CertificateError(f"the CA token refused to sign ({type(error).__name__})") from None


def _token_key(token: Record, token_dir: Path) -> TokenCAKey:
    missing = [folder for folder in (token_dir, *token_dir.parents) if not folder.exists()]
    for folder in reversed(missing):  # 0700 whatever the umask
        folder.mkdir(mode=0o700, exist_ok=True)
        folder.chmod(0o700)
    return TokenCAKey(token["module"], token_dir, token["serial"], token["pin"])


def _public_numbers(ca: OrgCA) -> Any:
    public = x509.load_pem_x509_certificate(ca.certificate_pem).public_key()
    if not isinstance(public, ec.EllipticCurvePublicKey):
        raise CertificateError(f"{ca.msp_id}'s CA key is not an EC key")
    return public.public_numbers()


def keep(ca: OrgCA, *, module: str | None, token_dir: Path, save: Callable[[Record], None]) -> OrgCA:
    """Save the record of ``ca`` (a software CA) with ``save``: its key moved into a new token of
    ``token_dir`` when there is a ``module``, else in the record. Returns the CA as kept."""
    record: Record = {"msp_id": ca.msp_id, "certificate_pem": ca.certificate_pem.decode()}
    if module is None:
        save({**record, "private_key_pem": ca.private_key_pem.decode()})
        return ca
    serial = f"ca-{ca.msp_id.lower()}"[:23]
    if _token_key({"module": module, "serial": serial, "pin": ""}, token_dir).exists():
        serial = f"{serial}-{secrets.token_hex(4)}"  # a token left by another CA is never reused
    token = {"module": module, "serial": serial, "pin": secrets.token_hex(16)}
    save({**record, "private_key_pem": ca.private_key_pem.decode(), "token": token})
    key = _token_key(token, token_dir)
    key.put(ca.private_value())
    if key.public_key().public_numbers() != _public_numbers(ca):
        raise CertificateError(f"the token made for {ca.msp_id}'s CA holds another key")
    save({**record, "token": token})
    return ca.in_token(key)


def open_ca(data: Record, *, module: str | None, token_dir: Path, save: Callable[[Record], None]) -> OrgCA:
    """The CA of record ``data``: its key in its token; or in the record, moved into a token now
    when there is a ``module``; a move cut short is finished. Raises CertificateError."""
    pem = data.get("private_key_pem", "").encode()
    ca = OrgCA(data["msp_id"], data["certificate_pem"].encode(), pem)
    token = data.get("token")
    if token is not None and not pem:
        return ca.in_token(_token_key(token, token_dir))
    if token is not None:  # a move into the token cut short
        key = _token_key(token, token_dir)
        try:
            public = key.public_key().public_numbers()
        except SigningError:  # the token was never made: it is made now
            return keep(ca, module=token["module"], token_dir=token_dir, save=save)
        if public != _public_numbers(ca):
            raise CertificateError(f"{ca.msp_id}'s CA token holds another key than its CA's")
        save({k: v for k, v in data.items() if k != "private_key_pem"})
        return ca.in_token(key)
    if module is not None and pem:
        return keep(ca, module=module, token_dir=token_dir, save=save)
    return ca
