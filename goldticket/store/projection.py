"""The follower: projects committed ledger blocks into the read model.

It reads blocks from the stored checkpoint on, through the Ledger port (so the embedded and
the Fabric ledger alike), decodes each valid transaction's write set and upserts what the
chaincode wrote: tickets (plus one history row per transaction that touched a ticket),
offers, financing applications, credit lines, members and maker-checker operations. Each batch of blocks and the
checkpoint move together in one database transaction, taken with the write lock, so followers
in several processes never apply a block twice or skip one. The projection holds nothing the
ledger does not: :meth:`Follower.rebuild` drops it and reads every block again.

As it projects a transaction it also writes the members' notifications of it
(:mod:`.notices`): those are not part of the projection (their read state is the members'),
a rebuild keeps them, and a block projected again writes none twice.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from fabric_protos.common import common_pb2
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from goldticket import messages as m
from goldticket.domain import normalise_invoice_number

from . import notices
from .database import Database
from .models import (
    PROJECTION_TABLES,
    ApplicationRow,
    Checkpoint,
    CreditLineRow,
    HistoryRow,
    InvoiceNumberRow,
    MemberRow,
    OfferRow,
    OperationRow,
    ParticipantRow,
    TicketRow,
)

CHECKPOINT = "ledger"
BATCH_BLOCKS = 200
VALID = 0
# Kinds are applied in this order within a transaction: offers and applications look up the
# root of a ticket the same transaction may have written.
ORDER = {"member": 0, "credit": 1, "ticket": 2, "offer": 3, "application": 4, "operation": 5}


def invoice_numbers(doc: dict[str, Any]) -> str:
    """A ticket's invoice numbers, space-separated, for the read model's search."""
    return " ".join(str(item.get("number", "")) for item in doc.get("invoices", []))


def invoice_keys(doc: dict[str, Any]) -> list[str]:
    """A ticket's invoice numbers as the search before funding matches them (normalised)."""
    return sorted(
        {normalise_invoice_number(str(item.get("number", ""))) for item in doc.get("invoices", [])} - {""}
    )


def split_key(key: str) -> tuple[str, list[str]]:
    """``\\x00kind\\x00a\\x00b\\x00`` -> ("kind", ["a", "b"])."""
    parts = key.split("\x00")
    return (parts[1], parts[2:-1]) if len(parts) >= 3 and parts[0] == "" else ("", [])


