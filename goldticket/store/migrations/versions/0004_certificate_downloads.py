"""certificate_downloads: each download by its requesting user, counted by every worker for the
hourly limit

Revision ID: 0004_certificate_downloads
Revises: 0003_ticket_search
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_certificate_downloads"
down_revision = "0003_ticket_search"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "certificate_downloads",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("member_id", sa.String(length=64), nullable=False),
        sa.Column("ticket_id", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("certificate_downloads", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_certificate_downloads_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_certificate_downloads_username"), ["username"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("certificate_downloads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_certificate_downloads_username"))
        batch_op.drop_index(batch_op.f("ix_certificate_downloads_at"))
    op.drop_table("certificate_downloads")
