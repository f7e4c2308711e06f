"""Re-check a whole embedded ledger file, trusting nothing in it but the channel's CAs.

The ledger file also holds the peer's private key, so whoever can read it can sign
endorsements. A signature check alone therefore proves little about a write set; what proves
it is running the transaction again. ``verify_ledger`` walks every block in order and checks:
- the chain: numbers without a gap, the stored header hash, the data hash over the envelopes,
  each block's previous hash, one validation code per transaction;
- every transaction: it decodes, is for this channel and chaincode, its creator's certificate
  was issued by that MSP's CA and signed the envelope, and every endorsement is the peer's and
  verifies; a tx id appears once;
- a replay: each transaction marked VALID is simulated again by the chaincode, in order, over a
  fresh scratch copy of the state, and must yield byte for byte the response payload (read set
  with versions, range scans, write set, response, event) that was endorsed, with every version
  it read still current and every range it scanned unchanged; a transaction marked
  MVCC_READ_CONFLICT or PHANTOM_READ_CONFLICT must indeed have been one;
- private data (#19): a transaction that wrote private data is replayed with the transient map
  the private store kept for it, and its replayed private writes must hash to the hashes in its
  block; the stored private values must be those writes;
- at the end, the stored world state, key history and transaction index equal the replay's.
It stops at the first bad block and names it.
"""

from __future__ import annotations

import dataclasses
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

from fabric_chaincode_python.fabric_shim.utils import COMPOSITEKEY_NS, MIN_UNICODE_RUNE_VALUE
from fabric_protos.common import common_pb2
from fabric_protos.peer import proposal_pb2, transaction_pb2

from chaincode.dispatch import new_chaincode
from goldticket import messages as m

from ..errors import LedgerError
from .peer import ERROR_THRESHOLD, PEER_MSP, _issued_by, _run, decode_transient
from .ranges import range_reads
from .store import CODE_NAMES, MVCC_READ_CONFLICT, PHANTOM_READ_CONFLICT, VALID, LedgerStore
from .stub import SimulationStub


@dataclasses.dataclass(frozen=True)
class VerifyReport:
    ok: bool
    blocks: int
    transactions: int
    first_bad_block: int | None = None
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class _BadBlock(Exception):
    def __init__(self, number: int, reason: str) -> None:
        super().__init__(reason)
        self.number = number
        self.reason = reason


def verify_ledger(
    path: Path,
    contract: Any,
    *,
    channel_id: str = "goldticket",
    chaincode: str = "goldticket",
    trusted_msps: dict[str, bytes] | None = None,
) -> VerifyReport:
    """Check the ledger file at ``path`` as described above, replaying with ``contract``.
    ``trusted_msps`` (MSP id -> CA certificate PEM, from outside the file) must then equal the
    channel members the file names. Raises LedgerError when there is no ledger file to read."""
    path = Path(path)
    if not path.is_file():
        raise LedgerError(f"no ledger at {path}")
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    try:
        source.execute("BEGIN")  # one consistent snapshot, even while the ledger is in use
        with tempfile.TemporaryDirectory(prefix="goldticket-verify-") as scratch:
            replay = LedgerStore(Path(scratch) / "replay.sqlite", durable=False)
            checker = _Checker(source, replay, contract, channel_id, chaincode)
            try:
                checker.check_members(trusted_msps)
                checker.walk_blocks()
                checker.compare_tables()
            except _BadBlock as bad:
                return VerifyReport(False, checker.blocks, checker.transactions, bad.number, bad.reason)
            finally:
                replay.close()
            return VerifyReport(True, checker.blocks, checker.transactions)
    except sqlite3.DatabaseError as error:
        raise LedgerError(f"{path} cannot be read as a ledger: {error}") from error
    finally:
        source.close()


