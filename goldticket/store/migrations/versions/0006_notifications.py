"""notifications: each ledger event told to each member concerned (#20 inbox), kept across a
rebuild of the read model (not a projection table) and written once per event

Revision ID: 0006_notifications
Revises: 0005_member_kyc
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_notifications"
down_revision = "0005_member_kyc"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("member_id", sa.String(length=64), nullable=False),
        sa.Column("tx_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("ticket_id", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.String(length=32), nullable=False),
        sa.Column("other_org_id", sa.String(length=64), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("block", sa.BigInteger(), nullable=False),
        sa.Column("txnum", sa.Integer(), nullable=False),
        sa.Column("timestamp", sa.String(length=40), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("member_id", "tx_id", "kind", "ticket_id", name="uq_notifications_event"),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index("ix_notifications_member_block", ["member_id", "block", "txnum"], unique=False)
        batch_op.create_index("ix_notifications_member_read", ["member_id", "read_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_member_read")
        batch_op.drop_index("ix_notifications_member_block")
    op.drop_table("notifications")
