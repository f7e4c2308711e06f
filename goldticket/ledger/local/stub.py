"""A chaincode stub that simulates a transaction against the embedded ledger's state.

It is the in-process counterpart of fabric-chaincode-python's peer stub: the contract
calls the same async methods, reads see committed state only (as on a peer, a transaction
does not read its own writes), and every read is recorded with the version it saw so that
the commit can apply Fabric's MVCC check; every range scan is recorded too, for the phantom
check (``ranges``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from fabric_chaincode_python.fabric_shim.interfaces import ChaincodeStubInterface
from fabric_chaincode_python.fabric_shim.utils import (
    COMPOSITEKEY_NS,
    MIN_UNICODE_RUNE_VALUE,
    validate_composite_key_attribute,
)
from fabric_protos.ledger.queryresult import kv_query_result_pb2
from google.protobuf import timestamp_pb2

import chaincode.shim_fixes  # noqa: F401 - the library's logging set-up, undone
from chaincode.endorsement import VALIDATION_PARAMETER
from chaincode.private import collection_members
from goldticket.messages import DecodedProposal, KeyWrite, hash_private_writes, sha256

from .ranges import RangeRead, SimulatedReadWriteSet
from .store import LedgerStore

MAX_UNICODE_RUNE = "\U0010ffff"


class _Records:
    def __init__(self, items: list[Any]) -> None:
        self._items = iter(items)

    def __aiter__(self) -> AsyncIterator[Any]:
        return self

    async def __anext__(self) -> Any:
        try:
            return next(self._items)
        except StopIteration:
            raise StopAsyncIteration from None


class SimulationStub(ChaincodeStubInterface):
    def __init__(
        self,
        store: LedgerStore,
        proposal: DecodedProposal,
        *,
        before_key_policies: bool = False,
        before_document_rule: bool = False,
    ) -> None:
        # True only when `ledger verify` replays a transaction recorded before the chaincode set
        # key-level endorsement policies (chaincode/state.py, State.key_policies), or a move
        # without documents recorded before #21's rule (State.require_documents)
        self.before_key_policies = before_key_policies
        self.before_document_rule = before_document_rule
        self._store = store
        self._proposal = proposal
        self._reads: dict[str, tuple[int, int] | None] = {}
        self._writes: dict[str, KeyWrite] = {}
        self._metadata: dict[str, bytes] = {}
        self._ranges: list[RangeRead] = []
        self._private: dict[tuple[str, str], KeyWrite] = {}
        self._event: tuple[str, bytes] | None = None
        self._timestamp = timestamp_pb2.Timestamp()
        self._timestamp.FromDatetime(proposal.timestamp)

    # what the contract sees
    def get_function_and_parameters(self) -> tuple[str, list[str]]:
        return self._proposal.function, list(self._proposal.text_args)

    def get_txid(self) -> str:
        return self._proposal.tx_id

    def get_channel_id(self) -> str:
        return self._proposal.channel_id

    def get_creator(self) -> dict[str, Any]:
        return {"mspid": self._proposal.creator.msp_id, "idBytes": self._proposal.creator.certificate_pem}

    def get_tx_timestamp(self) -> timestamp_pb2.Timestamp:
        return self._timestamp

    async def get_state(self, key: str) -> bytes:
        found = self._store.get(key)
        self._reads.setdefault(key, found[1] if found else None)
        return found[0] if found else b""

    async def get_state_multiple(self, keys: list[str]) -> list[bytes]:
        """Fabric v3's GetMultipleStates: the keys' committed values in order (b"" if absent),
        each read recorded as by get_state."""
        return [await self.get_state(key) for key in keys]

    async def put_state(self, key: str, value: bytes | str) -> None:
        if not key:
            raise ValueError("key must not be empty")
        data = value.encode() if isinstance(value, str) else bytes(value)
        self._writes[key] = KeyWrite(key, data, False)

    async def delete_state(self, key: str) -> None:
        self._writes[key] = KeyWrite(key, b"", True)

    async def get_state_by_range(self, start_key: str, end_key: str) -> _Records:
        end_key = end_key or MAX_UNICODE_RUNE
        records, seen = [], []
        for key, value, version in self._store.range(start_key, end_key):
            self._reads.setdefault(key, version)
            seen.append((key, version))
            records.append(kv_query_result_pb2.KV(key=key, value=value))
        self._ranges.append(RangeRead(start_key, end_key, tuple(seen)))
        return _Records(records)

    async def get_state_by_partial_composite_key(self, object_type: str, attributes: list[str]) -> _Records:
        prefix = self.create_composite_key(object_type, attributes)
        return await self.get_state_by_range(prefix, prefix + MAX_UNICODE_RUNE)

    async def get_history_for_key(self, key: str) -> _Records:
        """Every committed change of ``key``, newest first, as a Fabric peer (v2+) returns it."""
        records = []
        for tx_id, value, is_delete, seconds, nanos in self._store.history(key):
            records.append(
                kv_query_result_pb2.KeyModification(
                    tx_id=tx_id,
                    value=value or b"",
                    is_delete=is_delete,
                    timestamp=timestamp_pb2.Timestamp(seconds=seconds, nanos=nanos),
                )
            )
        return _Records(records)

    # private data, as a peer that is a member of every collection, enforcing the collections'
    # membership (memberOnlyRead, memberOnlyWrite) against the proposal's creator as Fabric does
    def get_transient(self) -> dict[str, bytes]:
        return self._proposal.transient_map

    def _require_member(self, collection: str, access: str) -> None:
        members = collection_members(collection)
        if not members:
            raise ValueError(
                f"collection {collection} is not defined for chaincode {self._proposal.chaincode}"
            )
        if self._proposal.creator.msp_id not in members:
            raise PermissionError(
                f"tx creator does not have {access} access permission on privatedata in "
                f"chaincodeName:{self._proposal.chaincode} collectionName: {collection}"
            )

    async def get_private_data(self, collection: str, key: str) -> bytes:
        self._require_member(collection, "read")
        return self._store.get_private(collection, key) or b""

    async def get_private_data_hash(self, collection: str, key: str) -> bytes:
        if not collection_members(collection):
            raise ValueError(
                f"collection {collection} is not defined for chaincode {self._proposal.chaincode}"
            )
        value = self._store.get_private(collection, key)
        return sha256(value) if value else b""

    async def put_private_data(self, collection: str, key: str, value: bytes) -> None:
        self._require_member(collection, "write")
        if not key:
            raise ValueError("key must not be empty")
        self._private[(collection, key)] = KeyWrite(key, bytes(value), False)

    @property
    def private_writes(self) -> tuple[tuple[str, KeyWrite], ...]:
        """The private values written (off the block), by collection and key."""
        return tuple((collection, write) for (collection, _), write in sorted(self._private.items()))

    async def set_state_validation_parameter(self, key: str, policy: bytes) -> None:
        """Fabric's key-level endorsement policy: recorded in the write set as a peer records it
        (the embedded ledger has one endorser, so it is kept for the record and a later move to
        Fabric; see chaincode/endorsement.py)."""
        self._metadata[key] = bytes(policy)

    def set_event(self, name: str, payload: bytes) -> None:
        self._event = (name, payload)

    def create_composite_key(self, object_type: str, attributes: list[str]) -> str:
        validate_composite_key_attribute(object_type)
        key = COMPOSITEKEY_NS + object_type + MIN_UNICODE_RUNE_VALUE
        for attribute in attributes:
            validate_composite_key_attribute(attribute)
            key += attribute + MIN_UNICODE_RUNE_VALUE
        return key

    def split_composite_key(self, composite_key: str) -> tuple[str | None, list[str]]:
        if not composite_key.startswith(COMPOSITEKEY_NS):
            return None, []
        parts = composite_key[1:].split(MIN_UNICODE_RUNE_VALUE)
        return parts[0], parts[1:-1]

    # what the ledger takes back
    def read_write_set(self, namespace: str) -> SimulatedReadWriteSet:
        metadata = tuple((key, VALIDATION_PARAMETER, value) for key, value in sorted(self._metadata.items()))
        by_collection: dict[str, list[KeyWrite]] = {}
        for collection, write in self.private_writes:
            by_collection.setdefault(collection, []).append(write)
        collections = tuple(
            hash_private_writes(name, tuple(writes)) for name, writes in by_collection.items()
        )
        return SimulatedReadWriteSet(
            namespace,
            tuple(sorted(self._reads.items())),
            tuple(self._writes.values()),
            metadata,
            collections,
            tuple(self._ranges),
        )

    @property
    def event(self) -> tuple[str, bytes] | None:
        return self._event
