"""The platform's document signer: PAdES signatures (pyHanko) on PDF certificates and clearing
statements, with a key that never leaves its PKCS#11 token, or, with the software card backend
only, a software key.

The key is made once (:func:`open_document_signer`) under ``<data dir>/certificates`` (0700):
in a SoftHSM2 token labelled :data:`TOKEN_LABEL` next to the cards' tokens (generated inside
the token: sensitive, never extractable), its user PIN a random secret in ``signer.json``
(0600), or as a P-256 key in that file. Its certificate comes from the operator's CA, which the
caller passes in; the certificate and the CA are published so that anyone can check a PDF.
"""

from __future__ import annotations

import abc
import asyncio
import concurrent.futures
import fcntl
import io
import json
import os
import secrets
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError as PyhankoSigningError
from pyhanko_certvalidator.registry import SimpleCertificateStore

from .errors import CertificateError

T = TypeVar("T")

TOKEN_LABEL = "GTDOCSIGN"  # the document-signing token (card serials are BS + 16 hex digits)
KEY_LABEL = "goldticket-document-signing"
FIELD_NAME = "GoldTicketPlatform"
COMMON_NAME = "GoldTicket certificate signing"
P256_PARAMETERS = bytes.fromhex("06082a8648ce3d030107")


class DocumentSigner(abc.ABC):
    """Signs a PDF as PAdES B-B with the platform key; ``certificate_pem`` is its certificate,
    ``ca_pem`` the operator CA's."""

    kind: str

    def __init__(self, certificate_pem: bytes, ca_pem: bytes) -> None:
        self.certificate_pem = certificate_pem
        self.ca_pem = ca_pem
        self.certificate = _asn1_certificate(certificate_pem)
        self.ca_certificate = _asn1_certificate(ca_pem)

    @abc.abstractmethod
    def sign(self, pdf: bytes, *, reason: str, location: str = "GoldTicket") -> bytes:
        """The signed PDF. Raises CertificateError when the key cannot sign."""

    def _sign_with(self, signer: signers.Signer, pdf: bytes, reason: str, location: str) -> bytes:
        metadata = signers.PdfSignatureMetadata(
            field_name=FIELD_NAME,
            md_algorithm="sha256",
            subfilter=fields.SigSeedSubFilter.PADES,
            reason=reason,
            location=location,
        )
        output = io.BytesIO()
        try:
            writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
            outside_event_loop(lambda: signers.PdfSigner(metadata, signer).sign_pdf(writer, output=output))
        except (PdfError, PyhankoSigningError) as error:
            raise CertificateError(f"the PDF could not be signed: {error}") from error
        return output.getvalue()


class SoftwareDocumentSigner(DocumentSigner):
    """The software card backend's document signer: the key in a 0600 file."""

    kind = "software"

    def __init__(self, key_pem: bytes, certificate_pem: bytes, ca_pem: bytes) -> None:
        super().__init__(certificate_pem, ca_pem)
        key = serialization.load_pem_private_key(key_pem, password=None)
        der = key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        self._signer = signers.SimpleSigner(
            signing_cert=self.certificate,
            signing_key=asn1_keys.PrivateKeyInfo.load(der),
            cert_registry=SimpleCertificateStore.from_certs([self.ca_certificate]),
        )

    def sign(self, pdf: bytes, *, reason: str, location: str = "GoldTicket") -> bytes:
        return self._sign_with(self._signer, pdf, reason, location)


class Pkcs11DocumentSigner(DocumentSigner):
    """The key in a PKCS#11 token; each signature opens a session under the module's lock
    (the cards share the module, and a refresh closes every session of the process)."""

    kind = "pkcs11"

    def __init__(self, factory: Any, label: str, pin: str, certificate_pem: bytes, ca_pem: bytes) -> None:
        super().__init__(certificate_pem, ca_pem)
        self._factory = factory
        self._label = label
        self._pin = pin

    def sign(self, pdf: bytes, *, reason: str, location: str = "GoldTicket") -> bytes:
        from pkcs11 import exceptions as p11
        from pyhanko.sign.pkcs11 import PKCS11Signer

        module = self._factory._module
        with module.lock:
            token = module.find_token(self._factory.config_path, self._label)
            if token is None:
                raise CertificateError(f"there is no document-signing token labelled {self._label}")
            module.check_room(self._factory.config_path)  # a login rewrites the token's token.object
            try:
                with token.open(user_pin=self._pin) as session:
                    signer = PKCS11Signer(
                        session,
                        key_label=KEY_LABEL,
                        signing_cert=self.certificate,
                        ca_chain=[self.ca_certificate],
                        use_raw_mechanism=True,  # SoftHSM2 refuses CKM_ECDSA_SHA256
                    )
                    return self._sign_with(signer, pdf, reason, location)
            except p11.PKCS11Error as error:
                module.refresh()
                raise CertificateError(
                    f"the document-signing token failed ({type(error).__name__})"
                ) from error


