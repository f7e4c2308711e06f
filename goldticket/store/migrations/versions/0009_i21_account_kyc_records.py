"""kyc_records: the KYC records a member's admin asked to register instead of its current one
(a change of settlement account, #21), by SHA-256

Revision ID: 0009_i21_account_kyc_records
Revises: 0008_i20_maker_history
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_i21_account_kyc_records"
down_revision = "0009_i20_day_operations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kyc_records",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("member_id", sa.String(length=64), nullable=False),
        sa.Column("doc", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sha256"),
    )
    op.create_index("ix_kyc_records_member_id", "kyc_records", ["member_id"])


def downgrade() -> None:
    op.drop_index("ix_kyc_records_member_id", table_name="kyc_records")
    op.drop_table("kyc_records")
