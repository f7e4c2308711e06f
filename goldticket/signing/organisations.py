"""An organisation's own folder: where its CA key lives, outside the platform's data directory.

Each organisation of the consortium (a core enterprise, a bank, the ordering organisation) keeps
its CA in a folder of its own, 0700, made by its own command (``network.py org init``, or for
the single-machine quick start by ``goldticket init`` and ``make network-up`` on its behalf)::

    <folder>/org.json      MSP id, name and nodes (public)
    <folder>/ca/ca.json    the CA certificate, and where its key is (0600)
    <folder>/ca/softhsm/   the organisation's own PKCS#11 token (SoftHSM2) holding the CA key
    <folder>/msp/          CA and TLS CA certificates, NodeOUs config (public)
    <folder>/nodes/<name>/ and <folder>/admin/   node and admin identities (fabric-network)

The platform's data directory keeps only the public CA certificate of such an organisation
(:meth:`goldticket.signing.keystore.KeyStore.save_trusted`). When a card of one of the
organisation's users is certified, :class:`OrganisationFolder` is the file-based issuing
adapter: the organisation's CA signs from its own folder. A real deployment replaces it with the
organisation's own issuing service (its CA behind its own door, a CSR in and a certificate out;
docs/decisions.md); the platform never stores the key either way.

Where a PKCS#11 module is installed (SoftHSM2), the CA key lives in the organisation's own token
under its folder, as a card's key does: generated, put into the token as a sensitive,
never-extractable key and forgotten; certificates are signed inside the token. A folder made
before (its key in ca.json) moves its key into a token the next time it is opened with a module,
and ca.json keeps no key from then on. The token's PIN is in ca.json (0600) for the single-machine
quick start, as the document-signing token's is; an organisation on a real HSM keeps it there.
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from .ca import OrgCA
from .ca_token import keep, open_ca
from .errors import CertificateError
from .keystore import KeyStore

NODE_OUS_CONFIG = """NodeOUs:
  Enable: true
  ClientOUIdentifier:
    Certificate: cacerts/ca.pem
    OrganizationalUnitIdentifier: client
  PeerOUIdentifier:
    Certificate: cacerts/ca.pem
    OrganizationalUnitIdentifier: peer
  AdminOUIdentifier:
    Certificate: cacerts/ca.pem
    OrganizationalUnitIdentifier: admin
  OrdererOUIdentifier:
    Certificate: cacerts/ca.pem
    OrganizationalUnitIdentifier: orderer
"""


def make_folders(folder: Path) -> None:
    """Make ``folder`` and its missing parents 0700 whatever the umask."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for made in reversed(missing):
        made.mkdir(mode=0o700, exist_ok=True)
        made.chmod(0o700)


def write_file(path: Path, data: bytes, *, private: bool = False) -> None:
    """Write ``data`` atomically, 0600 when ``private`` (else 0644), in 0700 folders."""
    make_folders(path.parent)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def write_msp(msp_dir: Path, ca: OrgCA) -> None:
    """A Fabric MSP folder of ``ca``: CA and TLS CA certificates and the NodeOUs config."""
    write_file(msp_dir / "cacerts" / "ca.pem", ca.certificate_pem)
    write_file(msp_dir / "tlscacerts" / "ca.pem", ca.certificate_pem)
    write_file(msp_dir / "config.yaml", NODE_OUS_CONFIG.encode())