def open_document_signer(directory: Path, ca: Any, factory: Any | None) -> DocumentSigner:
    """The platform's document signer kept in ``directory``, made the first time (by
    ``goldticket init``, or by the first process that needs it on a directory made before): in
    a token of ``factory`` (a Pkcs11CardFactory on SoftHSM2) when given, else a software key.
    ``ca`` is the operator's OrgCA, which certifies the key. Raises CertificateError.

    Threads and processes that ask at once wait on ``directory/.lock`` (flock): one makes it.
    A PKCS#11 signer is recorded before its token is made (state "creating", with the token's
    label and PIN), so that a creation cut short is finished by the next call, reusing the token
    and its key if they were made; a complete record's key is never replaced."""
    directory = Path(directory)
    path = directory / "signer.json"
    with _LOCK:
        record = _read_record(path)
        if record is None or record.get("state") == "creating":
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(directory / ".lock", os.O_WRONLY | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                record = _read_record(path)
                if record is None and factory is None:
                    record = _create_software(ca)
                    _write_private(path, record)
                elif record is None or record.get("state") == "creating":
                    record = _create_pkcs11(path, record, factory, ca)
            finally:
                os.close(fd)
    certificate_pem, ca_pem = record["certificate_pem"].encode(), record["ca_pem"].encode()
    if record["kind"] == "software":
        return SoftwareDocumentSigner(record["key_pem"].encode(), certificate_pem, ca_pem)
    if factory is None:
        raise CertificateError("the document-signing key is in a PKCS#11 token: set a PKCS#11 module")
    return Pkcs11DocumentSigner(factory, record["token_label"], record["pin"], certificate_pem, ca_pem)


_LOCK = threading.Lock()


def _read_record(path: Path) -> dict[str, Any] | None:
    try:
        record: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    return record


def _create_software(ca: Any) -> dict[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    certificate = ca.issue_document_signer(key.public_key(), common_name=COMMON_NAME)
    return {
        "kind": "software",
        "key_pem": key_pem.decode(),
        "certificate_pem": certificate.decode(),
        "ca_pem": ca.certificate_pem.decode(),
    }


def _create_pkcs11(path: Path, record: dict[str, Any] | None, factory: Any, ca: Any) -> dict[str, Any]:
    """Make (or finish making) the document-signing token, its key and certificate; called
    with the directory's flock held. Returns the complete record, written to ``path``."""
    if factory is None:
        raise CertificateError("the document-signing key is in a PKCS#11 token: set a PKCS#11 module")
    if factory.token_dir is None:
        raise CertificateError("the document-signing token is made on SoftHSM2 only; create it on your HSM")
    module = factory._module
    with module.lock:  # every process on the token directory waits for this one (its flock)
        if record is None:
            # A token of this label without a record was made by an older version that failed
            # half-way (its PIN is known nowhere, so it never signed): it is left as it is, and
            # this one gets a label of its own.
            label = TOKEN_LABEL
            if module.find_token(factory.config_path, label, fresh=True) is not None:
                label = f"{TOKEN_LABEL}-{secrets.token_hex(4)}"
            record = {
                "kind": "pkcs11",
                "state": "creating",
                "token_label": label,
                "pin": secrets.token_hex(16),
            }
            _write_private(path, record)
        label, pin = record["token_label"], record["pin"]
        token = module.find_token(factory.config_path, label, fresh=True)
        if token is None:
            so_pin = secrets.token_hex(24)
            result = factory._softhsm_util(
                "--init-token", "--free", "--label", label, answers=f"{so_pin}\n{so_pin}\n{pin}\n{pin}\n"
            )
            module.refresh()
            token = module.find_token(factory.config_path, label)
            if token is None:
                detail = result.stderr.decode("utf-8", "replace").strip()[:200]
                raise CertificateError(f"softhsm2-util could not create the document-signing token: {detail}")
        module.check_room(factory.config_path)
        with token.open(rw=True, user_pin=pin) as session:
            point = _document_key_point(session)
    module.keep()
    public_key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    certificate = ca.issue_document_signer(public_key, common_name=COMMON_NAME)
    complete = {
        "kind": "pkcs11",
        "token_label": label,
        "pin": pin,
        "certificate_pem": certificate.decode(),
        "ca_pem": ca.certificate_pem.decode(),
    }
    _write_private(path, complete)
    return complete


def _document_key_point(session: Any) -> bytes:
    """The X9.62 point of the token's document key, generated (inside the token) if it has none
    yet; one made by a creation cut short is kept."""
    from pkcs11 import Attribute, KeyType, ObjectClass

    publics = list(session.get_objects({Attribute.CLASS: ObjectClass.PUBLIC_KEY, Attribute.LABEL: KEY_LABEL}))
    privates = list(
        session.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY, Attribute.LABEL: KEY_LABEL})
    )
    if len(publics) == 1 and len(privates) == 1:
        public = publics[0]
    else:
        for leftover in publics + privates:  # half a pair: never used, as no record named it complete
            leftover.destroy()
        public, _ = session.generate_keypair(
            KeyType.EC,
            store=True,
            label=KEY_LABEL,
            public_template={
                Attribute.EC_PARAMS: P256_PARAMETERS,
                Attribute.TOKEN: True,
                Attribute.VERIFY: True,
            },
            private_template={
                Attribute.TOKEN: True,
                Attribute.PRIVATE: True,
                Attribute.SENSITIVE: True,
                Attribute.EXTRACTABLE: False,
                Attribute.SIGN: True,
                Attribute.DERIVE: False,
            },
        )
    point = bytes(public[Attribute.EC_POINT])
    if len(point) == 67 and point[:2] == b"\x04\x41":
        point = point[2:]
    return point


def _asn1_certificate(pem: bytes) -> asn1_x509.Certificate:
    der = x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)
    return asn1_x509.Certificate.load(der)


def _write_private(path: Path, record: dict[str, str]) -> None:
    temporary = path.with_name(path.name + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(record, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)


def outside_event_loop(call: Callable[[], T]) -> T:
    """``call()``, in a thread of its own when this thread already runs an event loop: pyHanko's
    signing runs ``asyncio.run``, which refuses to start inside a running loop (a caller such as
    Playwright's sync API in the browser tests)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return call()
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call).result()