class _Checker:
    def __init__(
        self, source: sqlite3.Connection, replay: LedgerStore, contract: Any, channel_id: str, chaincode: str
    ) -> None:
        self._source = source
        self._replay = replay
        self._chaincode = new_chaincode(contract)
        self._channel_id = channel_id
        self._namespace = chaincode
        self._msps = {row[0]: bytes(row[1]) for row in source.execute("SELECT msp_id, ca_pem FROM msp")}
        peer_cert = source.execute("SELECT value FROM meta WHERE name = 'peer_cert'").fetchone()
        self._peer_cert = bytes(peer_cert[0]) if peer_cert else b""
        self._peer_identity = m.Identity(PEER_MSP, self._peer_cert).serialize()
        self._seen: set[str] = set()
        self.blocks = 0
        self.transactions = 0

    def check_members(self, trusted: dict[str, bytes] | None) -> None:
        if not self._peer_cert:
            raise _BadBlock(0, "the ledger names no peer certificate")
        if trusted is not None and self._msps != trusted:
            raise _BadBlock(0, "the ledger's channel members differ from the trusted organisation CAs")

    # ------------------------------------------------------------------ blocks
    def walk_blocks(self) -> None:
        previous_hash = b""
        rows = self._source.execute("SELECT number, hash, data FROM blocks ORDER BY number")
        for expected, (number, stored_hash, data) in enumerate(rows):
            if number != expected:
                raise _BadBlock(expected, f"block {expected} is missing (the next stored block is {number})")
            try:
                block = m.decode_block(bytes(data))
            except m.MessageError as error:
                raise _BadBlock(number, f"block {number} does not decode: {error}") from error
            if block.number != number:
                raise _BadBlock(number, f"block {number} says it is block {block.number}")
            if block.hash != bytes(stored_hash):
                raise _BadBlock(number, f"block {number}'s stored hash is not its header hash")
            if block.previous_hash != previous_hash:
                raise _BadBlock(number, f"block {number}'s previous hash is not block {number - 1}'s hash")
            if len(block.validation_codes) != len(block.envelopes):
                raise _BadBlock(number, f"block {number} has not one validation code per transaction")
            if number == 0 and block.envelopes:
                raise _BadBlock(0, "the genesis block carries transactions")
            self._replay_block(block)
            previous_hash = block.hash
            self.blocks += 1

    def _replay_block(self, block: m.Block) -> None:
        conn = self._replay.connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            for txnum, (envelope_bytes, code) in enumerate(
                zip(block.envelopes, block.validation_codes, strict=True)
            ):
                self._replay_transaction(conn, block.number, txnum, envelope_bytes, code)
                self.transactions += 1
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def _replay_transaction(
        self, conn: sqlite3.Connection, number: int, txnum: int, envelope_bytes: bytes, code: int
    ) -> None:
        where = f"block {number} transaction {txnum}"
        tx, proposal = self._checked_transaction(number, where, envelope_bytes)
        if code not in (VALID, MVCC_READ_CONFLICT, PHANTOM_READ_CONFLICT):
            raise _BadBlock(number, f"{where} has validation code {code}, which this ledger never writes")
        rwset = next((item for item in tx.rwsets if item.namespace == self._namespace), None)
        try:
            ranges = range_reads(tx.response_payload_bytes, self._namespace)
        except Exception as error:
            raise _BadBlock(number, f"{where}'s range reads do not decode: {error}") from error
        current = LedgerStore.validation_code(conn, rwset, ranges)
        if code != current:
            raise _BadBlock(
                number, f"{where} is marked {CODE_NAMES[code]} but its reads make it {CODE_NAMES[current]}"
            )
        if code == VALID:
            if rwset is not None and rwset.collections:
                transient = self._source.execute(
                    "SELECT transient FROM private_inputs WHERE tx_id = ?", (tx.tx_id,)
                ).fetchone()
                if transient is None:
                    raise _BadBlock(number, f"{where} wrote private data the private store has no inputs for")
                items = tuple(sorted(decode_transient(bytes(transient[0])).items()))
                proposal = dataclasses.replace(proposal, transient=items)
            self._check_replay(number, where, tx, proposal)
            if rwset is not None and rwset.writes:
                seconds, nanos = _timestamp(tx)
                LedgerStore._apply(conn, rwset, number, txnum, tx.tx_id, seconds, nanos)
        conn.execute(
            "INSERT INTO transactions (tx_id, block, txnum, code) VALUES (?, ?, ?, ?)",
            (tx.tx_id, number, txnum, CODE_NAMES[code]),
        )

    def _checked_transaction(
        self, number: int, where: str, envelope_bytes: bytes
    ) -> tuple[m.DecodedTransaction, m.DecodedProposal]:
        try:
            envelope = common_pb2.Envelope.FromString(envelope_bytes)
            tx = m.decode_transaction(envelope.payload)
            proposal = m.decode_proposal(_proposal_bytes(envelope.payload))
        except Exception as error:  # protobuf's DecodeError is not a MessageError
            raise _BadBlock(number, f"{where} does not decode: {error}") from error
        if tx.channel_id != self._channel_id or tx.chaincode != self._namespace:
            raise _BadBlock(number, f"{where} is for another channel or chaincode")
        if tx.tx_id in self._seen:
            raise _BadBlock(number, f"{where} repeats transaction {tx.tx_id}")
        self._seen.add(tx.tx_id)
        ca_pem = self._msps.get(tx.creator.msp_id)
        if ca_pem is None or not _issued_by(tx.creator.certificate_pem, ca_pem):
            raise _BadBlock(
                number, f"{where}'s creator certificate was not issued by {tx.creator.msp_id}'s CA"
            )
        try:
            m.verify_signature(tx.creator.certificate_pem, envelope.payload, envelope.signature)
        except m.BadSignatureError as error:
            raise _BadBlock(number, f"{where}'s creator signature: {error}") from error
        if not tx.proposal_hash_matches or not tx.endorsements:
            raise _BadBlock(number, f"{where} carries no endorsement of its own proposal")
        for endorser, signature in tx.endorsements:
            if endorser != self._peer_identity:
                raise _BadBlock(number, f"{where} carries an endorsement by an unknown endorser")
            try:
                m.verify_signature(
                    self._peer_cert, m.endorsement_message(tx.response_payload_bytes, endorser), signature
                )
            except m.BadSignatureError as error:
                raise _BadBlock(number, f"{where}'s endorsement signature: {error}") from error
        return tx, proposal

    def _replay_once(
        self,
        number: int,
        where: str,
        tx: m.DecodedTransaction,
        proposal: m.DecodedProposal,
        *,
        before_key_policies: bool,
        before_document_rule: bool = False,
    ) -> tuple[SimulationStub, Any, bytes]:
        """Run the transaction again on the replayed state: its stub, read-write set and the
        response payload it makes."""
        stub = SimulationStub(
            self._replay,
            proposal,
            before_key_policies=before_key_policies,
            before_document_rule=before_document_rule,
        )
        try:
            response = _run(self._chaincode.invoke(stub))
        except Exception as error:
            raise _BadBlock(number, f"{where} ({tx.function}) fails when replayed: {error}") from error
        if response.status >= ERROR_THRESHOLD:
            raise _BadBlock(number, f"{where} ({tx.function}) is refused when replayed: {response.message}")
        replayed = stub.read_write_set(self._namespace)
        rebuilt = m.build_response_payload(
            proposal,
            status=response.status,
            message=response.message,
            payload=bytes(response.payload),
            rwset=replayed,
            event=stub.event,
        )
        return stub, replayed, rebuilt

    def _check_replay(
        self, number: int, where: str, tx: m.DecodedTransaction, proposal: m.DecodedProposal
    ) -> None:
        stub, replayed, rebuilt = self._replay_once(number, where, tx, proposal, before_key_policies=False)
        if rebuilt == tx.response_payload_bytes:
            self._check_private(number, where, tx.tx_id, stub)
            return
        recorded = next((item for item in tx.rwsets if item.namespace == self._namespace), None)
        if recorded is not None and not recorded.metadata_writes and replayed.metadata_writes:
            # recorded before the chaincode set key-level endorsement policies (ApproveFinancing
            # since #19): replayed as the chaincode then ran, without that step (its reads and
            # its policy). The endorsement signature covers the recorded bytes, and the embedded
            # ledger's state never holds the policies.
            stub, replayed, rebuilt = self._replay_once(number, where, tx, proposal, before_key_policies=True)
            if rebuilt == tx.response_payload_bytes:
                return
        if recorded is not None and self._before_document_rule(recorded.reads, replayed.reads):
            # a move without its documents recorded before #21's rule: replayed as the
            # chaincode then ran, without reading the rule
            stub, replayed, rebuilt = self._replay_once(
                number, where, tx, proposal, before_key_policies=False, before_document_rule=True
            )
            if rebuilt == tx.response_payload_bytes:
                return
        if recorded is None or set(recorded.writes) != set(replayed.writes):
            what = "its write set is not what the chaincode writes"
        elif recorded.reads != replayed.reads:
            what = "its read set is not what the chaincode reads"
        else:
            what = "its response or event is not what the chaincode returns"
        raise _BadBlock(number, f"{where} ({tx.function}) does not replay: {what}")

    def _before_document_rule(self, recorded: Any, replayed: Any) -> bool:
        """Whether the replay read the ledger's rules where the recorded transaction did not: a
        move without its documents from before the rule. (On a ledger whose rule requires them,
        the first replay refused such a move: that block is bad already.)"""
        key = f"{COMPOSITEKEY_NS}config{MIN_UNICODE_RUNE_VALUE}bootstrap{MIN_UNICODE_RUNE_VALUE}"
        return not any(k == key for k, _ in recorded) and any(k == key for k, _ in replayed)

    def _check_private(self, number: int, where: str, tx_id: str, stub: SimulationStub) -> None:
        """The private values stored from this transaction are the ones its replay wrote (their
        hashes, in the replayed response, already equal the block's)."""
        for collection, write in stub.private_writes:
            row = self._source.execute(
                "SELECT value, tx_id FROM private WHERE collection = ? AND key = ?", (collection, write.key)
            ).fetchone()
            if row is not None and row[1] == tx_id and bytes(row[0]) != write.value:
                raise _BadBlock(
                    number, f"{where}'s stored private value in {collection} is not what it wrote"
                )

    # -------------------------------------------------------- the final tables
    def compare_tables(self) -> None:
        """The stored state, history and transaction index must equal the replay's; the first
        bad block is the earliest block a differing row names."""
        replay = self._replay.connection()
        tables = {
            "world state": ("SELECT key, value, block, txnum FROM state", 2),
            "key history": (
                "SELECT key, block, txnum, tx_id, value, is_delete, seconds, nanos FROM history",
                1,
            ),
            "transaction index": ("SELECT tx_id, block, txnum, code FROM transactions", 1),
        }
        bad: list[tuple[int, str]] = []
        for name, (query, block_column) in tables.items():
            stored = {tuple(row) for row in self._source.execute(query)}
            replayed = {tuple(row) for row in replay.execute(query)}
            for row in stored ^ replayed:
                side = "stored" if row in stored else "replayed"
                bad.append(
                    (
                        int(row[block_column]),
                        f"the {name} differs from the replay ({side} row of key {row[0]!r})",
                    )
                )
        if bad:
            number, reason = min(bad, key=lambda item: item[0])
            raise _BadBlock(number, f"block {number}: {reason}")


def _proposal_bytes(payload_bytes: bytes) -> bytes:
    """The signed proposal a transaction was endorsed for, rebuilt from its envelope payload."""
    payload = common_pb2.Payload.FromString(payload_bytes)
    transaction = transaction_pb2.Transaction.FromString(payload.data)
    action = transaction_pb2.ChaincodeActionPayload.FromString(transaction.actions[0].payload)
    return proposal_pb2.Proposal(
        header=payload.header.SerializeToString(), payload=action.chaincode_proposal_payload
    ).SerializeToString()


def _timestamp(tx: m.DecodedTransaction) -> tuple[int, int]:
    header = common_pb2.ChannelHeader.FromString(tx.channel_header_bytes)
    return header.timestamp.seconds, header.timestamp.nanos
