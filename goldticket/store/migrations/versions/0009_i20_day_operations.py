"""rm_operations: the maker-checker operations (#20) in the read model, for the navigation's
count of what waits for a reviewer. The checkpoint is reset so the follower projects every block
again (its writes are upserts and a block projected again writes no notification twice): the
operations prepared before this revision are projected too.

Revision ID: 0009_i20_day_operations
Revises: 0008_i20_maker_history
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_i20_day_operations"
down_revision = "0008_i20_maker_history"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rm_operations",
        sa.Column("id", sa.String(length=32), primary_key=True),
        sa.Column("member_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("maker_user", sa.String(length=128), nullable=False),
        sa.Column("expires_on", sa.String(length=10), nullable=False),
        sa.Column("doc", sa.Text(), nullable=False),
    )
    op.create_index("ix_rm_operations_member_status", "rm_operations", ["member_id", "status", "expires_on"])
    op.execute("DELETE FROM checkpoint")


def downgrade() -> None:
    op.drop_index("ix_rm_operations_member_status", table_name="rm_operations")
    op.drop_table("rm_operations")
