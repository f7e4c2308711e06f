"""Where organisation CAs and users' signing keys live under the data directory.

Files are written owner-only (0600). Issue #4 moves users' keys into BSIM cards behind the
same Signer interface; until then a user's key is a software key on this machine.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from goldticket.domain import InvalidInputError, NotFoundError
from goldticket.messages import Identity
from goldticket.signing import OrgCA, SoftwareSigner

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,63}$")


def _write_private(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=1, sort_keys=True)
    os.replace(tmp, path)


def check_username(username: str) -> str:
    if not isinstance(username, str) or not _USERNAME.match(username):
        raise InvalidInputError("username must be 2-64 characters of a-z, 0-9, '.', '_' or '-'")
    return username


class KeyStore:
    def __init__(self, data_dir: Path) -> None:
        self.msp_dir = Path(data_dir) / "msp"
        self.key_dir = Path(data_dir) / "keys"

    # organisation CAs
    def save_ca(self, ca: OrgCA) -> None:
        _write_private(
            self.msp_dir / f"{ca.msp_id}.json",
            {
                "msp_id": ca.msp_id,
                "certificate_pem": ca.certificate_pem.decode(),
                "private_key_pem": ca.private_key_pem.decode(),
            },
        )

    def cas(self) -> dict[str, OrgCA]:
        result = {}
        for path in sorted(self.msp_dir.glob("*.json")):
            data = json.loads(path.read_text(encoding="utf-8"))
            result[data["msp_id"]] = OrgCA(
                data["msp_id"], data["certificate_pem"].encode(), data["private_key_pem"].encode()
            )
        return result

    # users
    def save_user(
        self, *, username: str, member_id: str, role: str, identity: Identity, key: ec.EllipticCurvePrivateKey
    ) -> None:
        key_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        _write_private(
            self.key_dir / f"{check_username(username)}.json",
            {
                "username": username,
                "member_id": member_id,
                "role": role,
                "msp_id": identity.msp_id,
                "certificate_pem": identity.certificate_pem.decode(),
                "key_pem": key_pem.decode(),
            },
        )

    def has_user(self, username: str) -> bool:
        return (self.key_dir / f"{check_username(username)}.json").exists()

    def user(self, username: str) -> tuple[dict[str, str], SoftwareSigner]:
        """(user record without the key, the user's signer). Raises NotFoundError."""
        path = self.key_dir / f"{check_username(username)}.json"
        if not path.exists():
            raise NotFoundError(f"no user {username} on this machine")
        data = json.loads(path.read_text(encoding="utf-8"))
        key = serialization.load_pem_private_key(data.pop("key_pem").encode(), password=None)
        identity = Identity(data["msp_id"], data["certificate_pem"].encode())
        return data, SoftwareSigner(key, identity)  # type: ignore[arg-type]
