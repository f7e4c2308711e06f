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
import os
import shutil
from collections.abc import Callable
from pathlib import Path
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
from goldticket.settings import (
    ENVIRONMENT_FILE,
    ConfigError,
    ProductionRefusedError,
    Settings,
    bind_environment,
)
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

from .keystore import KeyStore, check_username, write_private

CHINA = dt.timezone(dt.timedelta(hours=8))
ROLE_MSP = {"operator": "OperatorMSP", "supplier": "OperatorMSP", "core": "CoreMSP", "bank": "BankMSP"}
ORGANISATIONS = {"OperatorMSP": "GoldTicket Operator", "CoreMSP": "Core Enterprises", "BankMSP": "Banks"}
OPERATOR = "operator"
# What makes a data directory initialised; written last by ``init``.
INITIALISED_MARKER = "reader.json"
# What an init leaves in a data directory; found without the marker, an init did not finish.
INIT_ENTRIES = ("ledger.sqlite", "cards", "users", "portal.sqlite", ENVIRONMENT_FILE, "signer.secret")


@dataclasses.dataclass(frozen=True)
class Actor:
    """A signed-in user. What they sign, they sign with their card and a PIN per operation."""

    username: str
    member_id: str
    role: str


@dataclasses.dataclass(frozen=True)
class Desk:
    """The operator desk, authenticated: an admin of the operator member who has just proved
    their card PIN (:meth:`Platform.desk`). Every desk action takes one and is audit-logged
    under its user; the ledger writes it makes are signed in that admin's card with that PIN."""

    actor: Actor
    pin: str = dataclasses.field(repr=False)


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


