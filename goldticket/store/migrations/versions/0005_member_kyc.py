"""member_kyc: each member's KYC record (#21), whose SHA-256 the ledger keeps on the member

Revision ID: 0005_member_kyc
Revises: 0004_certificate_downloads
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_member_kyc"
down_revision = "0004_certificate_downloads"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "member_kyc",
        sa.Column("member_id", sa.String(length=64), nullable=False),
        sa.Column("doc", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("member_id"),
    )


def downgrade() -> None:
    op.drop_table("member_kyc")
