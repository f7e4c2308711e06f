"""Endorsed transactions: the proposal response, the envelope the creator signs, and decoding.

Payload{header: the proposal's Header verbatim, data: Transaction{actions: [TransactionAction{
header: SignatureHeader, payload: ChaincodeActionPayload{chaincode_proposal_payload,
action: ChaincodeEndorsedAction{proposal_response_payload, endorsements}}}]}}, where the
proposal response payload carries a ChaincodeAction with the response and the read-write set.
"""

from __future__ import annotations

import builtins
import dataclasses

from fabric_protos.common import common_pb2
from fabric_protos.ledger.rwset import rwset_pb2
from fabric_protos.ledger.rwset.kvrwset import kv_rwset_pb2
from fabric_protos.peer import (
    chaincode_event_pb2,
    chaincode_pb2,
    proposal_pb2,
    proposal_response_pb2,
    transaction_pb2,
)

from .crypto import sha256
from .errors import MessageError
from .identity import Identity
from .memo import TRANSACTIONS
from .proposal import DecodedProposal, compute_tx_id

Version = tuple[int, int]  # (block number, transaction number in the block)


@dataclasses.dataclass(frozen=True)
class KeyWrite:
    key: str
    value: bytes
    is_delete: bool = False


@dataclasses.dataclass(frozen=True)
class HashedWrite:
    """A private data write as the channel sees it: SHA-256 of the key and of the value."""

    key_hash: bytes
    value_hash: bytes
    is_delete: bool = False


@dataclasses.dataclass(frozen=True)
class CollectionHashes:
    """One private data collection's writes in a transaction, hashed (Fabric's
    CollectionHashedReadWriteSet); ``private_hash`` is the SHA-256 of the private KVRWSet that
    only the collection's members hold."""

    collection: str
    writes: tuple[HashedWrite, ...]
    private_hash: bytes = b""


def hash_private_writes(collection: str, writes: tuple[KeyWrite, ...]) -> CollectionHashes:
    """What the block carries for ``writes`` to ``collection``: hashes only."""
    private = kv_rwset_pb2.KVRWSet(
        writes=[kv_rwset_pb2.KVWrite(key=w.key, value=w.value, is_delete=w.is_delete) for w in writes]
    ).SerializeToString()
    hashed = tuple(
        HashedWrite(sha256(w.key.encode("utf-8")), b"" if w.is_delete else sha256(w.value), w.is_delete)
        for w in writes
    )
    return CollectionHashes(collection, hashed, sha256(private))


@dataclasses.dataclass(frozen=True)
class ReadWriteSet:
    """What one chaincode namespace read (with the versions seen) and wrote."""

    namespace: str
    reads: tuple[tuple[str, Version | None], ...]
    writes: tuple[KeyWrite, ...]
    # (key, metadata name, value): e.g. a key-level endorsement policy ("VALIDATION_PARAMETER")
    metadata_writes: tuple[tuple[str, str, bytes], ...] = ()
    # private data collections written: their hashes only (the values stay with the members)
    collections: tuple[CollectionHashes, ...] = ()

    def encoded_metadata_writes(self) -> list[kv_rwset_pb2.KVMetadataWrite]:
        return [
            kv_rwset_pb2.KVMetadataWrite(
                key=key, entries=[kv_rwset_pb2.KVMetadataEntry(name=name, value=value)]
            )
            for key, name, value in self.metadata_writes
        ]

    def encoded_collections(self) -> list[rwset_pb2.CollectionHashedReadWriteSet]:
        return [
            rwset_pb2.CollectionHashedReadWriteSet(
                collection_name=c.collection,
                hashed_rwset=kv_rwset_pb2.HashedRWSet(
                    hashed_writes=[
                        kv_rwset_pb2.KVWriteHash(
                            key_hash=w.key_hash, value_hash=w.value_hash, is_delete=w.is_delete
                        )
                        for w in c.writes
                    ]
                ).SerializeToString(),
                pvt_rwset_hash=c.private_hash,
            )
            for c in self.collections
        ]

    def encode(self) -> bytes:
        kv = kv_rwset_pb2.KVRWSet(
            reads=[
                kv_rwset_pb2.KVRead(
                    key=key, version=kv_rwset_pb2.Version(block_num=v[0], tx_num=v[1]) if v else None
                )
                for key, v in self.reads
            ],
            writes=[
                kv_rwset_pb2.KVWrite(key=w.key, value=w.value, is_delete=w.is_delete) for w in self.writes
            ],
            metadata_writes=self.encoded_metadata_writes(),
        )
        return rwset_pb2.TxReadWriteSet(
            data_model=rwset_pb2.TxReadWriteSet.KV,
            ns_rwset=[
                rwset_pb2.NsReadWriteSet(
                    namespace=self.namespace,
                    rwset=kv.SerializeToString(),
                    collection_hashed_rwset=self.encoded_collections(),
                )
            ],
        ).SerializeToString()


