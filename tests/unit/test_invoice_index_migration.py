"""Migration 0010_i21_account_invoice_index (#21): a read model made before it gets the
invoice numbers of the tickets it already holds, normalised, under the search's index (no
rebuild needed); a rebuild of the projection empties and refills it."""

from __future__ import annotations

import json
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import inspect, text

from goldticket.store.database import MIGRATIONS, Database
from goldticket.store.models import PROJECTION_TABLES, InvoiceNumberRow


def _upgrade(database: Database, target: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with database.engine.execution_options(immediate=True).begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, target)


def test_an_older_read_model_gets_its_tickets_invoice_numbers_indexed(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'portal.sqlite'}")
    try:
        _upgrade(database, "0009_i21_account_kyc_records")
        doc = {"id": "TK1", "invoices": [{"number": " fp-7 "}, {"number": "ＦＰ－８"}, {"number": "FP-7"}]}
        with database.engine.execution_options(immediate=True).begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO rm_tickets (id, root_id, issuer_org_id, holder_org_id, amount_fen,"
                    " maturity_date, status, block, doc) VALUES ('TK1', 'TK1', 'c', 'h', 3, '2027-01-01',"
                    " 'ACTIVE', 1, :doc)"
                ),
                {"doc": json.dumps(doc)},
            )
        database.migrate()
        with database.engine.connect() as connection:
            rows = connection.execute(
                text("SELECT number, ticket_id FROM rm_invoice_numbers ORDER BY number")
            ).all()
        assert [tuple(row) for row in rows] == [("FP-7", "TK1"), ("FP-8", "TK1")]
        indexes = {index["name"] for index in inspect(database.engine).get_indexes("rm_invoice_numbers")}
        assert "ix_rm_invoice_numbers_number" in indexes
        assert InvoiceNumberRow in PROJECTION_TABLES  # a rebuild drops it with the rest
    finally:
        database.close()
