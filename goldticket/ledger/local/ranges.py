"""Range reads in the read-write set, for Fabric's phantom check.

A transaction that scanned a key range (``get_state_by_range``, partial composite keys) read
more than the keys it got: it read that no other key was there. Fabric records each scan in the
KVRWSet's ``range_queries_info`` (start, end, and the keys with the versions seen) and at
commit marks the transaction PHANTOM_READ_CONFLICT when the same scan would now return
something else. The embedded ledger does the same: the stub records the scans, the endorsed
read-write set carries them (``SimulatedReadWriteSet.encode``), and the commit and
``verify`` read them back from the envelope (``range_reads``).
"""

from __future__ import annotations

import dataclasses

from fabric_protos.ledger.rwset import rwset_pb2
from fabric_protos.ledger.rwset.kvrwset import kv_rwset_pb2
from fabric_protos.peer import proposal_pb2, proposal_response_pb2

from goldticket.messages import ReadWriteSet

Version = tuple[int, int]


@dataclasses.dataclass(frozen=True)
class RangeRead:
    """One scan of ``start`` <= key < ``end`` and the keys (with versions) it returned."""

    start: str
    end: str
    results: tuple[tuple[str, Version], ...]


@dataclasses.dataclass(frozen=True)
class SimulatedReadWriteSet(ReadWriteSet):
    """A read-write set that also carries its range reads, encoded as Fabric does."""

    ranges: tuple[RangeRead, ...] = ()

    def encode(self) -> bytes:
        kv = kv_rwset_pb2.KVRWSet(
            reads=[_kv_read(key, version) for key, version in self.reads],
            range_queries_info=[
                kv_rwset_pb2.RangeQueryInfo(
                    start_key=scan.start,
                    end_key=scan.end,
                    itr_exhausted=True,
                    raw_reads=kv_rwset_pb2.QueryReads(
                        kv_reads=[_kv_read(key, version) for key, version in scan.results]
                    ),
                )
                for scan in self.ranges
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


def _kv_read(key: str, version: Version | None) -> kv_rwset_pb2.KVRead:
    if version is None:
        return kv_rwset_pb2.KVRead(key=key)
    return kv_rwset_pb2.KVRead(key=key, version=kv_rwset_pb2.Version(block_num=version[0], tx_num=version[1]))


def range_reads(response_payload: bytes, namespace: str) -> tuple[RangeRead, ...]:
    """The range reads of ``namespace`` in an endorsed ProposalResponsePayload. Raises
    ValueError (or protobuf's DecodeError) when it does not decode."""
    action = proposal_pb2.ChaincodeAction.FromString(
        proposal_response_pb2.ProposalResponsePayload.FromString(response_payload).extension
    )
    if not action.results:
        return ()
    scans: list[RangeRead] = []
    for ns in rwset_pb2.TxReadWriteSet.FromString(action.results).ns_rwset:
        if ns.namespace != namespace:
            continue
        for info in kv_rwset_pb2.KVRWSet.FromString(ns.rwset).range_queries_info:
            if info.HasField("reads_merkle_hashes") or not info.itr_exhausted:
                raise ValueError("range reads must be raw and exhausted")
            results = tuple(
                (read.key, (read.version.block_num, read.version.tx_num)) for read in info.raw_reads.kv_reads
            )
            scans.append(RangeRead(info.start_key, info.end_key, results))
    return tuple(scans)
