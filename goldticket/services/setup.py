"""``goldticket init``: a data directory made from nothing, or checked when it exists.

The organisation CAs, the ledger, the portal's read identity, the operator member, its admin
user ``operator`` with a card (PIN GOLDTICKET_OPERATOR_PIN, seed backup under
GOLDTICKET_OPERATOR_PASSWORD), and the portal's database with the operator's login. Secrets
are checked before anything is written; a new directory is built beside the data directory and
moved in only once complete, so a failed init leaves nothing behind.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Callable
from pathlib import Path

from goldticket.messages import Identity
from goldticket.settings import (
    ENVIRONMENT_FILE,
    ORGANISATIONS,
    ROLE_MSP,
    ConfigError,
    ProductionRefusedError,
    Settings,
    bind_environment,
)
from goldticket.signing import OrgCA, new_member_key
from goldticket.signing.backup import open_backup
from goldticket.signing.ca_token import ca_token_module
from goldticket.signing.errors import BackupError, CertificateError
from goldticket.signing.keystore import KeyStore, write_private
from goldticket.signing.organisations import consortium_cas
from goldticket.store.database import Database
from goldticket.store.projection import Follower

from . import accounts, cards
from .certificates import make_document_signer
from .context import OPERATOR
from .ledgers import open_ledger
from .notify import sealed
from .pins import weak_pin
from .platform import Platform, organisation_folder
from .portal import Portal
from .signing_setup import Cards

# What makes a data directory initialised; written last by ``init``.
INITIALISED_MARKER = "reader.json"
# What an init leaves in a data directory; found without the marker, an init did not finish.
INIT_ENTRIES = ("ledger.sqlite", "cards", "users", "portal.sqlite", ENVIRONMENT_FILE, "signer.secret")


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


def init_portal(settings: Settings) -> Portal:
    """``goldticket init``: the platform, the database, and the operator's login account
    (password GOLDTICKET_OPERATOR_PASSWORD). Idempotent."""

    def login(platform: Platform) -> None:
        database = Database(platform.settings.portal_database_url)
        try:
            database.migrate()
            portal = Portal(platform, database, Follower(database, platform.ledger))
            sealed.seal_stored(portal)  # webhook secrets stored in clear before #20's sealing
            accounts.ensure_account(
                portal,
                username=OPERATOR,
                org_id=OPERATOR,
                role="admin",
                password=platform.settings.operator_password,
            )
        finally:
            database.close()

    return Portal.around(init_platform(settings, then=login))


def init_platform(
    settings: Settings,
    operator_name: str = "金票平台运营方",
    operator_name_en: str = "GoldTicket Operator",
    *,
    then: Callable[[Platform], None] | None = None,
) -> Platform:
    """The platform of ``goldticket init``; ``then`` adds more (the portal's login) before the
    directory counts as initialised. On an initialised directory it changes nothing, after
    checking that the operator password and PIN open the operator card's seed backup. Raises
    ConfigError."""
    settings = bind_environment(settings)
    check_operator_secrets(settings)
    if KeyStore(settings.data_dir).reader() is not None:
        platform = _build(settings, operator_name, operator_name_en)
        try:
            _check_operator_backup(platform)
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
        staged = _build(staged_settings, operator_name, operator_name_en, orgs_root=settings.orgs_path)
        try:
            write_private(staging / ENVIRONMENT_FILE, {"environment": settings.env})
            if then is not None:
                then(staged)
        finally:
            staged.close()
        _move_in(staging, settings.data_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return Platform.open(settings)


def _build(
    settings: Settings, operator_name: str, operator_name_en: str, *, orgs_root: Path | None = None
) -> Platform:
    """Every init step that is missing, in ``settings.data_dir``."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    keystore = KeyStore(settings.data_dir)
    operator_ca = _organisation_cas(settings, keystore, orgs_root or settings.orgs_path)
    if keystore.reader() is None:
        key = new_member_key()
        ca = operator_ca
        attrs = {"member": OPERATOR, "role": "reader", "user": "portal"}
        keystore.save_reader(
            key, Identity(ca.msp_id, ca.issue(key.public_key(), common_name="portal", attributes=attrs))
        )
    ledger = open_ledger(settings, keystore, keystore.trusted())
    platform = Platform(settings, ledger, keystore, Cards.open(settings))
    try:
        if not platform.users.has_user(OPERATOR):
            platform.users.save_user(username=OPERATOR, member_id=OPERATOR, role="admin")
        if not any(card.status == "ACTIVE" for card in platform.cards.registry.cards_of(OPERATOR)):
            card = platform.cards.registry.open(
                username=OPERATOR,
                member_id=OPERATOR,
                user_role="admin",
                backend=platform.cards.default_backend,
            )
            cards.personalise(platform, card.serial, settings.operator_pin, msp_id=OPERATOR_MSP)
        if not platform.bootstrapped():
            request = {
                "id": OPERATOR,
                "name": operator_name,
                "name_en": operator_name_en,
                "environment": settings.env,
                "documents": settings.documents,  # #21: the chaincode's documents rule
                # the portal's read identity, registered with the operator: queries only
                "reader_certificate_pem": platform.reader.identity.certificate_pem.decode(),
            }
            platform.submit(platform.actor(OPERATOR), "Bootstrap", request, pin=settings.operator_pin)
        make_document_signer(platform)  # here, once: never by the first certificates asked for at once
    except BaseException:
        platform.close()
        raise
    return platform


OPERATOR_MSP = ROLE_MSP["operator"]


def _organisation_cas(settings: Settings, keystore: KeyStore, orgs_root: Path) -> OrgCA:
    """The operator's CA, held in the data directory; every other organisation's CA in its own
    folder (GOLDTICKET_ORGS_DIR, the folder recorded, else under ``orgs_root``), the data
    directory trusting its certificate only (:func:`consortium_cas`)."""
    folders = {
        msp_id: (name, organisation_folder(settings, keystore, msp_id, default_root=orgs_root))
        for msp_id, name in ORGANISATIONS.items()
        if msp_id != OPERATOR_MSP
    }
    try:
        cas = consortium_cas(
            keystore,
            OPERATOR_MSP,
            ORGANISATIONS[OPERATOR_MSP],
            folders,
            trusted=set(folders),
            pkcs11_module=ca_token_module(settings.pkcs11_module),
        )
    except CertificateError as error:
        raise ConfigError(str(error)) from None
    return cas[OPERATOR_MSP]


def _check_operator_backup(platform: Platform) -> None:
    """GOLDTICKET_OPERATOR_PASSWORD and _PIN must open the operator card's seed backup: a
    password that does not would seal new backups no one can open with the old ones."""
    card = platform.cards.registry.active_card(OPERATOR)
    if card.backup is None:
        return
    try:
        open_backup(
            card.backup,
            operator_password=platform.settings.operator_password,
            pin=platform.settings.operator_pin,
            keys=platform.cards.backup_keys,
        )
    except BackupError as error:
        raise ConfigError(
            "GOLDTICKET_OPERATOR_PASSWORD and GOLDTICKET_OPERATOR_PIN do not open the seed backup"
            f" of the operator's card in {platform.settings.data_dir}: give the ones of the first init"
        ) from error


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
