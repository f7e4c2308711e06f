"""The portal's own tables: accounts, tokens, login failures, certificate downloads, idempotency records,
members' notifications, and the read model projected from ledger blocks (tickets, offers, financing applications, credit
lines, members, history, who takes part in which ticket tree) with its checkpoint.

Money columns are BigInteger fen; ledger documents are kept whole as JSON text next to the
columns that lists filter and sort on.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, DateTime, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Account(Base):
    """A person who logs in: the username is the user's id, shared with the card registry.
    Until the user activates the account, ``password_hash`` opens nothing and only the
    activation code (kept as its SHA-256, until it expires) works, once."""

    __tablename__ = "accounts"
    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    org_id: Mapped[str] = mapped_column(String(64), index=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    activation_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    activation_expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Token(Base):
    """An API token, kept only as its SHA-256."""

    __tablename__ = "tokens"
    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class LoginFailure(Base):
    """One failed login, counted per username and per client address over a window."""

    __tablename__ = "login_failures"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    client: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)


class CertificateDownload(Base):
    """One certificate download, by the requesting user: the per-user hourly limit counts
    these rows (every gunicorn worker sees the same), and they stay as its audit trail."""

    __tablename__ = "certificate_downloads"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    member_id: Mapped[str] = mapped_column(String(64))
    ticket_id: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)


class MemberKyc(Base):
    """A member's KYC record (goldticket.domain.kyc) as registered: the ledger's member record
    keeps its SHA-256 (``kyc_sha256``), the operator and the member's own users read it here."""

    __tablename__ = "member_kyc"
    member_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    doc: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class KycRecord(Base):
    """A KYC record a member's admin asked to register instead of its current one (a change of
    settlement account, #21), by its SHA-256: the ledger's change names the hash, the operator
    reads the record here before it confirms, and once the ledger's member record keeps that
    hash it is the member's registered record (goldticket.services.kyc_records)."""

    __tablename__ = "kyc_records"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(64), index=True)
    doc: Mapped[str] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class IdempotencyRecord(Base):
    """A write made under an Idempotency-Key: the request's fingerprint (the body without the
    PIN), the ledger transaction once its proposal is signed, and the response once done."""

    __tablename__ = "idempotency"
    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))  # pending | done
    owner: Mapped[str] = mapped_column(String(128))
    tx_ids: Mapped[str] = mapped_column(Text, default="")
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    response: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class Notification(Base):
    """One event of the ledger told to one member (goldticket.store.notices): written by the
    follower as it projects the block, read and marked read by the member's users. Not a
    projection table: a rebuild keeps the rows and their read state, and the key made of
    (member_id, tx_id, kind, ticket_id) (the ``id`` is its digest) writes each one once."""

    __tablename__ = "notifications"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(64))
    tx_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    ticket_id: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str] = mapped_column(String(32))  # the offer or application, else ""
    other_org_id: Mapped[str] = mapped_column(String(64))  # the counterparty
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    block: Mapped[int] = mapped_column(BigInteger)
    txnum: Mapped[int] = mapped_column(Integer)
    timestamp: Mapped[str] = mapped_column(String(40))  # the transaction's, ISO in UTC
    read_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    __table_args__ = (
        UniqueConstraint("member_id", "tx_id", "kind", "ticket_id", name="uq_notifications_event"),
        Index("ix_notifications_member_block", "member_id", "block", "txnum"),
        Index("ix_notifications_member_read", "member_id", "read_at"),
    )


class NotifyPreference(Base):
    """What a member has its notices delivered by e-mail and by webhook (#20), set by its own
    admin (goldticket.services.notify.preferences). Kinds are space-separated notice kinds
    (goldticket.store.notices.KINDS). ``webhook_secret`` signs the webhook's requests: made by
    the platform, shown once, never logged nor answered again."""

    __tablename__ = "notify_preferences"
    member_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    language: Mapped[str] = mapped_column(String(8))  # zh | en: the e-mails' language
    email_to: Mapped[str] = mapped_column(Text)  # addresses, comma-separated ("" = none)
    email_kinds: Mapped[str] = mapped_column(Text)
    webhook_url: Mapped[str] = mapped_column(Text)  # "" = none
    webhook_kinds: Mapped[str] = mapped_column(Text)
    webhook_secret: Mapped[str] = mapped_column(String(128))
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    def __repr__(self) -> str:  # never the secret
        return f"NotifyPreference(member_id={self.member_id!r})"


