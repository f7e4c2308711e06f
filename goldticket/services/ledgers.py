"""Which ledger the platform talks to: the embedded one, or a Fabric channel."""

from __future__ import annotations

from goldticket.ledger import Ledger, LedgerError, open_local_ledger
from goldticket.settings import ConfigError, Settings
from goldticket.signing.keystore import KeyStore


def open_ledger(settings: Settings, keystore: KeyStore, msps: dict[str, bytes] | None = None) -> Ledger:
    """The ledger GOLDTICKET_LEDGER names: the embedded one under the data directory (created
    trusting ``msps`` when missing), or the Fabric channel of the connection profile
    ``make network-up`` wrote. Raises ConfigError."""
    try:
        if settings.ledger == "local":
            return open_local_ledger(
                settings.data_dir,
                msps,
                check_time=settings.env == "prod",
                environment=settings.env,
                shared_commit=settings.ledger_shared_commit,
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
