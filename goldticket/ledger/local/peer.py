"""The embedded ledger: one process acting as peer, orderer and committer over SQLite.

It accepts the same signed proposals and transactions as a Fabric peer: it checks the
creator's certificate against its organisation's CA and the signature (ECDSA P-256, low S),
simulates the transaction with the chaincode contract in-process, endorses the result with
its own key, and commits a signed transaction only if every endorsement in it verifies and
every version it read is still current (MVCC), writing state, per-key history and a
hash-chained block. Transactions submitted concurrently share a block and one durable SQLite
commit (``committer``). ``verify`` re-checks a whole ledger file afterwards.
"""

from __future__ import annotations

import collections
import datetime as dt
import functools
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fabric_protos.common import common_pb2
from fabric_protos.peer import proposal_pb2

from chaincode.dispatch import new_chaincode
from goldticket import messages as m

from ..errors import (
    CommitStatusError,
    DuplicateTransactionError,
    EndorseError,
    LedgerError,
    SubmitError,
    UnknownTransactionError,
)
from ..interfaces import CommitStatus, Ledger
from .committer import GroupCommitter
from .ranges import RangeRead, range_reads
from .shared import SharedCommitter
from .store import CODE_NAMES, LedgerStore, PendingCommit
from .stub import SimulationStub

PEER_MSP = "LocalPeerMSP"
OK_STATUS = 200
ERROR_THRESHOLD = 400
ENDORSEMENT_MEMORY = 10_000
TIME_WINDOW = dt.timedelta(minutes=15)


@functools.lru_cache(maxsize=4096)
def _issued_by(cert_pem: bytes, ca_pem: bytes) -> bool:
    try:
        certificate = x509.load_pem_x509_certificate(cert_pem)
        certificate.verify_directly_issued_by(x509.load_pem_x509_certificate(ca_pem))
    except (ValueError, TypeError, Exception):  # InvalidSignature is not a ValueError
        return False
    return True


def _valid_at(cert_pem: bytes, when: dt.datetime) -> bool:
    certificate = m.crypto.load_certificate(cert_pem)
    return certificate.not_valid_before_utc <= when <= certificate.not_valid_after_utc


def encode_transient(transient: tuple[tuple[str, bytes], ...]) -> bytes:
    """A proposal's transient map as the private store keeps it (for ``ledger verify``)."""
    return json.dumps({key: value.hex() for key, value in transient}, sort_keys=True).encode()


def decode_transient(data: bytes) -> dict[str, bytes]:
    return {key: bytes.fromhex(value) for key, value in json.loads(data or b"{}").items()}


def _hashed(private: tuple[tuple[str, m.KeyWrite], ...]) -> tuple[m.CollectionHashes, ...]:
    by_collection: dict[str, list[m.KeyWrite]] = {}
    for collection, write in private:
        by_collection.setdefault(collection, []).append(write)
    return tuple(m.hash_private_writes(name, tuple(writes)) for name, writes in by_collection.items())


