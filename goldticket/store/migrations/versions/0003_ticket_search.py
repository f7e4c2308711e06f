"""rm_tickets: the ticket's invoice numbers (searchable) and indexes for a member's book of
tickets filtered or sorted by maturity and by amount

Revision ID: 0003_ticket_search
Revises: 0002_activation
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0003_ticket_search"
down_revision = "0002_activation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("rm_tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("invoice_numbers", sa.Text(), nullable=False, server_default=""))
        batch_op.create_index("ix_rm_tickets_holder_maturity", ["holder_org_id", "maturity_date", "id"])
        batch_op.create_index("ix_rm_tickets_holder_amount", ["holder_org_id", "amount_fen", "id"])
    tickets = sa.table("rm_tickets", sa.column("id"), sa.column("doc"), sa.column("invoice_numbers"))
    connection = op.get_bind()
    for ticket_id, doc in connection.execute(sa.select(tickets.c.id, tickets.c.doc)).all():
        numbers = " ".join(str(item.get("number", "")) for item in json.loads(doc).get("invoices", []))
        connection.execute(tickets.update().where(tickets.c.id == ticket_id).values(invoice_numbers=numbers))


def downgrade() -> None:
    with op.batch_alter_table("rm_tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_rm_tickets_holder_amount")
        batch_op.drop_index("ix_rm_tickets_holder_maturity")
        batch_op.drop_column("invoice_numbers")
