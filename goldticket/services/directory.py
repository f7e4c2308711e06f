"""The user directory: who belongs to which member, with which role; one owner-only (0600)
file per user under the data directory's ``users/``. Logins live in the portal's database
(``accounts``); signing keys in cards."""

from __future__ import annotations

import json
import re
from pathlib import Path

from goldticket.domain import InvalidInputError, NotFoundError
from goldticket.signing.keystore import write_private

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,63}$")


def check_username(username: str) -> str:
    if not isinstance(username, str) or not _USERNAME.match(username):
        raise InvalidInputError("username must be 2-64 characters of a-z, 0-9, '.', '_' or '-'")
    return username


class UserDirectory:
    def __init__(self, data_dir: Path) -> None:
        self.user_dir = Path(data_dir) / "users"

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
