"""rm_history.maker_user: the user who prepared a transaction a reviewer signed (maker-checker,
#20); empty for a transaction signed alone

Revision ID: 0008_i20_maker_history
Revises: 0007_notify_outbox
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_i20_maker_history"
down_revision = "0007_notify_outbox"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("rm_history") as batch:
        batch.add_column(sa.Column("maker_user", sa.String(length=64), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("rm_history") as batch:
        batch.drop_column("maker_user")
