"""The running platform: settings, ledger, CAs, the user directory, the cards and one way to
transact.

Every ledger write goes through :meth:`Platform.submit`, signed inside the acting user's card
with the PIN given for that operation, through the signing service (in-process, or the signing
gateway named by GOLDTICKET_SIGNER_URL). Queries are signed by the portal's read identity.
Ledger and chaincode refusals come back as typed errors.
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
from goldticket.signing.audit import AuditLog
from goldticket.signing.backup_keys import BackupKeys, SoftwareBackupKeys, TokenBackupKeys
from goldticket.signing.cards.interfaces import CardFactory
from goldticket.signing.cards.pkcs11 import Pkcs11CardFactory, default_module_path
from goldticket.signing.cards.software import SoftwareCardFactory
from goldticket.signing.client import GatewayClient, IntentSigner, SigningBackend
from goldticket.signing.intents import DEV_TIME_WINDOW, PROD_TIME_WINDOW, Deployment
from goldticket.signing.registry import CardRegistry
from goldticket.signing.service import SigningService

from .keystore import KeyStore, check_username

CHINA = dt.timezone(dt.timedelta(hours=8))
ROLE_MSP = {"operator": "OperatorMSP", "supplier": "OperatorMSP", "core": "CoreMSP", "bank": "BankMSP"}
ORGANISATIONS = {"OperatorMSP": "GoldTicket Operator", "CoreMSP": "Core Enterprises", "BankMSP": "Banks"}
OPERATOR = "operator"


@dataclasses.dataclass(frozen=True)
class Actor:
    """A signed-in user. What they sign, they sign with their card and a PIN per operation."""

    username: str
    member_id: str
    role: str


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


@dataclasses.dataclass
class Cards:
    """The signing side kept on this machine: registry, card backends, audit log, service."""

    registry: CardRegistry
    factories: dict[str, CardFactory]
    default_backend: str
    service: SigningService
    backup_keys: BackupKeys  # the outer seed-backup layer's key: the operator token, or the fallback

    @classmethod
    def open(cls, settings: Settings) -> Cards:
        base = settings.data_dir / "cards"
        factories: dict[str, CardFactory] = {
            "software": SoftwareCardFactory(base / "software", scrypt_n=settings.card_kdf_n)
        }
        module = settings.pkcs11_module or default_module_path()
        if module:
            factories["pkcs11"] = Pkcs11CardFactory(
                module, token_dir=base / "softhsm" / "tokens" if "softhsm" in module else None
            )
        backend = settings.card_backend or ("pkcs11" if "pkcs11" in factories else "software")
        if backend not in factories:
            raise ConfigError("GOLDTICKET_CARD_BACKEND=pkcs11 needs a PKCS#11 module (install softhsm2)")
        registry = CardRegistry(base / "registry.sqlite")
        service = SigningService(
            registry,
            factories,
            AuditLog(base / "audit.jsonl"),
            rate_per_second=settings.signer_rate,
            burst=3 * settings.signer_rate,
            deployment=Deployment(
                settings.channel,
                settings.chaincode,
                PROD_TIME_WINDOW if settings.env == "prod" else DEV_TIME_WINDOW,
            ),
        )
        backup_keys: BackupKeys = (
            TokenBackupKeys(factories["pkcs11"])
            if backend == "pkcs11"
            else SoftwareBackupKeys(base / "backup-key.json", n=settings.card_kdf_n)
        )
        return cls(registry, factories, backend, service, backup_keys)


class Platform:
    def __init__(self, settings: Settings, ledger: Ledger, keystore: KeyStore, cards: Cards) -> None:
        self.settings = settings
        self.ledger = ledger
        self.keystore = keystore
        self.cards = cards
        self.signing: SigningBackend = (
            GatewayClient(
                settings.signer_url,
                settings.signer_secret or keystore.signer_secret(),
                tls_dir=settings.signer_tls_path,
            )
            if settings.signer_url
            else cards.service
        )
        self.contract = Contract(ledger, clock=lambda: china_clock(self.settings.today))
        reader = keystore.reader()
        if reader is None:
            raise ConfigError(f"{settings.data_dir} is not initialised; run `goldticket init`")
        self.reader: Signer = reader

    # ---------------------------------------------------------------- setup
    @classmethod
    def open(cls, settings: Settings) -> Platform:
        """The platform on an initialised data directory. Raises ConfigError."""
        keystore = KeyStore(settings.data_dir)
        return cls(settings, open_ledger(settings, keystore), keystore, Cards.open(settings))

    @classmethod
    def init(
        cls,
        settings: Settings,
        operator_name: str = "金票平台运营方",
        operator_name_en: str = "GoldTicket Operator",
    ) -> Platform:
        """Create (once) the data directory, the org CAs, the ledger, the portal's read identity,
        the operator member, its admin user ``operator`` and that user's card (PIN
        GOLDTICKET_OPERATOR_PIN, seed backup under GOLDTICKET_OPERATOR_PASSWORD).
        Running it again changes nothing."""
        if not settings.operator_password or not settings.operator_pin:
            raise ConfigError(
                "set GOLDTICKET_OPERATOR_PASSWORD and GOLDTICKET_OPERATOR_PIN before `goldticket init`"
            )
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        keystore = KeyStore(settings.data_dir)
        cas = keystore.cas()
        for msp_id, organisation in ORGANISATIONS.items():
            if msp_id not in cas:
                cas[msp_id] = OrgCA.create(msp_id, organisation)
                keystore.save_ca(cas[msp_id])
        if keystore.reader() is None:
            key = new_member_key()
            ca = cas["OperatorMSP"]
            attrs = {"member": OPERATOR, "role": "reader", "user": "portal"}
            keystore.save_reader(
                key, Identity(ca.msp_id, ca.issue(key.public_key(), common_name="portal", attributes=attrs))
            )
        msps = {msp: ca.certificate_pem for msp, ca in cas.items()}
        ledger = open_ledger(settings, keystore, msps)
        platform = cls(settings, ledger, keystore, Cards.open(settings))
        if not keystore.has_user(OPERATOR):
            keystore.save_user(username=OPERATOR, member_id=OPERATOR, role="admin")
        from . import cards as desk

        if not any(card.status == "ACTIVE" for card in platform.cards.registry.cards_of(OPERATOR)):
            card = platform.cards.registry.open(
                username=OPERATOR,
                member_id=OPERATOR,
                user_role="admin",
                backend=platform.cards.default_backend,
            )
            desk.personalise(platform, card.serial, settings.operator_pin, member_role="operator")
        if not platform.bootstrapped():
            request = {"id": OPERATOR, "name": operator_name, "name_en": operator_name_en}
            platform.submit(platform.actor(OPERATOR), "Bootstrap", request, pin=settings.operator_pin)
        return platform

    def bootstrapped(self) -> bool:
        """Whether the ledger knows the operator member (``Bootstrap`` has committed)."""
        try:
            self.evaluate("GetMember", {"id": OPERATOR})
        except d.NotFoundError:
            return False
        return True

    def close(self) -> None:
        self.ledger.close()
        self.cards.registry.close()

    def add_user(self, *, username: str, member_id: str, user_role: str) -> Actor:
        check_username(username)
        if user_role not in ("admin", "clerk"):
            raise d.InvalidInputError("a user's role is admin or clerk")
        if self.keystore.has_user(username):
            raise d.StateConflictError(f"user {username} already exists")
        self.keystore.save_user(username=username, member_id=member_id, role=user_role)
        return self.actor(username)

    def actor(self, username: str) -> Actor:
        record = self.keystore.user(username)
        return Actor(record["username"], record["member_id"], record["role"])

    def operator(self) -> tuple[Actor, str]:
        """The operator desk's actor and PIN (GOLDTICKET_OPERATOR_PIN)."""
        if not self.settings.operator_pin:
            raise ConfigError("the operator desk needs GOLDTICKET_OPERATOR_PIN")
        return self.actor(OPERATOR), self.settings.operator_pin

    def today(self) -> dt.date:
        return china_clock(self.settings.today).astimezone(CHINA).date()

    # ------------------------------------------------------------- transact
    def signer(self, actor: Actor, pin: str, function: str, request: dict[str, Any]) -> IntentSigner:
        serial = self.cards.registry.active_card(actor.username).serial
        return IntentSigner(self.signing, serial, pin, {"function": function, "request": request})

    def submit(self, actor: Actor, function: str, request: dict[str, Any], *, pin: str) -> Receipt:
        """Sign inside the actor's card with ``pin`` and commit. Raises a DomainError for a
        refusal (StateConflictError when a concurrent transaction won), a SigningError for a
        card problem (wrong PIN, locked, revoked) or a LedgerError."""
        signer = self.signer(actor, pin, function, request)
        try:
            result, tx_id, block = self.contract.submit(signer, function, request)
        except EndorseError as error:
            raise _translate(error) from error
        except MVCCConflictError as error:
            raise d.StateConflictError(
                "the ticket changed while this request was in flight; nothing was written, try again"
            ) from error
        return Receipt(result, tx_id, block)

    def evaluate(self, function: str, request: dict[str, Any]) -> Any:
        """Run a query, signed by the portal's read identity."""
        try:
            return self.contract.evaluate(self.reader, function, request)
        except EndorseError as error:
            raise _translate(error) from error