class Follower:
    def __init__(self, database: Database, ledger: Any) -> None:
        self.database = database
        self.ledger = ledger

    def checkpoint(self) -> int:
        """The next block the projection will read (= the number of blocks projected)."""
        with self.database.session() as session:
            row = session.get(Checkpoint, CHECKPOINT)
            return row.next_block if row else 0

    def lag(self) -> int:
        return max(0, self.ledger.height() - self.checkpoint())

    def catch_up(self) -> int:
        """Project every block committed so far; returns the new checkpoint."""
        while True:
            height = self.ledger.height()
            with self.database.session(immediate=True) as session:
                row = session.execute(
                    select(Checkpoint).where(Checkpoint.name == CHECKPOINT).with_for_update()
                ).scalar_one_or_none()
                if row is None:
                    row = Checkpoint(name=CHECKPOINT, next_block=0, block_hash="")
                    session.add(row)
                if row.next_block >= height:
                    return row.next_block
                for block in self.ledger.blocks(row.next_block):
                    self._apply_block(session, block)
                    row.next_block = block.number + 1
                    row.block_hash = block.hash.hex()
                    if row.next_block >= height or row.next_block % BATCH_BLOCKS == 0:
                        break

    def rebuild(self) -> int:
        """Drop the projection and project every block again; returns the new checkpoint."""
        with self.database.session(immediate=True) as session:
            for table in PROJECTION_TABLES:
                session.execute(delete(table))
        return self.catch_up()

    # ------------------------------------------------------------------ apply
    def _apply_block(self, session: Session, block: m.Block) -> None:
        codes = block.validation_codes
        for txnum, envelope_bytes in enumerate(block.envelopes):
            if txnum < len(codes) and codes[txnum] != VALID:
                continue
            try:
                payload = common_pb2.Envelope.FromString(envelope_bytes).payload
                tx = m.decode_transaction(payload)
            except (m.MessageError, Exception):  # config blocks and foreign transactions
                continue
            if tx.chaincode != getattr(self.ledger, "chaincode", tx.chaincode):
                continue
            header = common_pb2.ChannelHeader.FromString(tx.channel_header_bytes)
            stamp = dt.datetime.fromtimestamp(header.timestamp.seconds + header.timestamp.nanos / 1e9, dt.UTC)
            writes = []
            for rwset in tx.rwsets:
                if rwset.namespace != tx.chaincode:
                    continue
                for write in rwset.writes:
                    kind, attributes = split_key(write.key)
                    if kind in ORDER and not write.is_delete:
                        writes.append((ORDER[kind], kind, attributes, json.loads(write.value)))
            applied = sorted(writes, key=lambda item: item[0])
            changed = notices.accounts_changed(
                session, [doc for _, kind, _, doc in applied if kind == "member"]
            )
            for _, kind, attributes, doc in applied:
                self._apply(session, kind, attributes, doc, tx.tx_id, block.number, txnum, stamp)
            told = notices.notices([(kind, doc) for _, kind, _, doc in applied])
            told += notices.account_notices(session, changed)
            notices.record(session, told, tx.tx_id, block.number, txnum, stamp.isoformat())

    def _apply(
        self,
        session: Session,
        kind: str,
        attributes: list[str],
        doc: dict[str, Any],
        tx_id: str,
        block: int,
        txnum: int,
        stamp: dt.datetime,
    ) -> None:
        text = json.dumps(doc, sort_keys=True, ensure_ascii=False)
        if kind == "member":
            session.merge(MemberRow(id=doc["id"], role=doc["role"], doc=text))
        elif kind == "credit":
            session.merge(
                CreditLineRow(
                    id=doc["id"], bank_org_id=doc["bank_org_id"], core_org_id=doc["core_org_id"], doc=text
                )
            )
        elif kind == "ticket":
            self._ticket(session, doc, text, tx_id, block, txnum, stamp)
        elif kind == "offer":
            session.merge(OfferRow(id=doc["id"], ticket_id=doc["ticket_id"], doc=text))
            self._participant(session, doc["to_org_id"], self._root_of(session, doc["ticket_id"]))
        elif kind == "application":
            session.merge(ApplicationRow(id=doc["id"], ticket_id=doc["ticket_id"], doc=text))
            self._participant(session, doc["bank_org_id"], self._root_of(session, doc["ticket_id"]))
        elif kind == "operation":
            session.merge(
                OperationRow(
                    id=doc["id"],
                    member_id=doc["member_id"],
                    status=doc["status"],
                    maker_user=str(doc.get("maker", {}).get("user", "")),
                    expires_on=doc["expires_on"],
                    doc=text,
                )
            )

    def _ticket(
        self,
        session: Session,
        doc: dict[str, Any],
        text: str,
        tx_id: str,
        block: int,
        txnum: int,
        stamp: dt.datetime,
    ) -> None:
        session.merge(
            TicketRow(
                id=doc["id"],
                root_id=doc["root_id"],
                parent_id=doc.get("parent_id"),
                issuer_org_id=doc["issuer_org_id"],
                holder_org_id=doc["holder_org_id"],
                amount_fen=doc["amount_fen"],
                maturity_date=doc["maturity_date"],
                status=doc["status"],
                block=block,
                doc=text,
                invoice_numbers=invoice_numbers(doc),
            )
        )
        for number in invoice_keys(doc):
            session.merge(InvoiceNumberRow(number=number, ticket_id=doc["id"]))
        action = doc.get("last_action") or {}
        session.merge(
            HistoryRow(
                ticket_id=doc["id"],
                tx_id=tx_id,
                block=block,
                txnum=txnum,
                action=str(action.get("action", "")),
                status=doc["status"],
                by_org_id=str(action.get("by_org_id", "")),
                by_user=str(action.get("by_user", "")),
                card_serial=str(action.get("card_serial", "")),
                timestamp=stamp.isoformat(),
                maker_user=str(action.get("maker_user", "")),
            )
        )
        for org_id in {doc["issuer_org_id"], doc["holder_org_id"]}:
            self._participant(session, org_id, doc["root_id"])

    @staticmethod
    def _root_of(session: Session, ticket_id: str) -> str | None:
        row = session.get(TicketRow, ticket_id)
        return row.root_id if row else None

    @staticmethod
    def _participant(session: Session, org_id: str, root_id: str | None) -> None:
        if root_id is not None:
            session.merge(ParticipantRow(org_id=org_id, root_id=root_id))
