"""Shared fixtures: a platform on a fresh data directory and a demo-sized consortium.

``--ledger local`` (the default) runs everything on the embedded ledger; the Fabric issue
adds ``--ledger fabric`` so the scenario suite runs unchanged on a real network.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import OPERATOR_PASSWORD, OPERATOR_PIN, PIN, TODAY, invoice
from templates import MEMBERS, Templates, add_consortium, prepared_platform, take_consortium

from goldticket.services import Actor, Platform
from goldticket.settings import Settings
from goldticket.signing import SoftwareSigner, new_member_key


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--ledger", default="local", choices=["local", "fabric"], help="ledger adapter for scenarios"
    )
    parser.addoption(
        "--cards",
        default="",
        choices=["", "pkcs11", "software"],
        help="card backend (default: pkcs11 if SoftHSM2)",
    )


@pytest.fixture(scope="session")
def fabric_network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """The Fabric network of ``--ledger fabric`` runs (tests/fabric_network.py)."""
    import fabric_network as testnet

    yield from testnet.start(tmp_path_factory.mktemp("fabric"))


@pytest.fixture
def settings(tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    ledger = request.config.getoption("--ledger")
    data_dir, chaincode, profile = tmp_path / "data", "goldticket", None
    if ledger == "fabric":
        network = request.getfixturevalue("fabric_network")
        data_dir = network.data_dir(data_dir)
        chaincode, profile = network.fresh_chaincode(), network.layout.profile
    return Settings(
        data_dir=data_dir,
        ledger=ledger,
        chaincode=chaincode,
        fabric_profile=profile,
        env="test",
        documents="optional" if request.node.get_closest_marker("documents_optional") else "required",
        today=TODAY,
        card_backend=request.config.getoption("--cards"),
        card_kdf_n=2**14,
        signer_rate=1000.0,
        operator_password=OPERATOR_PASSWORD,
        operator_pin=OPERATOR_PIN,
    )


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Templates:
    """Data directories built once per session and copied per test (tests/templates.py)."""
    return Templates(tmp_path_factory.mktemp("templates"))


@pytest.fixture
def platform(settings: Settings, request: pytest.FixtureRequest) -> Iterator[Platform]:
    platform = prepared_platform(settings, request)
    yield platform
    platform.close()


@dataclasses.dataclass
class Consortium:
    platform: Platform
    operator: Actor
    core: Actor
    tier1: Actor
    tier2: Actor
    tier3: Actor
    bank: Actor
    factor: Actor
    credit_line: dict[str, object]


@pytest.fixture
def consortium(platform: Platform) -> Consortium:
    """The demo members, each with a clerk and a card, and the bank's credit line to ``core``:
    copied with the platform where it was (``prepared_platform``), else made here."""
    made = take_consortium(platform.settings.data_dir)
    actors, line = made if made is not None else add_consortium(platform)
    return Consortium(
        platform, platform.actor("operator"), *(actors[m[0]] for m in MEMBERS), credit_line=line
    )


@pytest.fixture
def issued_ticket(consortium: Consortium) -> dict[str, object]:
    """1,000,000.00 issued by ``core`` to ``tier1`` and accepted, maturing in 90 days."""
    from goldticket.services import tickets

    ticket = tickets.issue_ticket(
        consortium.platform,
        consortium.core,
        payee_org_id="tier1",
        amount_fen=100_000_000,
        maturity_date=TODAY + dt.timedelta(days=90),
        invoices=[invoice("INV-0001", 100_000_000)],
        pin=PIN,
    )
    return tickets.accept_ticket(consortium.platform, consortium.tier1, ticket["id"], pin=PIN)


def software_identity(consortium: Consortium, member_id: str, username: str) -> SoftwareSigner:
    """A software key for ``member_id`` certified by its org CA and registered on the ledger:
    for tests of the ledger itself, below the cards."""
    from goldticket.messages import Identity
    from goldticket.settings import ROLE_MSP

    platform = consortium.platform
    role = platform.evaluate("GetMember", {"id": member_id})["role"]
    ca = platform.member_ca(ROLE_MSP[role])
    key = new_member_key()
    cert = ca.issue(
        key.public_key(),
        common_name=username,
        attributes={"member": member_id, "role": "clerk", "user": username},
    )
    operator, pin = platform.actor("operator"), platform.settings.operator_pin
    platform.submit(
        operator, "RegisterIdentity", {"msp_id": ca.msp_id, "certificate_pem": cert.decode()}, pin=pin
    )
    return SoftwareSigner(key, Identity(ca.msp_id, cert))


@pytest.fixture
def tier1_key(consortium: Consortium) -> SoftwareSigner:
    return software_identity(consortium, "tier1", "tier1.software")


@pytest.fixture
def tier2_key(consortium: Consortium) -> SoftwareSigner:
    return software_identity(consortium, "tier2", "tier2.software")


@pytest.fixture
def operator_key(consortium: Consortium) -> SoftwareSigner:
    """A software key of an operator clerk; the operator member is onboarded, so an operator admin
    approves it (the desk's proposal alone leaves it PENDING_APPROVAL)."""
    signer = software_identity(consortium, "operator", "operator.software")
    platform = consortium.platform
    platform.submit(
        platform.actor("operator"),
        "ApproveIdentity",
        {"msp_id": signer.identity.msp_id, "certificate_pem": signer.identity.certificate_pem.decode()},
        pin=platform.settings.operator_pin,
    )
    return signer
