"""The running platform: settings, ledger, CAs and users' signers, and one way to transact.

Every use case goes through :meth:`Platform.submit` or :meth:`Platform.evaluate`, which sign
with the acting user's signer and turn ledger and chaincode refusals into typed errors.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from goldticket import domain as d
from goldticket.ledger import (
    Contract,
    EndorseError,
    Ledger,
    LedgerError,
    MVCCConflictError,
    open_local_ledger,
)
from goldticket.messages import Identity
from goldticket.settings import ConfigError, Settings
from goldticket.signing import OrgCA, Signer, new_member_key

from .keystore import KeyStore, check_username

CHINA = dt.timezone(dt.timedelta(hours=8))
ROLE_MSP = {"operator": "OperatorMSP", "supplier": "OperatorMSP", "core": "CoreMSP", "bank": "BankMSP"}
ORGANISATIONS = {"OperatorMSP": "GoldTicket Operator", "CoreMSP": "Core Enterprises", "BankMSP": "Banks"}
OPERATOR = "operator"


@dataclasses.dataclass(frozen=True)
class Actor:
    """A signed-in user: who they are and the signer that acts for them."""

    username: str
    member_id: str
    role: str
    signer: Signer


@dataclasses.dataclass(frozen=True)
class Receipt:
    """The result of a committed transaction."""

    result: Any
    tx_id: str
    block: int


def china_clock(today: dt.date | None) -> dt.datetime:
    """Now, or now's time of day on ``today`` (China time) when the clock is set."""
    now = dt.datetime.now(dt.UTC)
    if today is None:
        return now
    return dt.datetime.combine(today, now.astimezone(CHINA).time(), CHINA).astimezone(dt.UTC)


class Platform:
    def __init__(self, settings: Settings, ledger: Ledger, keystore: KeyStore) -> None:
        self.settings = settings
        self.ledger = ledger
        self.keystore = keystore
        self.contract = Contract(ledger, clock=lambda: china_clock(self.settings.today))

    # ---------------------------------------------------------------- setup
    @classmethod
    def open(cls, settings: Settings) -> Platform:
        """The platform on an initialised data directory. Raises ConfigError."""
        if settings.ledger != "local":
            raise ConfigError("the Fabric ledger adapter is not available yet; use GOLDTICKET_LEDGER=local")
        keystore = KeyStore(settings.data_dir)
        try:
            ledger = open_local_ledger(settings.data_dir)
        except LedgerError as error:
            raise ConfigError(str(error)) from error
        return cls(settings, ledger, keystore)

    @classmethod
    def init(
        cls,
        settings: Settings,
        operator_name: str = "金票平台运营方",
        operator_name_en: str = "GoldTicket Operator",
    ) -> Platform:
        """Create (once) the data directory, the org CAs, the ledger, the operator member and
        its admin user ``operator``. Running it again changes nothing."""
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        keystore = KeyStore(settings.data_dir)
        cas = keystore.cas()
        for msp_id, organisation in ORGANISATIONS.items():
            if msp_id not in cas:
                cas[msp_id] = OrgCA.create(msp_id, organisation)
                keystore.save_ca(cas[msp_id])
        ledger = open_local_ledger(settings.data_dir, {msp: ca.certificate_pem for msp, ca in cas.items()})
        platform = cls(settings, ledger, keystore)
        if not keystore.has_user(OPERATOR):
            platform._enrol(OPERATOR, OPERATOR, "operator", "admin")
        if ledger.height() <= 1:
            platform.submit(
                platform.actor(OPERATOR),
                "Bootstrap",
                {"id": OPERATOR, "name": operator_name, "name_en": operator_name_en},
            )
        return platform

    def close(self) -> None:
        self.ledger.close()

    def _enrol(self, username: str, member_id: str, member_role: str, user_role: str) -> Actor:
        ca = self.keystore.cas()[ROLE_MSP[member_role]]
        key = new_member_key()
        certificate = ca.issue(
            key.public_key(),
            common_name=f"{username}@{member_id}",
            attributes={"member": member_id, "role": user_role, "user": username},
        )
        self.keystore.save_user(
            username=username,
            member_id=member_id,
            role=user_role,
            identity=Identity(ca.msp_id, certificate),
            key=key,
        )
        return self.actor(username)

    def enrol_user(self, operator: Actor, *, username: str, member: dict[str, Any], user_role: str) -> Actor:
        """Make a key and certificate for a new user of ``member`` and register it on the ledger."""
        check_username(username)
        if user_role not in ("admin", "clerk"):
            raise d.InvalidInputError("a user's role is admin or clerk")
        if self.keystore.has_user(username):
            raise d.StateConflictError(f"user {username} already exists")
        actor = self._enrol(username, member["id"], member["role"], user_role)
        self.submit(
            operator,
            "RegisterIdentity",
            {
                "msp_id": actor.signer.identity.msp_id,
                "certificate_pem": actor.signer.identity.certificate_pem.decode(),
            },
        )
        return actor

    def actor(self, username: str) -> Actor:
        record, signer = self.keystore.user(username)
        return Actor(record["username"], record["member_id"], record["role"], signer)

    def today(self) -> dt.date:
        return china_clock(self.settings.today).astimezone(CHINA).date()

    # ------------------------------------------------------------- transact
    def submit(self, actor: Actor, function: str, request: dict[str, Any]) -> Receipt:
        """Sign with the actor's signer and commit. Raises a DomainError for a refusal
        (StateConflictError when a concurrent transaction won) or a LedgerError."""
        try:
            result, tx_id, block = self.contract.submit(actor.signer, function, request)
        except EndorseError as error:
            raise _translate(error) from error
        except MVCCConflictError as error:
            raise d.StateConflictError(
                "the ticket changed while this request was in flight; nothing was written, try again"
            ) from error
        return Receipt(result, tx_id, block)

    def evaluate(self, actor: Actor, function: str, request: dict[str, Any]) -> Any:
        try:
            return self.contract.evaluate(actor.signer, function, request)
        except EndorseError as error:
            raise _translate(error) from error


def _translate(error: EndorseError) -> Exception:
    if error.chaincode_message:
        typed = d.error_from_message(error.chaincode_message)
        if typed is not None:
            return typed
    return error