def open_ledger(settings: Settings, keystore: KeyStore, msps: dict[str, bytes] | None = None) -> Ledger:
    """The ledger GOLDTICKET_LEDGER names: the embedded one under the data directory (created
    trusting ``msps`` when missing), or the Fabric channel of the connection profile
    ``make network-up`` wrote. Raises ConfigError."""
    try:
        if settings.ledger == "local":
            return open_local_ledger(settings.data_dir, msps, check_time=settings.env == "prod")
        from goldticket.ledger.fabric import ConnectionProfile, FabricLedger

        reader = keystore.reader()
        if reader is None:
            raise ConfigError(f"{settings.data_dir} is not initialised; run `goldticket init`")
        profile = ConnectionProfile.load(settings.fabric_profile_path)
        if settings.chaincode != profile.chaincode:
            profile = profile.with_chaincode(settings.chaincode)
        if settings.channel != profile.channel:
            raise ConfigError(
                f"GOLDTICKET_CHANNEL is {settings.channel}, the network's channel is {profile.channel}"
            )
        return FabricLedger(profile, reader)
    except LedgerError as error:
        raise ConfigError(str(error)) from error


def _translate(error: EndorseError) -> Exception:
    if error.chaincode_message:
        typed = d.error_from_message(error.chaincode_message)
        if typed is not None:
            return typed
    return error