def decode_rwsets(data: bytes) -> tuple[ReadWriteSet, ...]:
    result = []
    for ns in rwset_pb2.TxReadWriteSet.FromString(data).ns_rwset:
        kv = kv_rwset_pb2.KVRWSet.FromString(ns.rwset)
        reads = tuple(
            (r.key, (r.version.block_num, r.version.tx_num) if r.HasField("version") else None)
            for r in kv.reads
        )
        writes = tuple(KeyWrite(w.key, bytes(w.value), w.is_delete) for w in kv.writes)
        metadata = tuple((w.key, e.name, bytes(e.value)) for w in kv.metadata_writes for e in w.entries)
        collections = tuple(
            CollectionHashes(
                c.collection_name,
                tuple(
                    HashedWrite(bytes(w.key_hash), bytes(w.value_hash), w.is_delete)
                    for w in kv_rwset_pb2.HashedRWSet.FromString(c.hashed_rwset).hashed_writes
                ),
                bytes(c.pvt_rwset_hash),
            )
            for c in ns.collection_hashed_rwset
        )
        result.append(ReadWriteSet(ns.namespace, reads, writes, metadata, collections))
    return tuple(result)


def build_response_payload(
    proposal: DecodedProposal,
    *,
    status: int,
    message: str,
    payload: bytes,
    rwset: ReadWriteSet,
    event: tuple[str, bytes] | None = None,
) -> bytes:
    """The ProposalResponsePayload an endorser signs: proposal hash plus the chaincode action."""
    events = b""
    if event is not None:
        events = chaincode_event_pb2.ChaincodeEvent(
            chaincode_id=proposal.chaincode, tx_id=proposal.tx_id, event_name=event[0], payload=event[1]
        ).SerializeToString()
    action = proposal_pb2.ChaincodeAction(
        results=rwset.encode(),
        events=events,
        response=proposal_response_pb2.Response(status=status, message=message, payload=payload),
    )
    action.chaincode_id.name = proposal.chaincode
    return proposal_response_pb2.ProposalResponsePayload(
        proposal_hash=sha256(
            proposal.channel_header_bytes + proposal.signature_header_bytes + proposal.payload_bytes
        ),
        extension=action.SerializeToString(),
    ).SerializeToString()


def endorsement_message(response_payload: bytes, endorser: bytes) -> bytes:
    """What an endorser signs: the response payload followed by its serialized identity."""
    return response_payload + endorser


@dataclasses.dataclass(frozen=True)
class PreparedTransaction:
    """An endorsed transaction waiting for its creator's signature over ``bytes``."""

    tx_id: str
    bytes: builtins.bytes
    result: builtins.bytes

    @property
    def digest(self) -> builtins.bytes:
        return sha256(self.bytes)


def build_transaction_payload(
    proposal: DecodedProposal, response_payload: bytes, endorsements: list[tuple[bytes, bytes]]
) -> bytes:
    """The Envelope payload for an endorsed proposal; ``endorsements`` are (endorser, signature)."""
    action_payload = transaction_pb2.ChaincodeActionPayload(
        chaincode_proposal_payload=proposal.payload_bytes,
        action=transaction_pb2.ChaincodeEndorsedAction(
            proposal_response_payload=response_payload,
            endorsements=[
                proposal_response_pb2.Endorsement(endorser=e, signature=s) for e, s in endorsements
            ],
        ),
    )
    transaction = transaction_pb2.Transaction(
        actions=[
            transaction_pb2.TransactionAction(
                header=proposal.signature_header_bytes, payload=action_payload.SerializeToString()
            )
        ]
    )
    # Payload{header = the proposal's Header bytes verbatim (field 1), data (field 2)}, encoded
    # as protobuf does, without parsing the header again
    return _field(1, proposal.header_bytes) + _field(2, transaction.SerializeToString())


