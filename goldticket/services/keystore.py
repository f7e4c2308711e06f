"""What the platform keeps on disk under the data directory, owner-only (0600): the
organisation CAs, the user directory (who belongs to which member, with which role), the
portal's own read identity (a software key that signs queries, never a ledger write), and the
signing gateway's deployment secret. Users' signing keys live in cards, not here.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from goldticket.domain import InvalidInputError, NotFoundError
from goldticket.messages import Identity
from goldticket.signing import OrgCA, SoftwareSigner

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,63}$")


def write_private(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=1, sort_keys=True, ensure_ascii=False)
    os.replace(tmp, path)


def check_username(username: str) -> str:
    if not isinstance(username, str) or not _USERNAME.match(username):
        raise InvalidInputError("username must be 2-64 characters of a-z, 0-9, '.', '_' or '-'")
    return username


class KeyStore:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.msp_dir = self.data_dir / "msp"
        self.user_dir = self.data_dir / "users"

    # organisation CAs
    def save_ca(self, ca: OrgCA) -> None:
        write_private(
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

    # the user directory
    def save_user(self, *, username: str, member_id: str, role: str) -> None:
        write_private(
            self.user_dir / f"{check_username(username)}.json",
            {"username": username, "member_id": member_id, "role": role},
        )

    def has_user(self, username: str) -> bool:
        return (self.user_dir / f"{check_username(username)}.json").exists()

    def user(self, username: str) -> dict[str, str]:
        path = self.user_dir / f"{check_username(username)}.json"
        if not path.exists():
            raise NotFoundError(f"no user {username}")
        return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]

    def users(self) -> list[dict[str, str]]:
        """Every user of the directory, by username."""
        return [json.loads(path.read_text(encoding="utf-8")) for path in sorted(self.user_dir.glob("*.json"))]

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

    # the signing gateway's deployment secret
    def signer_secret(self) -> str:
        path = self.data_dir / "signer.secret"
        if not path.exists():
            write_private(path, {"secret": secrets.token_urlsafe(32)})
        return str(json.loads(path.read_text(encoding="utf-8"))["secret"])