class Delivery(Base):
    """One notice to deliver by one channel (the outbox, #20). Its id is a digest of
    (notification, channel): the same notice is never queued twice for a channel, and a
    receiver deduplicates on it. ``lease_until`` is set while a worker sends it; a worker that
    died leaves it to expire and the delivery is sent again, with the same id."""

    __tablename__ = "notify_deliveries"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    notification_id: Mapped[str] = mapped_column(String(32))
    member_id: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(8))  # email | webhook
    state: Mapped[str] = mapped_column(String(12))  # pending | delivered | failed | cancelled
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    lease_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_error: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    __table_args__ = (
        UniqueConstraint("notification_id", "channel", name="uq_notify_deliveries_notice_channel"),
        Index("ix_notify_deliveries_due", "state", "next_attempt_at"),
        Index("ix_notify_deliveries_member", "member_id", "created_at"),
    )


class Checkpoint(Base):
    """How far the follower has projected: the next block to read and the last block's hash."""

    __tablename__ = "checkpoint"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    next_block: Mapped[int] = mapped_column(BigInteger)
    block_hash: Mapped[str] = mapped_column(String(64))


class MemberRow(Base):
    __tablename__ = "rm_members"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    doc: Mapped[str] = mapped_column(Text)


class TicketRow(Base):
    __tablename__ = "rm_tickets"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    root_id: Mapped[str] = mapped_column(String(32), index=True)
    parent_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    issuer_org_id: Mapped[str] = mapped_column(String(64))
    holder_org_id: Mapped[str] = mapped_column(String(64))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    maturity_date: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(32))
    block: Mapped[int] = mapped_column(BigInteger)
    doc: Mapped[str] = mapped_column(Text)
    # the ticket's invoice numbers, space-separated: what a clerk searches by invoice number
    invoice_numbers: Mapped[str] = mapped_column(Text, default="", server_default="")
    __table_args__ = (
        Index("ix_rm_tickets_holder_status", "holder_org_id", "status", "id"),
        Index("ix_rm_tickets_status", "status", "id"),
        Index("ix_rm_tickets_holder_maturity", "holder_org_id", "maturity_date", "id"),
        Index("ix_rm_tickets_holder_amount", "holder_org_id", "amount_fen", "id"),
    )


class InvoiceNumberRow(Base):
    """One invoice number (normalised: goldticket.domain.normalise_invoice_number) of a ticket:
    the search before funding finds the financings of an invoice through its index (#21)."""

    __tablename__ = "rm_invoice_numbers"
    ticket_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    number: Mapped[str] = mapped_column(String(128), primary_key=True)
    # the search's index: by number, the ticket ids in it (covering: no row read)
    __table_args__ = (Index("ix_rm_invoice_numbers_number", "number", "ticket_id"),)


class HistoryRow(Base):
    __tablename__ = "rm_history"
    ticket_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tx_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    block: Mapped[int] = mapped_column(BigInteger)
    txnum: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32))
    by_org_id: Mapped[str] = mapped_column(String(64))
    by_user: Mapped[str] = mapped_column(String(64))
    card_serial: Mapped[str] = mapped_column(String(64))
    timestamp: Mapped[str] = mapped_column(String(40))
    # maker-checker (#20): who prepared what ``by_user`` (the reviewer) signed; "" when signed alone
    maker_user: Mapped[str] = mapped_column(String(64), default="", server_default="")


class OfferRow(Base):
    __tablename__ = "rm_offers"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    ticket_id: Mapped[str] = mapped_column(String(32), index=True)
    doc: Mapped[str] = mapped_column(Text)


class ApplicationRow(Base):
    __tablename__ = "rm_applications"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    ticket_id: Mapped[str] = mapped_column(String(32), index=True)
    doc: Mapped[str] = mapped_column(Text)


class CreditLineRow(Base):
    __tablename__ = "rm_credit_lines"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    bank_org_id: Mapped[str] = mapped_column(String(64), index=True)
    core_org_id: Mapped[str] = mapped_column(String(64), index=True)
    doc: Mapped[str] = mapped_column(Text)


class OperationRow(Base):
    """A maker-checker operation (#20): what waits for a reviewer of ``member_id``, counted for
    the navigation's badge without asking the ledger."""

    __tablename__ = "rm_operations"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    maker_user: Mapped[str] = mapped_column(String(128))
    expires_on: Mapped[str] = mapped_column(String(10))
    doc: Mapped[str] = mapped_column(Text)
    __table_args__ = (Index("ix_rm_operations_member_status", "member_id", "status", "expires_on"),)


class ParticipantRow(Base):
    """An organisation that has held, issued, been offered or asked to finance a piece of the
    tree under ``root_id``: it may read that tree."""

    __tablename__ = "rm_participants"
    org_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    root_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    __table_args__ = (UniqueConstraint("root_id", "org_id", name="uq_rm_participants_root_org"),)


PROJECTION_TABLES = (
    MemberRow,
    TicketRow,
    InvoiceNumberRow,
    HistoryRow,
    OfferRow,
    ApplicationRow,
    CreditLineRow,
    OperationRow,
    ParticipantRow,
    Checkpoint,
)
