"""Migration 0003 (#20): a read model made before it gets the invoice numbers of the tickets it
already holds (searchable at once, no rebuild), and its new indexes."""

from __future__ import annotations

import json
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import inspect, text

from goldticket.store.database import MIGRATIONS, Database


def _upgrade(database: Database, target: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, target)


def test_an_older_read_model_gets_its_tickets_invoice_numbers(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'portal.sqlite'}")
    try:
        _upgrade(database, "0002_activation")
        doc = {
            "id": "TK1",
            "invoices": [{"number": "FP-7", "amount_fen": 1}, {"number": "FP-8", "amount_fen": 2}],
        }
        with database.engine.begin() as connection:
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
            numbers = connection.execute(text("SELECT invoice_numbers FROM rm_tickets")).scalar_one()
        assert numbers == "FP-7 FP-8"
        indexes = {index["name"] for index in inspect(database.engine).get_indexes("rm_tickets")}
        assert {"ix_rm_tickets_holder_maturity", "ix_rm_tickets_holder_amount"} <= indexes
    finally:
        database.close()
