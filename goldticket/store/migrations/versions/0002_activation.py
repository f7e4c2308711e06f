"""accounts: a one-time activation code (its SHA-256 and when it expires) until the user sets
their own password

Revision ID: 0002_activation
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_activation"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("activation_sha256", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("activation_expires_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("activation_expires_at")
        batch_op.drop_column("activation_sha256")
