"""The signing side kept on this machine, opened from the settings: the card registry, the card
backends (PKCS#11 when a module is there, software otherwise), the audit log and the signing
service, and the key of the seed backups' outer layer."""

from __future__ import annotations

import dataclasses

from goldticket.settings import ConfigError, Settings
from goldticket.signing.audit import AuditLog
from goldticket.signing.backup_keys import BackupKeys, CardPins, SoftwareBackupKeys, TokenBackupKeys
from goldticket.signing.cards.interfaces import CardFactory
from goldticket.signing.cards.pkcs11 import Pkcs11CardFactory, default_module_path
from goldticket.signing.cards.software import SoftwareCardFactory
from goldticket.signing.intents import DEV_TIME_WINDOW, PROD_TIME_WINDOW, Deployment
from goldticket.signing.registry import CardRegistry
from goldticket.signing.service import SigningService


@dataclasses.dataclass
class Cards:
    """The signing side kept on this machine: registry, card backends, audit log, service."""

    registry: CardRegistry
    factories: dict[str, CardFactory]
    default_backend: str
    service: SigningService
    backup_keys: BackupKeys  # the outer seed-backup layer's key: the operator token, or the fallback
    pins: CardPins  # the operator's PIN key, as every card here sees its PIN (docs/decisions.md)

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
        # The cards whose files live here take their PIN through the operator's PIN key (the same
        # keeper as the backup key): SoftHSM2 tokens and software cards. A real card or HSM
        # (a module without a token directory) counts its own wrong PINs and takes the PIN as is.
        pins = CardPins(backup_keys, settings.operator_password)
        for factory in factories.values():
            if not isinstance(factory, Pkcs11CardFactory) or factory.token_dir is not None:
                factory.pins = pins
        return cls(registry, factories, backend, service, backup_keys, pins)
