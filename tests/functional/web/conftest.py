"""Web fixtures: a portal on a fresh data directory whose writes are signed through a real
signing gateway (an HTTP server on a port of its own, holding the cards), the Flask
application over it, and a consortium built over HTTP by the operator desk."""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from apiclient import MATURITY, MEMBERS, Api, Members, activate, invoice, login
from contract import ContractClient
from flask.testing import FlaskClient
from support import OPERATOR_PASSWORD, OPERATOR_PIN, PIN
from templates import Templates

from goldticket.services import setup
from goldticket.services.portal import Portal
from goldticket.services.signing_setup import Cards
from goldticket.settings import Settings
from goldticket.signing.gateway import GatewayServer
from web import create_app


@pytest.fixture
def web_settings(settings: Settings) -> Settings:
    """SQLite in the data directory; test_postgres.py runs the suite's core on PostgreSQL."""
    return dataclasses.replace(settings, password_memory_kib=8192)


@contextlib.contextmanager
def running_portal(web_settings: Settings) -> Iterator[Portal]:
    """The portal over an initialised data directory, its writes signed by a signing gateway
    holding the cards, on a port of its own."""
    cards = Cards.open(web_settings)
    secret = "test gateway secret " + web_settings.data_dir.name
    server = GatewayServer(("127.0.0.1", 0), cards.service, secret.encode())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    portal = Portal.open(dataclasses.replace(web_settings, signer_url=server.url, signer_secret=secret))
    try:
        yield portal
    finally:
        portal.close()
        server.shutdown()
        server.server_close()
        cards.registry.close()


# The tokens, credit line and cards of the members copied into a data directory, by directory.
_MEMBERS: dict[Path, tuple[str, dict[str, str], dict[str, Any], dict[str, str]]] = {}


@pytest.fixture
def portal(web_settings: Settings, request: pytest.FixtureRequest) -> Iterator[Portal]:
    """On a fresh data directory: initialised by ``setup.init_portal``, or on SQLite a copy of
    the one initialised once for the session (tests/templates.py), with the members in it when
    the test asks for them (their logins' tokens are in the copied database)."""
    if Templates.usable(web_settings):
        templates: Templates = request.getfixturevalue("templates")
        if "members" in request.fixturenames:
            _MEMBERS[web_settings.data_dir] = templates.copy(web_settings, "web members", _built_members)
        else:
            templates.copy(web_settings, "portal", lambda made: setup.init_portal(made).close())
    else:
        setup.init_portal(web_settings).close()
    with running_portal(web_settings) as portal:
        yield portal


def _built_members(web_settings: Settings) -> tuple[str, dict[str, str], dict[str, Any], dict[str, str]]:
    setup.init_portal(web_settings).close()
    with running_portal(web_settings) as portal:
        client = create_app({"TESTING": True, "GOLDTICKET_PORTAL": portal, "FOLLOW_SECONDS": 0}).test_client()
        made = _add_members(client)
    tokens = {org_id: api.token or "" for org_id, api in made.users.items()}
    return made.operator.token or "", tokens, made.credit_line, made.cards


@pytest.fixture
def app(portal: Portal) -> Any:
    app = create_app({"TESTING": True, "GOLDTICKET_PORTAL": portal, "FOLLOW_SECONDS": 0})
    app.test_client_class = ContractClient  # every API answer checked against the OpenAPI document
    return app


@pytest.fixture
def client(app: Any) -> FlaskClient:
    return app.test_client()


def member_kyc(name: str, index: int) -> dict[str, str]:
    """A KYC record of a test member (#21): a valid 统一社会信用代码, an account in its name."""
    from stdnum.cn import uscc

    base = f"91110000600037{index:03d}"
    return {
        "uscc": base + uscc.calc_check_digit(base),
        "legal_representative": "测试法人",
        "registered_address": "北京市测试路 1 号",
        "account_name": name,
        "account_number": f"62220200000000{index:02d}",
        "bank_name": "测试银行",
        "cnaps_code": f"10210000{index:04d}",
    }


@pytest.fixture
def members(client: FlaskClient, portal: Portal) -> Members:
    """The members of apiclient.MEMBERS, each with an activated clerk and a card, logged in,
    and the bank's credit line to ``core``: copied with the portal where it was, else made here."""
    made = _MEMBERS.pop(portal.settings.data_dir, None)
    if made is None:
        return _add_members(client)
    operator, tokens, line, cards = made
    return Members(
        client, Api(client, operator), {org: Api(client, t) for org, t in tokens.items()}, line, cards
    )


def _add_members(client: FlaskClient) -> Members:
    operator = login(client, "operator", OPERATOR_PASSWORD)
    users, cards = {}, {}
    for index, (org_id, role, username) in enumerate(MEMBERS):
        operator.post(
            "/orgs",
            {
                "id": org_id,
                "name": f"{org_id} 公司",
                "role": role,
                "desk_pin": OPERATOR_PIN,
                "kyc": member_kyc(f"{org_id} 公司", index),
            },
            expect=201,
        )
        created = operator.post(
            "/users",
            {"org_id": org_id, "username": username, "role": "clerk", "desk_pin": OPERATOR_PIN},
            expect=201,
        )
        users[org_id] = activate(client, username, created["activation_code"])
        card = operator.post("/cards", {"user_id": username, "desk_pin": OPERATOR_PIN}, expect=201)
        users[org_id].post(f"/me/cards/{card['card_id']}/pin", {"new_pin": PIN}, expect=200)
        cards[org_id] = card["card_id"]
    line = users["bank"].post(
        "/credit-lines", {"core_org_id": "core", "limit_fen": 10_000_000_000, "pin": PIN}, expect=201
    )
    assert line["status"] == "offered"
    line = users["core"].post(f"/credit-lines/{line['id']}/accept", {"pin": PIN}, expect=200)
    return Members(client, operator, users, line, cards)


@pytest.fixture
def accepted(members: Members) -> dict[str, Any]:
    """1,000,000.00 issued by core to tier1 and accepted."""
    issued = members["core"].post(
        "/tickets",
        {
            "payee_org_id": "tier1",
            "amount_fen": 100_000_000,
            "maturity_date": MATURITY.isoformat(),
            "invoices": [invoice("INV-1", 100_000_000)],
            "pin": PIN,
        },
        expect=201,
    )
    return members["tier1"].post(f"/tickets/{issued['id']}/accept", {"pin": PIN}, expect=200)  # type: ignore[no-any-return]
