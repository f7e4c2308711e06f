"""The portal: the platform (ledger, cards, keys) plus its own database and the follower that
projects ledger blocks into the read model. The web application holds one per process.
``goldticket init`` makes one with ``setup.init_portal``.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from typing import Any

from goldticket.settings import Settings
from goldticket.store.database import Database
from goldticket.store.models import ApplicationRow, MemberRow, OfferRow, TicketRow
from goldticket.store.projection import Follower

from .observed import ObservedSigning
from .platform import Platform


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
        return cls.around(Platform.open(settings))

    @classmethod
    def around(cls, platform: Platform) -> Portal:
        """The portal of an open ``platform``: its database migrated, its signing observed."""
        database = Database(platform.settings.portal_database_url)
        try:
            database.migrate()
        except Exception:
            platform.close()
            database.close()
            raise
        platform.signing = ObservedSigning(platform.signing)
        platform.use_database(database)
        if platform.ledger.kind == "fabric":
            platform.read_model = functools.partial(read_model_record, database)
        return cls(platform, database, Follower(database, platform.ledger))

    def close(self) -> None:
        self.database.close()
        self.platform.close()


RECORD_ROWS: dict[str, Any] = {
    "member": MemberRow,
    "ticket": TicketRow,
    "offer": OfferRow,
    "application": ApplicationRow,
}


def read_model_record(database: Database, kind: str, key: str) -> dict[str, Any] | None:
    """The read model's copy of a ledger record (None when not projected yet): where the
    access checks read first on Fabric (``Platform.lookup``)."""
    with database.session() as session:
        row = session.get(RECORD_ROWS[kind], key)
        return json.loads(row.doc) if row is not None else None