class OrganisationFolder:
    """One organisation's folder (see the module's docstring). ``pkcs11_module``: the module
    its CA key is kept in (:func:`ca_token_module`), None for a software key in ca.json."""

    def __init__(self, path: Path, pkcs11_module: str | None = None) -> None:
        self.path = Path(path)
        self.pkcs11_module = pkcs11_module

    @property
    def ca_file(self) -> Path:
        return self.path / "ca" / "ca.json"

    @property
    def token_dir(self) -> Path:
        return self.path / "ca" / "softhsm" / "tokens"

    def exists(self) -> bool:
        return self.ca_file.exists()

    def create(self, msp_id: str, name: str, *, ca: OrgCA | None = None) -> OrgCA:
        """Make the folder with a new CA (or ``ca``, when an older data directory hands its
        key over), its key in the organisation's token when there is a module. Refuses a folder
        that already holds an organisation."""
        if self.exists() or (self.path / "org.json").exists():
            raise CertificateError(f"{self.path} already holds an organisation; it is never overwritten")
        make_folders(self.path)
        self.path.chmod(0o700)
        ca = ca or OrgCA.create(msp_id, name)
        if ca.msp_id != msp_id:
            raise CertificateError(f"the CA is {ca.msp_id}'s, not {msp_id}'s")
        ca = self._keep(ca)
        write_msp(self.path / "msp", ca)
        write_file(self.path / "org.json", json.dumps({"msp_id": msp_id, "name": name, "nodes": []}).encode())
        return ca

    def _keep(self, ca: OrgCA) -> OrgCA:
        return keep(ca, module=self.pkcs11_module, token_dir=self.token_dir, save=self._save)

    def _save(self, record: dict[str, Any]) -> None:
        write_file(self.ca_file, json.dumps(record).encode(), private=True)

    def ensure(self, msp_id: str, name: str) -> OrgCA:
        """The folder's CA, the folder made first when missing."""
        if not self.exists():
            return self.create(msp_id, name)
        ca = self.ca()
        if ca.msp_id != msp_id:
            raise CertificateError(f"{self.path} is {ca.msp_id}'s folder, not {msp_id}'s")
        return ca

    def ca(self) -> OrgCA:
        """The organisation's CA, read from its folder: its key in the folder's token, or (a
        folder made without a module) in ca.json, moved into a token now when this folder has a
        module. Raises CertificateError."""
        try:
            data = json.loads(self.ca_file.read_text(encoding="utf-8"))
        except FileNotFoundError as error:
            raise CertificateError(
                f"no organisation CA in {self.path}: the organisation makes its folder with `org init`"
            ) from error
        return open_ca(data, module=self.pkcs11_module, token_dir=self.token_dir, save=self._save)

    def issuing_ca(self, trusted_certificate_pem: bytes | None) -> OrgCA:
        """The folder's CA to certify a card with, only if it is the CA the platform (and the
        ledger) trusts for that organisation: a folder swapped for another CA certifies nothing.
        Raises CertificateError."""
        try:
            record = json.loads(self.ca_file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            record = {}
        # judged before the folder is opened: a swapped folder's key is never moved or used
        if (
            trusted_certificate_pem is None
            or record.get("certificate_pem", "").encode() != trusted_certificate_pem
        ):
            msp_id = record.get("msp_id", self.path.name)
            raise CertificateError(
                f"the CA in {msp_id}'s folder is not the one this platform trusts for {msp_id}"
            )
        return self.ca()


def consortium_cas(
    keystore: KeyStore,
    operator_msp: str,
    operator_name: str,
    folders: Mapping[str, tuple[str, Path]],
    *,
    trusted: Collection[str],
    pkcs11_module: str | None = None,
) -> dict[str, OrgCA]:
    """The operator's CA from the data directory (made when missing) and every other
        organisation's CA from its own folder (``folders``: MSP id -> (name, folder); a folder
        missing is made on the organisation's behalf, as its ``org init`` would). The data directory
        trusts the certificates of the MSP ids in ``trusted`` and holds no other organisation's key:
        a data directory made before #19 hands each key it held over to that organisation's folder
        and forgets it. A folder holding another CA than the one the data directory held is refused
        (the ledger trusts the older one). ``pkcs11_module``: where the folders keep their CA keys
    (:func:`ca_token_module`). Raises CertificateError."""
    held = keystore.cas()
    if operator_msp not in held:
        held[operator_msp] = keystore.save_ca(OrgCA.create(operator_msp, operator_name), pkcs11_module)
    elif held[operator_msp].private_key_pem and pkcs11_module is not None:  # into its token now
        held[operator_msp] = keystore.save_ca(held[operator_msp], pkcs11_module)
    cas = {operator_msp: held[operator_msp]}
    for msp_id, (name, path) in folders.items():
        if msp_id == operator_msp:
            continue
        folder = OrganisationFolder(path, pkcs11_module)
        old = held.get(msp_id)
        ca = (
            folder.create(msp_id, name, ca=old)
            if old is not None and not folder.exists()
            else folder.ensure(msp_id, name)
        )
        if old is not None and old.certificate_pem != ca.certificate_pem:
            raise CertificateError(
                f"{keystore.data_dir} and {folder.path} hold different {msp_id} CAs; keep the one the ledger trusts"
            )
        if msp_id in trusted:
            keystore.save_trusted(msp_id, ca.certificate_pem, folder.path)
        elif old is not None:
            keystore.forget_ca(msp_id)
        cas[msp_id] = ca
    return cas
