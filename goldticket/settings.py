"""Every setting, each from one GOLDTICKET_* environment variable with a type and a default."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import socket
from collections.abc import Mapping
from pathlib import Path


class ConfigError(Exception):
    """A setting has a value GoldTicket cannot use."""

    code = "invalid_input"


class ProductionRefusedError(ConfigError):
    """A production data directory refuses what only a dev or test one allows (a set clock,
    weak secrets)."""

    code = "forbidden"


LEDGERS = ("local", "fabric")
ENVIRONMENT_FILE = "environment.json"  # in the data directory, written by ``goldticket init``
ENVIRONMENTS = ("prod", "dev", "test")
DOCUMENT_RULES = ("required", "optional")
# The consortium's organisations (MSP ID -> the name on its CA) and the organisation each member
# role belongs to: suppliers are onboarded under the operator's organisation.
ORGANISATIONS = {"OperatorMSP": "GoldTicket Operator", "CoreMSP": "Core Enterprises", "BankMSP": "Banks"}
ROLE_MSP = {"operator": "OperatorMSP", "supplier": "OperatorMSP", "core": "CoreMSP", "bank": "BankMSP"}
# Where `goldticket serve` listens: GOLDTICKET_HOST, GOLDTICKET_PORT (its --host, --port).
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
WILDCARD_HOSTS = ("", "0.0.0.0", "::", "[::]")


def listen_port(text: str | None) -> int:
    """GOLDTICKET_PORT as a number (DEFAULT_PORT when unset). Raises ConfigError."""
    if not text:
        return DEFAULT_PORT
    try:
        port = int(text)
    except ValueError:
        port = 0
    if not 1 <= port <= 65535:
        raise ConfigError("GOLDTICKET_PORT must be a port number from 1 to 65535")
    return port


def served_url(host: str, port: int) -> str:
    """The portal's URL when served on ``host``:``port``: the default GOLDTICKET_PUBLIC_URL.
    Listening on every interface (0.0.0.0, ::) it names this machine by its host name, which
    others on the network can reach; a literal IPv6 address goes in brackets."""
    if host in WILDCARD_HOSTS:
        host = socket.gethostname()
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


@dataclasses.dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("var")  # GOLDTICKET_DATA_DIR
    ledger: str = "local"  # GOLDTICKET_LEDGER: local | fabric
    # GOLDTICKET_LEDGER_SHARED_COMMIT: 1 = the processes on one embedded ledger share one group
    # commit (a leader elected by a lock file), so one FULL fsync carries all their transactions
    ledger_shared_commit: bool = False
    env: str = "prod"  # GOLDTICKET_ENV: prod | dev | test
    today: dt.date | None = None  # GOLDTICKET_TODAY (dev and test only)
    # GOLDTICKET_DOCUMENTS: required | optional, recorded by the ledger's bootstrap only (#21):
    # required, the chaincode refuses an issue, transfer offer or financing application that
    # does not record its signed document; optional is for measuring the ledger alone (bench/)
    documents: str = "required"
    channel: str = "goldticket"  # GOLDTICKET_CHANNEL
    chaincode: str = "goldticket"  # GOLDTICKET_CHAINCODE
    fabric_profile: Path | None = None  # GOLDTICKET_FABRIC_PROFILE (None = <data dir>/fabric/...)
    card_backend: str = ""  # GOLDTICKET_CARD_BACKEND: pkcs11 | software ("" = pkcs11 where a module is found)
    pkcs11_module: str = ""  # GOLDTICKET_PKCS11_MODULE ("" = SoftHSM2 where installed)
    card_kdf_n: int = 2**15  # GOLDTICKET_CARD_KDF_N: scrypt cost of software cards and seed backups
    signer_url: str = ""  # GOLDTICKET_SIGNER_URL: a running signing gateway ("" = in-process)
    signer_rate: float = 10.0  # GOLDTICKET_SIGNER_RATE: signatures a second one card may make (burst 3x)
    signer_secret: str = dataclasses.field(default="", repr=False)  # GOLDTICKET_SIGNER_SECRET
    signer_tls_dir: Path | None = None  # GOLDTICKET_SIGNER_TLS_DIR (None = <data dir>/signer-tls)
    # GOLDTICKET_ORGS_DIR: the other organisations' own folders (None = <data dir>-orgs beside it)
    orgs_dir: Path | None = None
    # GOLDTICKET_REGISTRY_DIR: the registry adapter's outbox/ and inbox/ (None = <data dir>/registry)
    registry_dir: Path | None = None
    operator_password: str = dataclasses.field(default="", repr=False)  # GOLDTICKET_OPERATOR_PASSWORD
    operator_pin: str = dataclasses.field(default="", repr=False)  # GOLDTICKET_OPERATOR_PIN
    # GOLDTICKET_DATABASE_URL: the portal's database ("" = SQLite portal.sqlite in data_dir)
    database_url: str = dataclasses.field(default="", repr=False)
    token_ttl: int = 8 * 3600  # GOLDTICKET_TOKEN_TTL: seconds an API token lives
    password_memory_kib: int = 65536  # GOLDTICKET_PASSWORD_MEMORY_KIB: argon2id memory cost of new hashes
    # GOLDTICKET_PUBLIC_URL: where the portal is reached from outside (certificates' QR codes);
    # unset, the URL `goldticket serve` listens on (GOLDTICKET_HOST, GOLDTICKET_PORT)
    public_url: str = "http://127.0.0.1:8000"
    # the operations console's alerts: the newest block older than this many minutes, the
    # read-model follower more than this many blocks behind the ledger
    ops_block_age_minutes: float = 60.0  # GOLDTICKET_OPS_BLOCK_AGE_MINUTES
    ops_follower_lag_blocks: int = 10  # GOLDTICKET_OPS_FOLLOWER_LAG_BLOCKS
    # Notices delivered by e-mail and webhook (goldticket.services.notify, #20): off unless set.
    # GOLDTICKET_NOTIFY_SECONDS: the web app's delivery thread runs every so many seconds (0 = no
    # thread; `goldticket notify run` delivers instead)
    notify_seconds: float = 0.0
    smtp_host: str = ""  # GOLDTICKET_SMTP_HOST ("" = no e-mail is sent; deliveries wait)
    smtp_port: int = 25  # GOLDTICKET_SMTP_PORT
    smtp_starttls: bool = False  # GOLDTICKET_SMTP_STARTTLS: 1 = STARTTLS before logging in
    smtp_user: str = ""  # GOLDTICKET_SMTP_USER ("" = no login)
    smtp_password: str = dataclasses.field(default="", repr=False)  # GOLDTICKET_SMTP_PASSWORD
    smtp_from: str = "goldticket@localhost"  # GOLDTICKET_SMTP_FROM
    webhook_timeout: float = 10.0  # GOLDTICKET_WEBHOOK_TIMEOUT: seconds a receiver has to answer
    notify_max_attempts: int = 8  # GOLDTICKET_NOTIFY_MAX_ATTEMPTS: then the delivery is failed
    notify_backoff_seconds: float = (
        30.0  # GOLDTICKET_NOTIFY_BACKOFF_SECONDS: first retry's wait, doubled each time
    )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Read the environment; keyword overrides win. Raises ConfigError."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {
            "data_dir": Path(env.get("GOLDTICKET_DATA_DIR", "var")),
            "ledger": env.get("GOLDTICKET_LEDGER", "local"),
            "ledger_shared_commit": env.get("GOLDTICKET_LEDGER_SHARED_COMMIT", "") in ("1", "true", "yes"),
            "env": env.get("GOLDTICKET_ENV", "prod"),
            "documents": env.get("GOLDTICKET_DOCUMENTS", "required"),
            "channel": env.get("GOLDTICKET_CHANNEL", "goldticket"),
            "chaincode": env.get("GOLDTICKET_CHAINCODE", "goldticket"),
            "fabric_profile": Path(profile) if (profile := env.get("GOLDTICKET_FABRIC_PROFILE")) else None,
            "card_backend": env.get("GOLDTICKET_CARD_BACKEND", ""),
            "pkcs11_module": env.get("GOLDTICKET_PKCS11_MODULE", ""),
            "signer_url": env.get("GOLDTICKET_SIGNER_URL", ""),
            "signer_secret": env.get("GOLDTICKET_SIGNER_SECRET", ""),
            "signer_tls_dir": Path(tls) if (tls := env.get("GOLDTICKET_SIGNER_TLS_DIR")) else None,
            "orgs_dir": Path(orgs) if (orgs := env.get("GOLDTICKET_ORGS_DIR")) else None,
            "registry_dir": Path(reg) if (reg := env.get("GOLDTICKET_REGISTRY_DIR")) else None,
            "operator_password": env.get("GOLDTICKET_OPERATOR_PASSWORD", ""),
            "operator_pin": env.get("GOLDTICKET_OPERATOR_PIN", ""),
            "database_url": env.get("GOLDTICKET_DATABASE_URL", ""),
            "smtp_host": env.get("GOLDTICKET_SMTP_HOST", ""),
            "smtp_starttls": env.get("GOLDTICKET_SMTP_STARTTLS", "") in ("1", "true", "yes"),
            "smtp_user": env.get("GOLDTICKET_SMTP_USER", ""),
            "smtp_password": env.get("GOLDTICKET_SMTP_PASSWORD", ""),
            "smtp_from": env.get("GOLDTICKET_SMTP_FROM", "goldticket@localhost"),
            "public_url": env.get("GOLDTICKET_PUBLIC_URL")
            or served_url(
                env.get("GOLDTICKET_HOST") or DEFAULT_HOST, listen_port(env.get("GOLDTICKET_PORT"))
            ),
        }
        for name, variable in (
            ("token_ttl", "TOKEN_TTL"),
            ("password_memory_kib", "PASSWORD_MEMORY_KIB"),
            ("ops_follower_lag_blocks", "OPS_FOLLOWER_LAG_BLOCKS"),
            ("smtp_port", "SMTP_PORT"),
            ("notify_max_attempts", "NOTIFY_MAX_ATTEMPTS"),
        ):
            text = env.get(f"GOLDTICKET_{variable}")
            if text:
                try:
                    values[name] = int(text)
                except ValueError as error:
                    raise ConfigError(f"GOLDTICKET_{variable} must be a whole number") from error
        rate = env.get("GOLDTICKET_SIGNER_RATE")
        if rate:
            try:
                values["signer_rate"] = float(rate)
            except ValueError as error:
                raise ConfigError("GOLDTICKET_SIGNER_RATE must be a number of signatures a second") from error
        for name, variable in (
            ("notify_seconds", "NOTIFY_SECONDS"),
            ("webhook_timeout", "WEBHOOK_TIMEOUT"),
            ("notify_backoff_seconds", "NOTIFY_BACKOFF_SECONDS"),
        ):
            text = env.get(f"GOLDTICKET_{variable}")
            if text:
                try:
                    values[name] = float(text)
                except ValueError as error:
                    raise ConfigError(f"GOLDTICKET_{variable} must be a number of seconds") from error
        block_age = env.get("GOLDTICKET_OPS_BLOCK_AGE_MINUTES")
        if block_age:
            try:
                values["ops_block_age_minutes"] = float(block_age)
            except ValueError as error:
                raise ConfigError("GOLDTICKET_OPS_BLOCK_AGE_MINUTES must be a number of minutes") from error
        kdf_n = env.get("GOLDTICKET_CARD_KDF_N")
        if kdf_n:
            try:
                values["card_kdf_n"] = int(kdf_n)
            except ValueError as error:
                raise ConfigError("GOLDTICKET_CARD_KDF_N must be a power of two") from error
        today = env.get("GOLDTICKET_TODAY")
        if today:
            try:
                values["today"] = dt.date.fromisoformat(today)
            except ValueError as error:
                raise ConfigError("GOLDTICKET_TODAY must be a date as YYYY-MM-DD") from error
        values.update(overrides)
        settings = cls(**values)  # type: ignore[arg-type]
        settings.check()
        return settings

    @property
    def signer_tls_path(self) -> Path:
        """The signing gateway's mutual-TLS files (``goldticket signer tls`` writes them)."""
        return self.signer_tls_dir or self.data_dir / "signer-tls"

    @property
    def registry_path(self) -> Path:
        """The file-based registry adapter's folder: outbox/ (filings) and inbox/ (answers)."""
        return self.registry_dir or self.data_dir / "registry"

    @property
    def orgs_path(self) -> Path:
        """Where the other organisations' own folders are (:func:`default_orgs_dir`)."""
        return self.orgs_dir or default_orgs_dir(self.data_dir)

    def organisation_folder(self, msp_id: str) -> Path:
        return self.orgs_path / msp_id

    @property
    def fabric_profile_path(self) -> Path:
        """The Fabric connection profile ``make network-up`` wrote for this data directory."""
        return self.fabric_profile or self.data_dir / "fabric" / "connection.json"

    def check(self) -> None:
        if self.ledger not in LEDGERS:
            raise ConfigError(f"GOLDTICKET_LEDGER must be one of {', '.join(LEDGERS)}")
        if self.env not in ENVIRONMENTS:
            raise ConfigError(f"GOLDTICKET_ENV must be one of {', '.join(ENVIRONMENTS)}")
        if not 0 < self.signer_rate <= 100_000:
            raise ConfigError("GOLDTICKET_SIGNER_RATE must be above 0")
        if self.card_backend not in ("", "pkcs11", "software"):
            raise ConfigError("GOLDTICKET_CARD_BACKEND must be pkcs11 or software")
        if not 2**14 <= self.card_kdf_n <= 2**18 or self.card_kdf_n & (self.card_kdf_n - 1):
            raise ConfigError("GOLDTICKET_CARD_KDF_N must be a power of two from 16384 to 262144")
        if self.today is not None and self.env not in ("dev", "test"):
            raise ConfigError("GOLDTICKET_TODAY is only allowed when GOLDTICKET_ENV is dev or test")
        if self.documents not in DOCUMENT_RULES:
            raise ConfigError(f"GOLDTICKET_DOCUMENTS must be one of {', '.join(DOCUMENT_RULES)}")
        if self.documents != "required" and self.env not in ("dev", "test"):
            raise ConfigError(
                "GOLDTICKET_DOCUMENTS=optional is only allowed when GOLDTICKET_ENV is dev or test"
            )
        if not 60 <= self.token_ttl <= 30 * 86400:
            raise ConfigError("GOLDTICKET_TOKEN_TTL must be from 60 seconds to 30 days")
        if not self.public_url.startswith(("http://", "https://")):
            raise ConfigError("GOLDTICKET_PUBLIC_URL must be an http:// or https:// URL")
        if not 8192 <= self.password_memory_kib <= 4 * 1024 * 1024:
            raise ConfigError("GOLDTICKET_PASSWORD_MEMORY_KIB must be from 8192 to 4194304")
        if not 0 < self.ops_block_age_minutes <= 7 * 24 * 60:
            raise ConfigError("GOLDTICKET_OPS_BLOCK_AGE_MINUTES must be above 0 and at most a week")
        if not 0 <= self.ops_follower_lag_blocks <= 1_000_000:
            raise ConfigError("GOLDTICKET_OPS_FOLLOWER_LAG_BLOCKS must be from 0 to 1000000")
        if not 0 <= self.notify_seconds <= 3600:
            raise ConfigError("GOLDTICKET_NOTIFY_SECONDS must be from 0 to 3600")
        if not 1 <= self.smtp_port <= 65535:
            raise ConfigError("GOLDTICKET_SMTP_PORT must be a port number from 1 to 65535")
        if not 0 < self.webhook_timeout <= 120:
            raise ConfigError("GOLDTICKET_WEBHOOK_TIMEOUT must be above 0 and at most 120 seconds")
        if not 1 <= self.notify_max_attempts <= 50:
            raise ConfigError("GOLDTICKET_NOTIFY_MAX_ATTEMPTS must be from 1 to 50")
        if not 0 <= self.notify_backoff_seconds <= 86400:
            raise ConfigError("GOLDTICKET_NOTIFY_BACKOFF_SECONDS must be from 0 to 86400")

    @property
    def portal_database_url(self) -> str:
        """GOLDTICKET_DATABASE_URL, or the SQLite file ``portal.sqlite`` in the data directory."""
        return self.database_url or f"sqlite:///{(self.data_dir / 'portal.sqlite').resolve()}"