def _run(coroutine: Any) -> Any:
    """Drive a coroutine that never suspends (the simulation stub does no real I/O)."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    coroutine.close()
    raise RuntimeError("the chaincode awaited something the embedded ledger cannot provide")


class LocalLedger(Ledger):
    kind = "local"

    def __init__(
        self,
        path: Path,
        contract: Any,
        *,
        channel_id: str = "goldticket",
        chaincode: str = "goldticket",
        time_window: dt.timedelta | None = TIME_WINDOW,
        shared_commit: bool = False,
    ):
        """``shared_commit``: commit through the group commit every process on this file
        shares (``shared.SharedCommitter``), so one FULL fsync carries all their transactions.
        ``time_window``: how far a proposal's timestamp may be from this ledger's clock, as
        Fabric peers check (peer.authentication.timewindow, 15 minutes); the chaincode takes its
        business date from that timestamp. None turns the check off (dev and test clocks),
        except on a ledger created for production (meta ``environment`` = prod), which always
        checks it whatever its opener asks."""
        self.channel_id = channel_id
        self.chaincode = chaincode
        self._store = LedgerStore(path)
        self.environment = (self._store.get_meta("environment") or b"").decode() or None
        if self.environment == "prod" and time_window is None:
            time_window = TIME_WINDOW
        self._time_window = time_window
        self._chaincode = new_chaincode(contract)
        key_pem = self._store.get_meta("peer_key")
        cert_pem = self._store.get_meta("peer_cert")
        if key_pem is None or cert_pem is None:
            raise SubmitError(f"{path} is not an initialised ledger; create it with LocalLedger.create")
        peer_key = serialization.load_pem_private_key(key_pem, password=None)
        if not isinstance(peer_key, ec.EllipticCurvePrivateKey):
            raise SubmitError(f"{path} holds a peer key that is not ECDSA")
        self._peer_key = peer_key
        self._peer_identity = m.Identity(PEER_MSP, cert_pem).serialize()
        self._peer_cert = cert_pem
        self._msps = self._store.msps()
        self._shared = SharedCommitter(self._store) if shared_commit else None
        self._committer = GroupCommitter(
            self._store, write=self._shared.commit_batch if self._shared is not None else None
        )
        # The transaction payloads this peer returned recently (response and endorsement list
        # included), by the SHA-256 of their exact bytes, with what they decode to: an envelope
        # carrying exactly those bytes holds only our own endorsement, so it needs no second
        # ECDSA check and no parsing. Anything else is decoded and verified. The creator's
        # signature over the bytes is checked either way.
        self._endorsed: collections.OrderedDict[bytes, tuple[m.DecodedTransaction, tuple[RangeRead, ...]]] = (
            collections.OrderedDict()
        )
        self._endorsed_lock = threading.Lock()
        # Where the transactions this process submitted went, until their submitters ask
        # (``commit_status``); anything else is read from the ledger file.
        self._statuses: collections.OrderedDict[str, CommitStatus] = collections.OrderedDict()
        # Private data this peer's endorsements wrote, by tx id, until their block commits (the
        # block carries only hashes; the values go to the private store if the tx is VALID).
        self._private: collections.OrderedDict[str, tuple[tuple[tuple[str, m.KeyWrite], ...], bytes]] = (
            collections.OrderedDict()
        )

    @classmethod
    def create(
        cls,
        path: Path,
        msps: dict[str, bytes],
        contract: Any,
        *,
        environment: str | None = None,
        **kwargs: Any,
    ) -> LocalLedger:
        """Make a new ledger file that trusts the given organisation CAs, with block 0.
        ``environment`` (prod, dev, test) is recorded in it for good: a prod ledger checks the
        proposal time window whoever opens it."""
        store = LedgerStore(path)
        if store.get_meta("peer_key") is None:
            key_pem, cert_pem = new_peer_identity()
            genesis = m.new_block(0, b"", [], [])
            conn = store.connection()
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(
                "INSERT INTO meta (name, value) VALUES (?, ?)",
                [("peer_key", key_pem), ("peer_cert", cert_pem)]
                + ([("environment", environment.encode())] if environment else []),
            )
            conn.executemany("INSERT OR REPLACE INTO msp (msp_id, ca_pem) VALUES (?, ?)", list(msps.items()))
            conn.execute(
                "INSERT INTO blocks (number, hash, data) VALUES (0, ?, ?)", (genesis.hash, genesis.encode())
            )
            conn.execute("COMMIT")
        store.close()
        return cls(path, contract, **kwargs)

    # ----------------------------------------------------------- endorsement
    def _check_creator(self, creator: m.Identity, when: dt.datetime, tx_id: str) -> None:
        ca_pem = self._msps.get(creator.msp_id)
        if ca_pem is None:
            raise EndorseError(f"creator MSP {creator.msp_id} is not a member of the channel", tx_id)
        if not _issued_by(creator.certificate_pem, ca_pem) or not _valid_at(creator.certificate_pem, when):
            raise EndorseError(f"creator certificate is not valid for {creator.msp_id}", tx_id)

    def _checked_proposal(self, signed: proposal_pb2.SignedProposal) -> m.DecodedProposal:
        try:
            proposal = m.decode_proposal(signed.proposal_bytes)
        except m.MessageError as error:
            raise EndorseError(str(error)) from error
        if proposal.channel_id != self.channel_id or proposal.chaincode != self.chaincode:
            raise EndorseError(
                f"unknown channel or chaincode {proposal.channel_id}/{proposal.chaincode}", proposal.tx_id
            )
        now = dt.datetime.now(dt.UTC)
        if self._time_window is not None and abs(proposal.timestamp - now) > self._time_window:
            raise EndorseError("the proposal's timestamp is outside the ledger's time window", proposal.tx_id)
        self._check_creator(proposal.creator, now, proposal.tx_id)
        try:
            m.verify_signature(proposal.creator.certificate_pem, signed.proposal_bytes, signed.signature)
        except m.BadSignatureError as error:
            raise EndorseError(f"access denied: {error}", proposal.tx_id) from error
        if self._store.transaction(proposal.tx_id) is not None:
            raise DuplicateTransactionError(
                f"transaction {proposal.tx_id} was already committed", proposal.tx_id
            )
        return proposal

    def _simulate(self, proposal: m.DecodedProposal) -> tuple[Any, SimulationStub]:
        stub = SimulationStub(self._store, proposal)
        response = _run(self._chaincode.invoke(stub))
        if response.status >= ERROR_THRESHOLD:
            raise EndorseError(
                f"chaincode refused {proposal.function}: {response.message}", proposal.tx_id, response.message
            )
        return response, stub

    def rehearse(self, proposal_bytes: bytes) -> bytes | None:
        """The in-process chaincode run of an unsigned proposal, without endorsement or commit:
        the creator's certificate must still be one of a channel member's CA, and nothing of
        the run (its write set, its event) leaves this method but the refusal or the payload."""
        try:
            proposal = m.decode_proposal(proposal_bytes)
        except m.MessageError as error:
            raise EndorseError(str(error)) from error
        if proposal.channel_id != self.channel_id or proposal.chaincode != self.chaincode:
            raise EndorseError(
                f"unknown channel or chaincode {proposal.channel_id}/{proposal.chaincode}", proposal.tx_id
            )
        self._check_creator(proposal.creator, dt.datetime.now(dt.UTC), proposal.tx_id)
        response, _ = self._simulate(proposal)
        return bytes(response.payload)

    def evaluate(self, proposal: proposal_pb2.SignedProposal, organizations: tuple[str, ...] = ()) -> bytes:
        decoded = self._checked_proposal(proposal)
        response, _ = self._simulate(decoded)
        return bytes(response.payload)

    def endorse(
        self, proposal: proposal_pb2.SignedProposal, organizations: tuple[str, ...] = ()
    ) -> m.PreparedTransaction:
        # one peer holds every collection here: ``organizations`` names no other
        decoded = self._checked_proposal(proposal)
        response, stub = self._simulate(decoded)
        rwset = stub.read_write_set(self.chaincode)
        response_payload = m.build_response_payload(
            decoded,
            status=response.status,
            message=response.message,
            payload=bytes(response.payload),
            rwset=rwset,
            event=stub.event,
        )
        signature = m.to_low_s(
            self._peer_key.sign(  # type: ignore[union-attr, call-arg]
                m.endorsement_message(response_payload, self._peer_identity), m.crypto.ECDSA_SHA256
            )
        )
        payload = m.build_transaction_payload(decoded, response_payload, [(self._peer_identity, signature)])
        known = m.DecodedTransaction(
            tx_id=decoded.tx_id,
            channel_id=decoded.channel_id,
            creator=decoded.creator,
            creator_bytes=decoded.creator_bytes,
            channel_header_bytes=decoded.channel_header_bytes,
            signature_header_bytes=decoded.signature_header_bytes,
            chaincode=decoded.chaincode,
            function=decoded.function,
            args=decoded.args,
            response_status=response.status,
            response_message=response.message,
            response_payload=bytes(response.payload),
            rwsets=(
                m.ReadWriteSet(
                    rwset.namespace, rwset.reads, rwset.writes, rwset.metadata_writes, rwset.collections
                ),
            ),
            event=stub.event,
            response_payload_bytes=response_payload,
            endorsements=((self._peer_identity, signature),),
            proposal_hash_matches=True,
            timestamp_seconds=decoded.timestamp_seconds,
            timestamp_nanos=decoded.timestamp_nanos,
        )
        m.memo.TRANSACTIONS.remember(payload, known)  # the signing service's check of it (#22)
        with self._endorsed_lock:
            self._endorsed[m.sha256(payload)] = (known, rwset.ranges)
            while len(self._endorsed) > ENDORSEMENT_MEMORY:
                self._endorsed.popitem(last=False)
            if stub.private_writes:  # Fabric's transient store: kept until the block commits
                self._private[decoded.tx_id] = (stub.private_writes, encode_transient(decoded.transient))
                while len(self._private) > ENDORSEMENT_MEMORY:
                    self._private.popitem(last=False)
        return m.PreparedTransaction(decoded.tx_id, payload, bytes(response.payload))

    # ---------------------------------------------------------------- commit
    def _validate(
        self, envelope: common_pb2.Envelope
    ) -> tuple[m.DecodedTransaction, tuple[RangeRead, ...] | None]:
        """The checked transaction, and its range reads when this peer endorsed these exact
        bytes (None: read them from the envelope)."""
        with self._endorsed_lock:
            remembered = self._endorsed.pop(m.sha256(envelope.payload), None)
        try:
            tx = remembered[0] if remembered is not None else m.decode_transaction(envelope.payload)
        except m.MessageError as error:
            raise SubmitError(f"bad transaction: {error}") from error
        if tx.channel_id != self.channel_id or tx.chaincode != self.chaincode:
            raise SubmitError("transaction is for another channel or chaincode", tx.tx_id)
        try:
            self._check_creator(tx.creator, dt.datetime.now(dt.UTC), tx.tx_id)
            m.verify_signature(tx.creator.certificate_pem, envelope.payload, envelope.signature)
        except (EndorseError, m.BadSignatureError) as error:
            raise SubmitError(f"bad creator signature: {error}", tx.tx_id) from error
        if not tx.proposal_hash_matches or not tx.endorsements:
            raise SubmitError("transaction does not carry an endorsement of its own proposal", tx.tx_id)
        if tx.response_status >= ERROR_THRESHOLD:
            raise SubmitError("endorsement policy failure: the chaincode refused this proposal", tx.tx_id)
        if remembered is None:
            self._verify_endorsements(tx)
            return tx, None
        return tx, remembered[1]

    def _verify_endorsements(self, tx: m.DecodedTransaction) -> None:
        """Every endorsement must be this peer's and verify over the response payload (the
        endorsement policy is: this peer). Raises SubmitError naming what failed."""
        for endorser, signature in tx.endorsements:
            if endorser != self._peer_identity:
                raise SubmitError(
                    "endorsement policy failure: an endorsement by an unknown endorser", tx.tx_id
                )
            try:
                m.verify_signature(
                    self._peer_cert, m.endorsement_message(tx.response_payload_bytes, endorser), signature
                )
            except m.BadSignatureError as error:
                raise SubmitError(
                    f"endorsement policy failure: an endorsement signature {error}", tx.tx_id
                ) from error

    def _pending(self, envelope: common_pb2.Envelope) -> PendingCommit:
        tx, ranges = self._validate(envelope)
        rwset = next((item for item in tx.rwsets if item.namespace == self.chaincode), None)
        if ranges is None:
            try:
                ranges = range_reads(tx.response_payload_bytes, self.chaincode)
            except Exception as error:  # protobuf's DecodeError is not a ValueError
                raise SubmitError(
                    f"bad transaction: its range reads do not decode ({error})", tx.tx_id
                ) from error
        with self._endorsed_lock:
            private, transient = self._private.pop(tx.tx_id, ((), b""))
        if private and (rwset is None or _hashed(private) != rwset.collections):
            private, transient = (), b""  # not what this peer endorsed: its values are not ours to store
        return PendingCommit(
            envelope.SerializeToString(),
            tx.tx_id,
            rwset,
            tx.timestamp_seconds,
            tx.timestamp_nanos,
            ranges,
            private,
            transient,
        )

    def submit(self, envelope: common_pb2.Envelope) -> None:
        """Validate the signed transaction and commit it in the next block (shared with any
        transactions submitted concurrently); returns once that block is durable. Raises
        SubmitError (DuplicateTransactionError for a tx id already on the ledger)."""
        committed = self._committer.commit(self._pending(envelope))
        status = CommitStatus(committed.tx_id, CODE_NAMES[committed.code], committed.block)
        with self._endorsed_lock:
            self._statuses[committed.tx_id] = status
            while len(self._statuses) > ENDORSEMENT_MEMORY:
                self._statuses.popitem(last=False)

    def submit_all(self, envelopes: list[common_pb2.Envelope]) -> list[LedgerError | None]:
        """Submit several transactions as one block, in order, as an orderer batches them.
        Returns per envelope None (committed; its commit status says VALID or
        MVCC_READ_CONFLICT) or the error that kept it out of the block."""
        results: list[LedgerError | None] = []
        pending: list[PendingCommit] = []
        for envelope in envelopes:
            try:
                pending.append(self._pending(envelope))
                results.append(None)
            except LedgerError as error:
                results.append(error)
        outcomes = iter(self._committer.commit_all(pending))
        for index, result in enumerate(results):
            if result is None:
                outcome = next(outcomes)
                if isinstance(outcome, LedgerError):
                    results[index] = outcome
                elif isinstance(outcome, BaseException):
                    raise outcome
        return results

    def commit_status(
        self, tx_id: str, sign: object | None = None, *, wait: float | None = None
    ) -> CommitStatus:
        with self._endorsed_lock:
            remembered = self._statuses.pop(tx_id, None)
        if remembered is not None:
            return remembered
        found = self._store.transaction(tx_id)
        if found is None:
            raise UnknownTransactionError(f"no transaction {tx_id} on the ledger", tx_id)
        return CommitStatus(tx_id, found[2], found[0])

    def blocks(self, start: int = 0) -> Iterator[m.Block]:
        if start < 0:
            raise CommitStatusError("block numbers start at 0")
        for _, data in self._store.blocks(start):
            yield m.decode_block(data)

    def record(self, kind: str, key: str) -> dict[str, Any] | None:
        """Straight from world state (no proposal, no signature, no chaincode run)."""
        if not kind or not key or "\x00" in kind + key:
            return None
        if kind == "terms":
            return self._terms(key)
        found = self._store.get(f"\x00{kind}\x00{key}\x00")
        return orjson.loads(found[0]) if found else None

    def _terms(self, application_id: str) -> dict[str, Any] | None:
        """GetFinancingTerms' answer, from the private store (this ledger holds every collection)."""
        found = self._store.get(f"\x00application\x00{application_id}\x00")
        application = orjson.loads(found[0]) if found else {}
        collection = application.get("terms")
        if collection is None:
            quote = application.get("quote")
            if quote is None:
                return None
            return {"application_id": application_id, "collection": None, "sha256": None, "terms": quote}
        value = self._store.get_private(collection, f"\x00terms\x00{application_id}\x00")
        return {
            "application_id": application_id,
            "collection": collection,
            "sha256": m.sha256(value).hex() if value else None,
            "terms": json.loads(value) if value else None,
        }

    def height(self) -> int:
        return self._store.height()

    def close(self) -> None:
        if self._shared is not None:
            self._shared.close()
        self._store.close()


def new_peer_identity() -> tuple[bytes, bytes]:
    """A new endorsing key of the embedded peer and its self-signed certificate (PEM, PEM)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "peer0.local")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return key_pem, cert.public_bytes(serialization.Encoding.PEM)
