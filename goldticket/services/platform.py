"""The running platform: settings, ledger, keys, the user directory, the cards and one way to
transact.

Every ledger write goes through :meth:`Platform.submit`, signed inside the acting user's card
with the PIN given for that operation, through the signing service (in-process, or the signing
gateway named by GOLDTICKET_SIGNER_URL). Queries are signed by the portal's read identity.
Ledger and chaincode refusals come back as typed errors. ``goldticket init`` is in ``setup``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

from goldticket import domain as d
from goldticket.ledger import Contract, EndorseError, Ledger, LedgerError, MVCCConflictError
from goldticket.ledger.contract import PRIVATE_FIELDS
from goldticket.settings import (
    ENVIRONMENT_FILE,
    ROLE_MSP,
    ConfigError,
    ProductionRefusedError,
    Settings,
    bind_environment,
)
from goldticket.signing import OrgCA, Signer
from goldticket.signing.ca_token import ca_token_module
from goldticket.signing.client import GatewayClient, IntentSigner, SigningBackend
from goldticket.signing.errors import SigningError, UnauthenticatedError
from goldticket.signing.keystore import KeyStore
from goldticket.signing.organisations import OrganisationFolder
from goldticket.store.database import Database

from .context import CHINA, OPERATOR, Actor, Desk, Receipt, china_clock
from .directory import UserDirectory, check_username
from .ledgers import open_ledger
from .signing_setup import Cards


def organisation_folder(
    settings: Settings, keystore: KeyStore, msp_id: str, *, default_root: Path | None = None
) -> Path:
    """Where ``msp_id``'s own folder is: under GOLDTICKET_ORGS_DIR when set, else where the data
    directory recorded it, else beside the data directory (``<data dir>-orgs``)."""
    if settings.orgs_dir is None:
        recorded = keystore.organisation_folder(msp_id)
        if recorded is not None:
            return recorded
        if default_root is not None:
            return default_root / msp_id
    return settings.organisation_folder(msp_id)


class Platform:
    # True on the stand-in a confirmation page rehearses a write on (services.rehearsal)
    rehearsing = False

    def __init__(self, settings: Settings, ledger: Ledger, keystore: KeyStore, cards: Cards) -> None:
        self.settings = settings
        self.ledger = ledger
        self.keystore = keystore
        self.users = UserDirectory(settings.data_dir)
        self.cards = cards
        self.gateway = (
            GatewayClient(
                settings.signer_url,
                settings.signer_secret or keystore.signer_secret(),
                tls_dir=settings.signer_tls_path,
            )
            if settings.signer_url
            else None
        )
        self.signing: SigningBackend = self.gateway or cards.service
        self.contract = Contract(ledger, clock=lambda: china_clock(self.settings.today))
        reader = keystore.reader()
        if reader is None:
            raise ConfigError(f"{settings.data_dir} is not initialised; run `goldticket init`")
        self.reader: Signer = reader
        # Where ``lookup`` reads first on Fabric: the portal's read model (``Portal.around``).
        self.read_model: Callable[[str, str], dict[str, Any] | None] | None = None
        # The portal database, shared with ``Portal.around``'s; a bare platform opens its own
        # on first use (:meth:`database`): the counts every worker shares live there.
        self._database: Database | None = None
        self._owns_database = False

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
        if self._database is not None and self._owns_database:
            self._database.close()
            self._database = None

    def database(self) -> Database:
        """The portal database: the portal's when it opened this platform, else one opened
        (and migrated) here on first use and closed with the platform."""
        if self._database is None:
            database = Database(self.settings.portal_database_url)
            try:
                database.migrate()
            except BaseException:
                database.close()
                raise
            self._database, self._owns_database = database, True
        return self._database

    def use_database(self, database: Database) -> None:
        """Share the portal's open ``database`` (``Portal.around``)."""
        self._database, self._owns_database = database, False

    # ---------------------------------------------------------------- users
    def add_user(self, *, username: str, member_id: str, user_role: str) -> Actor:
        check_username(username)
        if user_role not in ("admin", "clerk"):
            raise d.InvalidInputError("a user's role is admin or clerk")
        if self.users.has_user(username):
            raise d.StateConflictError(f"user {username} already exists")
        self.users.save_user(username=username, member_id=member_id, role=user_role)
        return self.actor(username)

    def member_ca(self, msp_id: str) -> OrgCA:
        """The CA that certifies the cards of ``msp_id``'s users: the operator's own, held in
        the data directory, or another organisation's through its folder (the file-based
        issuing adapter, :mod:`goldticket.signing.organisations`). Raises CertificateError (a
        SigningError)."""
        held = self.keystore.cas().get(msp_id)
        if held is not None:
            return held
        folder = OrganisationFolder(
            organisation_folder(self.settings, self.keystore, msp_id),
            ca_token_module(self.settings.pkcs11_module),
        )
        return folder.issuing_ca(self.keystore.trusted().get(msp_id))

    def actor(self, username: str) -> Actor:
        record = self.users.user(username)
        return Actor(record["username"], record["member_id"], record["role"])

    def desk(self, actor: Actor | None = None, pin: str | None = None) -> Desk:
        """Authenticate the operator desk: ``actor`` (default: the operator's first admin,
        ``operator``) must be an admin of the operator member and ``pin`` (default
        GOLDTICKET_OPERATOR_PIN) must open their card; a wrong PIN counts towards locking it.
        Raises ForbiddenError, UnauthenticatedError, WrongPinError, CardLockedError."""
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
        organizations = self.private_endorsers(signer.identity.msp_id, function, request)
        try:
            result, tx_id, block = self.contract.submit(
                signer, function, request, organizations=organizations
            )
        except EndorseError as error:
            raise _translate(error) from error
        except MVCCConflictError as error:
            raise d.StateConflictError(
                "the ticket changed while this request was in flight; nothing was written, try again"
            ) from error
        return Receipt(result, tx_id, block)

    def private_endorsers(self, msp_id: str, function: str, request: dict[str, Any]) -> tuple[str, ...]:
        """On Fabric, the organisations that endorse a write carrying private terms in its
        transient map (#19): the operator's (for the holder) and the signer's (the bank's), and
        the fewest others a MAJORITY of the channel needs, never another bank's
        (domain.private_endorsers). The channel's organisations are those its current config
        names (an organisation that joined counts before any member of it is registered); one
        with a bank among its members, or with no member the ledger knows, may be a bank and is
        never asked to endorse. Empty (the Gateway plans) for any other write, and on the
        embedded ledger."""
        if self.ledger.kind != "fabric" or not any(f in request for f in PRIVATE_FIELDS.get(function, ())):
            return ()
        members = self.evaluate("ListMembers", {})["items"]
        operator = ROLE_MSP["operator"]
        known = {operator, *(member["msp_id"] for member in members)}
        channel = set(self.ledger.organizations() or known)
        banks = {member["msp_id"] for member in members if member["role"] == "bank"}
        return d.private_endorsers(
            frozenset({operator, msp_id}), frozenset(channel), frozenset(banks | (channel - known))
        )

    def rehearse(self, actor: Actor, function: str, request: dict[str, Any]) -> bool:
        """Run the write ``actor`` would sign through the chaincode without signing, endorsing
        or committing it (no PIN, so no card is touched): raises the chaincode's refusal as a
        typed error; False where it cannot be rehearsed (a card without its key yet), the
        signature then being the first check. The embedded ledger runs the unsigned proposal
        itself; on Fabric the read identity evaluates the chaincode's ``Rehearse``."""
        try:
            serial = self.cards.registry.active_card(actor.username).serial
            creator = self.signing.identity(serial)
        except (SigningError, LedgerError):  # no card or key to name the creator: the PIN step says why
            return False
        try:
            if self.contract.rehearse(creator, function, request):
                return True
        except EndorseError as error:
            raise _translate(error) from error
        # a Fabric peer endorses signed proposals only: the read identity asks the chaincode
        # to run the write as the member would, writing nothing (chaincode/rehearsal.py)
        creator_record = {"msp_id": creator.msp_id, "certificate_pem": creator.certificate_pem.decode()}
        self.evaluate("Rehearse", {"function": function, "request": request, "creator": creator_record})
        return True

    def evaluate(self, function: str, request: dict[str, Any]) -> Any:
        """Run a query, signed by the portal's read identity."""
        try:
            return self.contract.evaluate(self.reader, function, request)
        except EndorseError as error:
            raise _translate(error) from error

    def lookup(self, kind: str, key: str) -> dict[str, Any]:
        """The committed ``kind`` (member, ticket, offer, application) ``key``, for the access
        checks made before a write, without a signed query: world state on the embedded ledger;
        on Fabric the read model, else the ledger's query. It reads what the portal's read
        identity reads (everything); a check reveals of it only its refusal, as when it made the
        signed query. The chaincode decides again on submit, so a stale read only moves a
        refusal. Raises NotFoundError, with the chaincode's words."""
        found = self.read_model(kind, key) if self.read_model is not None else None
        if found is None:
            found = self.ledger.record(kind, key)
        if found is None:
            raise d.NotFoundError(f"no {kind} {key}")
        return found


def _translate(error: EndorseError) -> Exception:
    if error.chaincode_message:
        typed = d.error_from_message(error.chaincode_message)
        if typed is not None:
            return typed
    return error
