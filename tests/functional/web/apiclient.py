"""A small client of /api/v1 for the web tests, and the test consortium's constants."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from typing import Any

from flask.testing import FlaskClient
from support import TODAY

PASSWORD = "correct horse battery"
MATURITY = TODAY + dt.timedelta(days=90)
# (org id, role, username); every user's password is PASSWORD and card PIN is PIN
MEMBERS = [
    ("core", "core", "core.clerk"),
    ("tier1", "supplier", "tier1.clerk"),
    ("tier2", "supplier", "tier2.clerk"),
    ("bank", "bank", "bank.credit"),
]


class Api:
    """A client of /api/v1 as one logged-in user."""

    def __init__(self, client: FlaskClient, token: str | None = None) -> None:
        self.client = client
        self.token = token

    def call(
        self, method: str, path: str, body: Any = None, *, expect: int | None = None, **headers: str
    ) -> Any:
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        response = self.client.open(f"/api/v1{path}", method=method, json=body, headers=headers)
        assert response.is_json, response.data[:200]
        if expect is not None:
            assert response.status_code == expect, (response.status_code, response.get_json())
        self.last = response
        return response.get_json()

    def get(self, path: str, **kw: Any) -> Any:
        return self.call("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.call("POST", path, body if body is not None else {}, **kw)


def activate(client: FlaskClient, username: str, code: str, password: str = PASSWORD) -> Api:
    """The user sets their own password with the desk's one-time code, and is logged in."""
    body = Api(client).post(
        "/auth/activate",
        {"username": username, "activation_code": code, "password": password},
        expect=200,
    )
    return Api(client, body["token"])


def login(client: FlaskClient, username: str, password: str = PASSWORD) -> Api:
    body = Api(client).post("/auth/token", {"username": username, "password": password}, expect=200)
    return Api(client, body["token"])


@dataclasses.dataclass
class Members:
    client: FlaskClient
    operator: Api
    users: dict[str, Api]
    credit_line: dict[str, Any]
    cards: dict[str, str]

    def __getitem__(self, org_id: str) -> Api:
        return self.users[org_id]

    @property
    def usernames(self) -> list[tuple[str, str]]:
        return [(org_id, username) for org_id, _, username in MEMBERS]


def invoice(number: str, amount_fen: int) -> dict[str, Any]:
    return {"number": number, "amount_fen": amount_fen, "sha256": hashlib.sha256(number.encode()).hexdigest()}
