"""notify_preferences and notify_deliveries: what each member has delivered by e-mail and
webhook, and the outbox of deliveries (#20), one per (notification, channel)

Revision ID: 0007_notify_outbox
Revises: 0006_notifications
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_notify_outbox"
down_revision = "0006_notifications"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notify_preferences",
        sa.Column("member_id", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("email_to", sa.Text(), nullable=False),
        sa.Column("email_kinds", sa.Text(), nullable=False),
        sa.Column("webhook_url", sa.Text(), nullable=False),
        sa.Column("webhook_kinds", sa.Text(), nullable=False),
        sa.Column("webhook_secret", sa.String(length=128), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("member_id"),
    )
    op.create_table(
        "notify_deliveries",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("notification_id", sa.String(length=32), nullable=False),
        sa.Column("member_id", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("notification_id", "channel", name="uq_notify_deliveries_notice_channel"),
    )
    with op.batch_alter_table("notify_deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_notify_deliveries_due", ["state", "next_attempt_at"], unique=False)
        batch_op.create_index("ix_notify_deliveries_member", ["member_id", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("notify_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_notify_deliveries_member")
        batch_op.drop_index("ix_notify_deliveries_due")
    op.drop_table("notify_deliveries")
    op.drop_table("notify_preferences")