def _field(number: int, data: builtins.bytes) -> builtins.bytes:
    """A length-delimited protobuf field: tag, length, bytes."""
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def _varint(value: int) -> builtins.bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return builtins.bytes(out)


def signed_envelope(payload: bytes, signature: bytes) -> common_pb2.Envelope:
    return common_pb2.Envelope(payload=payload, signature=signature)


@dataclasses.dataclass(frozen=True)
class DecodedTransaction:
    tx_id: str
    channel_id: str
    creator: Identity
    creator_bytes: bytes
    channel_header_bytes: bytes
    signature_header_bytes: bytes
    chaincode: str
    function: str
    args: tuple[bytes, ...]
    response_status: int
    response_message: str
    response_payload: bytes
    rwsets: tuple[ReadWriteSet, ...]
    event: tuple[str, bytes] | None
    response_payload_bytes: bytes
    endorsements: tuple[tuple[bytes, bytes], ...]
    proposal_hash_matches: bool
    timestamp_seconds: int
    timestamp_nanos: int


def decode_transaction(payload_bytes: bytes) -> DecodedTransaction:
    """Decode an endorser transaction's Envelope payload. Raises MessageError. A payload this
    process's peer endorsed is not parsed again (``memo``)."""
    remembered: DecodedTransaction | None = TRANSACTIONS.recall(payload_bytes)
    if remembered is not None:
        return remembered
    try:
        payload = common_pb2.Payload.FromString(payload_bytes)
        channel_header = common_pb2.ChannelHeader.FromString(payload.header.channel_header)
        signature_header = common_pb2.SignatureHeader.FromString(payload.header.signature_header)
        transaction = transaction_pb2.Transaction.FromString(payload.data)
        if len(transaction.actions) != 1:
            raise MessageError("transaction must have exactly one action")
        action_payload = transaction_pb2.ChaincodeActionPayload.FromString(transaction.actions[0].payload)
        endorsed = action_payload.action
        response_payload = proposal_response_pb2.ProposalResponsePayload.FromString(
            endorsed.proposal_response_payload
        )
        action = proposal_pb2.ChaincodeAction.FromString(response_payload.extension)
        invocation = proposal_pb2.ChaincodeProposalPayload.FromString(
            action_payload.chaincode_proposal_payload
        )
        spec = chaincode_pb2.ChaincodeInvocationSpec.FromString(invocation.input).chaincode_spec
        event = None
        if action.events:
            chaincode_event = chaincode_event_pb2.ChaincodeEvent.FromString(action.events)
            event = (chaincode_event.event_name, bytes(chaincode_event.payload))
        rwsets = decode_rwsets(action.results) if action.results else ()
    except MessageError:
        raise
    except Exception as error:
        raise MessageError("transaction does not decode") from error
    if channel_header.type != common_pb2.ENDORSER_TRANSACTION or not spec.input.args:
        raise MessageError("not a chaincode invocation")
    if transaction.actions[0].header != payload.header.signature_header:
        raise MessageError("transaction action header differs from the payload header")
    tx_id = compute_tx_id(signature_header.nonce, signature_header.creator)
    if tx_id != channel_header.tx_id:
        raise MessageError("transaction tx id is not SHA-256(nonce + creator)")
    expected_hash = sha256(
        payload.header.channel_header
        + payload.header.signature_header
        + action_payload.chaincode_proposal_payload
    )
    return DecodedTransaction(
        tx_id=tx_id,
        channel_id=channel_header.channel_id,
        creator=Identity.deserialize(signature_header.creator),
        creator_bytes=bytes(signature_header.creator),
        channel_header_bytes=bytes(payload.header.channel_header),
        signature_header_bytes=bytes(payload.header.signature_header),
        chaincode=spec.chaincode_id.name,
        function=spec.input.args[0].decode("utf-8", errors="replace"),
        args=tuple(bytes(arg) for arg in spec.input.args[1:]),
        response_status=action.response.status,
        response_message=action.response.message,
        response_payload=bytes(action.response.payload),
        rwsets=rwsets,
        event=event,
        response_payload_bytes=bytes(endorsed.proposal_response_payload),
        endorsements=tuple((bytes(e.endorser), bytes(e.signature)) for e in endorsed.endorsements),
        proposal_hash_matches=expected_hash == response_payload.proposal_hash,
        timestamp_seconds=channel_header.timestamp.seconds,
        timestamp_nanos=channel_header.timestamp.nanos,
    )