def default_orgs_dir(data_dir: Path) -> Path:
    """The organisations' folders of the single-machine quick start: ``<data dir>-orgs`` beside
    the data directory, never inside it (the platform's directory holds no other organisation's
    key). A real deployment has each organisation's folder on that organisation's machine."""
    data_dir = Path(data_dir).absolute()
    return data_dir.with_name(f"{data_dir.name}-orgs")


def recorded_environment(data_dir: Path) -> str | None:
    """The environment ``init`` recorded in ``data_dir`` (prod, dev, test), or None."""
    path = Path(data_dir) / ENVIRONMENT_FILE
    if not path.exists():
        return None
    environment = json.loads(path.read_text(encoding="utf-8")).get("environment")
    return str(environment) if environment else None


def bind_environment(settings: Settings) -> Settings:
    """The settings with the environment of the data directory, whatever GOLDTICKET_ENV says:
    the environment belongs to the data (fixed at ``init``), not to whoever runs the process.
    A production directory refuses GOLDTICKET_TODAY. Raises ProductionRefusedError."""
    recorded = recorded_environment(settings.data_dir)
    if recorded is None:
        return settings
    if recorded == "prod" and settings.today is not None:
        raise ProductionRefusedError(
            f"{settings.data_dir} is a production data directory: its business date is today in"
            " China time; unset GOLDTICKET_TODAY"
        )
    if recorded == settings.env:
        return settings
    return dataclasses.replace(settings, env=recorded)
