"""The portal: the platform (ledger, cards, keystore) plus its own database and the follower
that projects ledger blocks into the read model. The web application holds one per process.
"""

from __future__ import annotations

import dataclasses

from goldticket.settings import Settings
from goldticket.store.database import Database
from goldticket.store.projection import Follower

from .platform import OPERATOR, Platform


@dataclasses.dataclass
class Portal:
    platform: Platform
    database: Database
    follower: Follower

    @property
    def settings(self) -> Settings:
        return self.platform.settings

    @classmethod
    def open(cls, settings: Settings) -> Portal:
        """The portal on an initialised data directory; migrates the database (idempotent)."""
        platform = Platform.open(settings)
        return cls._around(platform)

    @classmethod
    def init(cls, settings: Settings) -> Portal:
        """``goldticket init``: the platform, the database, and the operator's login account
        (password GOLDTICKET_OPERATOR_PASSWORD). Idempotent."""
        from . import accounts

        def login(platform: Platform) -> None:
            database = Database(platform.settings.portal_database_url)
            try:
                database.migrate()
                portal = cls(platform, database, Follower(database, platform.ledger))
                accounts.ensure_account(
                    portal,
                    username=OPERATOR,
                    org_id=OPERATOR,
                    role="admin",
                    password=platform.settings.operator_password,
                )
            finally:
                database.close()

        return cls._around(Platform.init(settings, then=login))

    @classmethod
    def _around(cls, platform: Platform) -> Portal:
        database = Database(platform.settings.portal_database_url)
        try:
            database.migrate()
        except Exception:
            platform.close()
            database.close()
            raise
        from .idempotency import ObservedSigning

        platform.signing = ObservedSigning(platform.signing)
        return cls(platform, database, Follower(database, platform.ledger))

    def close(self) -> None:
        self.database.close()
        self.platform.close()
