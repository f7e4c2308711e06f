"""rm_invoice_numbers: each ticket's invoice numbers (normalised), indexed by number, so that the
search before funding finds the financings of an invoice without reading every application
(#21); filled from the tickets the read model already holds

Revision ID: 0010_i21_account_invoice_index
Revises: 0009_i21_account_kyc_records
"""

from __future__ import annotations

import json
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0010_i21_account_invoice_index"
down_revision = "0009_i21_account_kyc_records"
branch_labels = None
depends_on = None


def _normalised(number: str) -> str:
    # goldticket.domain.normalise_invoice_number as of this migration (a migration keeps its own)
    return " ".join(unicodedata.normalize("NFKC", number).split()).upper()


def upgrade() -> None:
    op.create_table(
        "rm_invoice_numbers",
        sa.Column("ticket_id", sa.String(length=32), nullable=False),
        sa.Column("number", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("ticket_id", "number"),
    )
    op.create_index("ix_rm_invoice_numbers_number", "rm_invoice_numbers", ["number", "ticket_id"])
    tickets = sa.table("rm_tickets", sa.column("id"), sa.column("doc"))
    numbers = sa.table("rm_invoice_numbers", sa.column("number"), sa.column("ticket_id"))
    connection = op.get_bind()
    rows = []
    for ticket_id, doc in connection.execute(sa.select(tickets.c.id, tickets.c.doc)).all():
        found = {_normalised(str(item.get("number", ""))) for item in json.loads(doc).get("invoices", [])}
        rows += [{"number": number, "ticket_id": ticket_id} for number in sorted(found - {""})]
    if rows:
        connection.execute(numbers.insert(), rows)


def downgrade() -> None:
    op.drop_index("ix_rm_invoice_numbers_number", table_name="rm_invoice_numbers")
    op.drop_table("rm_invoice_numbers")