def weak_pin(pin: str) -> bool:
    """A PIN anyone would try first: one digit repeated (111111), a run up or down (123456,
    987654, 890123), or a repeated pair or triple (121212, 123123)."""
    digits = [int(c) for c in pin]
    steps = {(b - a) % 10 for a, b in zip(digits, digits[1:], strict=False)}
    if len(steps) == 1 and steps <= {0, 1, 9}:
        return True
    return any(len(pin) % size == 0 and pin == pin[:size] * (len(pin) // size) for size in (2, 3))


def check_operator_secrets(settings: Settings) -> None:
    """``init``'s secrets, checked before anything is written: both set, a PIN of 6 to 12
    digits, a password of at least 10 characters (12 in production) that differs from the PIN,
    and in production no PIN anyone would guess. Raises ConfigError."""
    password, pin = settings.operator_password, settings.operator_pin
    if not password or not pin:
        raise ConfigError(
            "set GOLDTICKET_OPERATOR_PASSWORD and GOLDTICKET_OPERATOR_PIN before `goldticket init`"
        )
    if not pin.isdigit() or not 6 <= len(pin) <= 12:
        raise ConfigError("GOLDTICKET_OPERATOR_PIN must be 6 to 12 digits")
    if password == pin:
        raise ConfigError("GOLDTICKET_OPERATOR_PASSWORD must differ from GOLDTICKET_OPERATOR_PIN")
    if not 10 <= len(password) <= 256:
        raise ConfigError("GOLDTICKET_OPERATOR_PASSWORD must be 10 to 256 characters")
    if settings.env == "prod":
        if len(password) < 12:
            raise ProductionRefusedError(
                "in production GOLDTICKET_OPERATOR_PASSWORD must be at least 12 characters"
            )
        if weak_pin(pin):
            raise ProductionRefusedError(
                "in production GOLDTICKET_OPERATOR_PIN must not be a repeated digit, a run like"
                " 123456 or a repeated pattern; choose another"
            )


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
        """The platform on an initialised data directory, in the environment the directory
        was initialised for. Raises ConfigError."""
        settings = bind_environment(settings)
        keystore = KeyStore(settings.data_dir)
        if keystore.reader() is None:
            raise ConfigError(f"{settings.data_dir} is not initialised; run `goldticket init`")
        platform = cls(settings, open_ledger(settings, keystore), keystore, Cards.open(settings))
        try:
            platform._check_ledger_environment()
        except BaseException:
            platform.close()
            raise
        return platform

    def _check_ledger_environment(self) -> None:
        """The ledger's own record of the environment (on the operator member since Bootstrap)
        wins over the data directory's file; a file edited to say otherwise is refused."""
        try:
            recorded = self.evaluate("GetMember", {"id": OPERATOR}).get("environment")
        except d.NotFoundError:
            return
        if recorded and recorded != self.settings.env:
            raise ProductionRefusedError(
                f"the ledger was initialised for {recorded} but {self.settings.data_dir} says"
                f" {self.settings.env}; restore {ENVIRONMENT_FILE} from a backup"
            )

    @classmethod
    def init(
        cls,
        settings: Settings,
        operator_name: str = "金票平台运营方",
        operator_name_en: str = "GoldTicket Operator",
        *,
        then: Callable[[Platform], None] | None = None,
    ) -> Platform:
        """``goldticket init``: the data directory, the org CAs, the ledger, the portal's read
        identity, the operator member, its admin user ``operator`` and that user's card (PIN
        GOLDTICKET_OPERATOR_PIN, seed backup under GOLDTICKET_OPERATOR_PASSWORD); ``then`` adds
        more (the portal's login) before the directory counts as initialised.

        It checks the secrets before writing anything. A new directory is built beside the
        data directory and moved in only once complete, so a failed init leaves nothing behind.
        On an initialised directory it changes nothing, after checking that the operator
        password and PIN open the operator card's seed backup. Raises ConfigError."""
        settings = bind_environment(settings)
        check_operator_secrets(settings)
        if KeyStore(settings.data_dir).reader() is not None:
            platform = cls._build(settings, operator_name, operator_name_en)
            try:
                platform._check_operator_backup()
                if then is not None:
                    then(platform)
            except BaseException:
                platform.close()
                raise
            return platform
        _refuse_leftovers(settings.data_dir)
        staging = settings.data_dir.parent / f".{settings.data_dir.name}.init-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        if settings.data_dir.exists():  # a Fabric profile or CAs put there before init
            shutil.copytree(settings.data_dir, staging, symlinks=True)
        staged_settings = dataclasses.replace(
            settings,
            data_dir=staging,
            fabric_profile=settings.fabric_profile_path.absolute(),
            signer_tls_dir=settings.signer_tls_path.absolute(),
        )
        try:
            staged = cls._build(staged_settings, operator_name, operator_name_en)
            try:
                write_private(staging / ENVIRONMENT_FILE, {"environment": settings.env})
                if then is not None:
                    then(staged)
            finally:
                staged.close()
            _move_in(staging, settings.data_dir)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return cls.open(settings)

    @classmethod
    def _build(cls, settings: Settings, operator_name: str, operator_name_en: str) -> Platform:
        """Every init step that is missing, in ``settings.data_dir``."""
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
        try:
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
                request = {
                    "id": OPERATOR,
                    "name": operator_name,
                    "name_en": operator_name_en,
                    "environment": settings.env,
                }
                platform.submit(platform.actor(OPERATOR), "Bootstrap", request, pin=settings.operator_pin)
        except BaseException:
            platform.close()
            raise
        return platform

    def _check_operator_backup(self) -> None:
        """GOLDTICKET_OPERATOR_PASSWORD and _PIN must open the operator card's seed backup: a
        password that does not would seal new backups no one can open with the old ones."""
        from goldticket.signing.backup import open_backup
        from goldticket.signing.errors import BackupError

        card = self.cards.registry.active_card(OPERATOR)
        if card.backup is None:
            return
        try:
            open_backup(
                card.backup,
                operator_password=self.settings.operator_password,
                pin=self.settings.operator_pin,
                keys=self.cards.backup_keys,
            )
        except BackupError as error:
            raise ConfigError(
                "GOLDTICKET_OPERATOR_PASSWORD and GOLDTICKET_OPERATOR_PIN do not open the seed backup"
                f" of the operator's card in {self.settings.data_dir}: give the ones of the first init"
            ) from error

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

    def desk(self, actor: Actor | None = None, pin: str | None = None) -> Desk:
        """Authenticate the operator desk: ``actor`` (default: the operator's first admin,
        ``operator``) must be an admin of the operator member and ``pin`` (default
        GOLDTICKET_OPERATOR_PIN) must open their card; a wrong PIN counts towards locking it.
        Raises ForbiddenError, UnauthenticatedError, WrongPinError, CardLockedError."""
        from goldticket.signing.errors import UnauthenticatedError

        actor = actor or self.actor(OPERATOR)
        if actor.member_id != OPERATOR or actor.role != "admin":
            raise d.ForbiddenError("only an admin of the operator may do this")
        pin = self.settings.operator_pin if pin is None else pin
        if not pin:
            raise UnauthenticatedError(
                "the operator desk needs the operator's card PIN: --operator-pin or GOLDTICKET_OPERATOR_PIN"
            )
        record = self.cards.registry.active_card(actor.username)
        try:
            self.cards.service.check_pin(record, pin)
        except Exception as error:
            self.cards.service.record(
                {
                    "desk": "login",
                    "user": actor.username,
                    "result": "refused",
                    "code": getattr(error, "code", ""),
                }
            )
            raise
        return Desk(actor, pin)

    def audit_desk(self, desk: Desk, action: str, **fields: Any) -> None:
        """One line in the audit log for a desk action done by ``desk``."""
        self.cards.service.record({"desk": action, "user": desk.actor.username, **fields, "result": "ok"})

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


def _refuse_leftovers(data_dir: Path) -> None:
    left = [name for name in INIT_ENTRIES if (data_dir / name).exists()]
    if left:
        raise ConfigError(
            f"{data_dir} holds {', '.join(left)} from an init that did not finish; move them away"
            " and run `goldticket init` again"
        )


def _move_in(staging: Path, data_dir: Path) -> None:
    """Move what init built in ``staging`` into ``data_dir``, the marker of an initialised
    directory last; what was there before (a Fabric profile, the network's CAs) stays."""
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)

    def merge(source: Path, target: Path) -> None:
        for entry in sorted(source.iterdir()):
            if entry.name == INITIALISED_MARKER and source == staging:
                continue
            destination = target / entry.name
            if not destination.exists():
                os.rename(entry, destination)
            elif entry.is_dir() and destination.is_dir():
                merge(entry, destination)

    merge(staging, data_dir)
    os.rename(staging / INITIALISED_MARKER, data_dir / INITIALISED_MARKER)


def open_ledger(settings: Settings, keystore: KeyStore, msps: dict[str, bytes] | None = None) -> Ledger:
    """The ledger GOLDTICKET_LEDGER names: the embedded one under the data directory (created
    trusting ``msps`` when missing), or the Fabric channel of the connection profile
    ``make network-up`` wrote. Raises ConfigError."""
    try:
        if settings.ledger == "local":
            return open_local_ledger(
                settings.data_dir, msps, check_time=settings.env == "prod", environment=settings.env
            )
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
