"""accounts, tokens, idempotency and the read model

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "accounts",
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("username"),
    )
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_accounts_org_id"), ["org_id"], unique=False)

    op.create_table(
        "checkpoint",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("next_block", sa.BigInteger(), nullable=False),
        sa.Column("block_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "idempotency",
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("owner", sa.String(length=128), nullable=False),
        sa.Column("tx_ids", sa.Text(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("username", "key"),
    )
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_failures_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_login_failures_client"), ["client"], unique=False)
        batch_op.create_index(batch_op.f("ix_login_failures_username"), ["username"], unique=False)

    op.create_table(
        "rm_applications",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("ticket_id", sa.String(length=32), nullable=False),
        sa.Column("doc", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("rm_applications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rm_applications_ticket_id"), ["ticket_id"], unique=False)

    op.create_table(
        "rm_credit_lines",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("bank_org_id", sa.String(length=64), nullable=False),
        sa.Column("core_org_id", sa.String(length=64), nullable=False),
        sa.Column("doc", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("rm_credit_lines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rm_credit_lines_bank_org_id"), ["bank_org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_rm_credit_lines_core_org_id"), ["core_org_id"], unique=False)

    op.create_table(
        "rm_history",
        sa.Column("ticket_id", sa.String(length=32), nullable=False),
        sa.Column("tx_id", sa.String(length=64), nullable=False),
        sa.Column("block", sa.BigInteger(), nullable=False),
        sa.Column("txnum", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("by_org_id", sa.String(length=64), nullable=False),
        sa.Column("by_user", sa.String(length=64), nullable=False),
        sa.Column("card_serial", sa.String(length=64), nullable=False),
        sa.Column("timestamp", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("ticket_id", "tx_id"),
    )
    op.create_table(
        "rm_members",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("doc", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "rm_offers",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("ticket_id", sa.String(length=32), nullable=False),
        sa.Column("doc", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("rm_offers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rm_offers_ticket_id"), ["ticket_id"], unique=False)

    op.create_table(
        "rm_participants",
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("root_id", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("org_id", "root_id"),
        sa.UniqueConstraint("root_id", "org_id", name="uq_rm_participants_root_org"),
    )
    op.create_table(
        "rm_tickets",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("root_id", sa.String(length=32), nullable=False),
        sa.Column("parent_id", sa.String(length=32), nullable=True),
        sa.Column("issuer_org_id", sa.String(length=64), nullable=False),
        sa.Column("holder_org_id", sa.String(length=64), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("maturity_date", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("block", sa.BigInteger(), nullable=False),
        sa.Column("doc", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("rm_tickets", schema=None) as batch_op:
        batch_op.create_index("ix_rm_tickets_holder_status", ["holder_org_id", "status", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_rm_tickets_root_id"), ["root_id"], unique=False)
        batch_op.create_index("ix_rm_tickets_status", ["status", "id"], unique=False)

    op.create_table(
        "tokens",
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("token_sha256"),
    )
    with op.batch_alter_table("tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tokens_username"), ["username"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tokens_username"))

    op.drop_table("tokens")
    with op.batch_alter_table("rm_tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_rm_tickets_status")
        batch_op.drop_index(batch_op.f("ix_rm_tickets_root_id"))
        batch_op.drop_index("ix_rm_tickets_holder_status")

    op.drop_table("rm_tickets")
    op.drop_table("rm_participants")
    with op.batch_alter_table("rm_offers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rm_offers_ticket_id"))

    op.drop_table("rm_offers")
    op.drop_table("rm_members")
    op.drop_table("rm_history")
    with op.batch_alter_table("rm_credit_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rm_credit_lines_core_org_id"))
        batch_op.drop_index(batch_op.f("ix_rm_credit_lines_bank_org_id"))

    op.drop_table("rm_credit_lines")
    with op.batch_alter_table("rm_applications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rm_applications_ticket_id"))

    op.drop_table("rm_applications")
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_failures_username"))
        batch_op.drop_index(batch_op.f("ix_login_failures_client"))
        batch_op.drop_index(batch_op.f("ix_login_failures_at"))

    op.drop_table("login_failures")
    op.drop_table("idempotency")
    op.drop_table("checkpoint")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_accounts_org_id"))

    op.drop_table("accounts")
