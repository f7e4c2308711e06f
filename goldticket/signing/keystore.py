"""The keys and certificates the platform keeps on disk under the data directory, owner-only
(0600): the operator's CA and the other organisations' CA certificates (their keys stay in
their own folders, :mod:`goldticket.signing.organisations`), the portal's own read identity (a
software key that signs queries, never a ledger write) and the signing gateway's deployment
secret. Users' signing keys live in cards, not here. Deployment tooling (fabric-network/) reads
the operator's CA from here too.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from goldticket.messages import Identity

from .ca import OrgCA
from .ca_token import keep, open_ca
from .software import SoftwareSigner


def write_private(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` as JSON readable by the owner only (0600, folder 0700), atomically."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=1, sort_keys=True, ensure_ascii=False)
    os.replace(tmp, path)


class KeyStore:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.msp_dir = self.data_dir / "msp"

    # organisation CAs
    @property
    def ca_token_dir(self) -> Path:
        """The operator's CA token (SoftHSM2), when its key is kept in one."""
        return self.msp_dir / "softhsm" / "tokens"

    def save_ca(self, ca: OrgCA, pkcs11_module: str | None = None) -> OrgCA:
        """Keep ``ca`` (a software CA): its key moved into a token of :attr:`ca_token_dir`
        when ``pkcs11_module`` is given (:mod:`goldticket.signing.ca_token`), else in its
        record. Returns the CA as kept."""
        return keep(ca, module=pkcs11_module, token_dir=self.ca_token_dir, save=self._saver(ca.msp_id))

    def _saver(self, msp_id: str) -> Callable[[dict[str, Any]], None]:
        path = self.msp_dir / f"{msp_id}.json"
        return lambda record: write_private(path, record)

    def save_trusted(self, msp_id: str, certificate_pem: bytes, folder: Path | None = None) -> None:
        """Trust another organisation's CA certificate: public material only, its key stays in
        the organisation's own folder (:mod:`goldticket.signing.organisations`), whose path is
        recorded when known (the platform finds it there after the data directory moves)."""
        record = {"msp_id": msp_id, "certificate_pem": certificate_pem.decode()}
        if folder is not None:
            record["folder"] = str(Path(folder).absolute())
        write_private(self.msp_dir / f"{msp_id}.json", record)

    def forget_ca(self, msp_id: str) -> None:
        """Drop what the data directory holds of ``msp_id``'s CA (its key handed over to the
        organisation's own folder, the data directory not trusting it)."""
        (self.msp_dir / f"{msp_id}.json").unlink(missing_ok=True)

    def organisation_folder(self, msp_id: str) -> Path | None:
        """The folder recorded with ``msp_id``'s trusted CA certificate, if any."""
        path = self.msp_dir / f"{msp_id}.json"
        if not path.exists():
            return None
        folder = json.loads(path.read_text(encoding="utf-8")).get("folder")
        return Path(folder) if folder else None

    def _records(self) -> list[dict[str, str]]:
        return [json.loads(path.read_text(encoding="utf-8")) for path in sorted(self.msp_dir.glob("*.json"))]

    def cas(self) -> dict[str, OrgCA]:
        """The CAs whose keys the platform holds: its own organisation's (OperatorMSP), and
        in a data directory made before #19 the others' too until ``goldticket init`` hands
        them over to their folders."""
        return {
            data["msp_id"]: open_ca(
                data, module=None, token_dir=self.ca_token_dir, save=self._saver(data["msp_id"])
            )
            for data in self._records()
            if data.get("private_key_pem") or data.get("token")
        }

    def trusted(self) -> dict[str, bytes]:
        """Every organisation's CA certificate the platform trusts (MSP id -> PEM)."""
        return {data["msp_id"]: data["certificate_pem"].encode() for data in self._records()}

    # the portal's read identity
    def reader(self) -> SoftwareSigner | None:
        path = self.data_dir / "reader.json"
        if not path.exists():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        key = serialization.load_pem_private_key(data["key_pem"].encode(), password=None)
        return SoftwareSigner(key, Identity(data["msp_id"], data["certificate_pem"].encode()))  # type: ignore[arg-type]

    def save_reader(self, key: ec.EllipticCurvePrivateKey, identity: Identity) -> None:
        key_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        write_private(
            self.data_dir / "reader.json",
            {
                "msp_id": identity.msp_id,
                "certificate_pem": identity.certificate_pem.decode(),
                "key_pem": key_pem.decode(),
            },
        )

    # the key that seals secrets the portal's database keeps (webhook secrets)
    def sealing_key(self) -> bytes:
        """32 random bytes, made at first use (``<data>/seal.key``, 0600): the portal's database,
        which may live elsewhere (PostgreSQL) and be dumped, holds what it seals only as
        ciphertext (:mod:`goldticket.services.notify.sealed`)."""
        path = self.data_dir / "seal.key"
        if not path.exists():
            write_private(path, {"key": base64.b64encode(secrets.token_bytes(32)).decode()})
        return base64.b64decode(json.loads(path.read_text(encoding="utf-8"))["key"])

    # the signing gateway's deployment secret
    def signer_secret(self) -> str:
        path = self.data_dir / "signer.secret"
        if not path.exists():
            write_private(path, {"secret": secrets.token_urlsafe(32)})
        return str(json.loads(path.read_text(encoding="utf-8"))["secret"])
