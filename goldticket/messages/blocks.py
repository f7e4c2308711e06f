"""Blocks: Fabric's Block message, its header hash chain and the transaction filter."""

from __future__ import annotations

import dataclasses
import functools

from fabric_protos.common import common_pb2, configtx_pb2

from .crypto import sha256
from .errors import MessageError


def _der_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    body = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _der(tag: int, body: bytes) -> bytes:
    return bytes([tag]) + _der_length(len(body)) + body


def header_hash(number: int, previous_hash: bytes, data_hash: bytes) -> bytes:
    """Fabric's block hash: SHA-256 of the DER SEQUENCE {number, previous_hash, data_hash}."""
    number_bytes = number.to_bytes(number.bit_length() // 8 + 1, "big")
    body = _der(0x02, number_bytes) + _der(0x04, previous_hash) + _der(0x04, data_hash)
    return sha256(_der(0x30, body))


def data_hash(envelopes: list[bytes]) -> bytes:
    """Fabric's block data hash: SHA-256 of the concatenated transaction envelopes."""
    return sha256(b"".join(envelopes))


@dataclasses.dataclass(frozen=True)
class Block:
    number: int
    previous_hash: bytes
    data_hash: bytes
    envelopes: tuple[bytes, ...]
    validation_codes: tuple[int, ...]

    @functools.cached_property
    def hash(self) -> bytes:  # computed once: the store hashes a block it appends twice
        return header_hash(self.number, self.previous_hash, self.data_hash)

    def encode(self) -> bytes:
        metadata = [b""] * len(common_pb2.BlockMetadataIndex.keys())
        metadata[common_pb2.TRANSACTIONS_FILTER] = bytes(self.validation_codes)
        return common_pb2.Block(
            header=common_pb2.BlockHeader(
                number=self.number, previous_hash=self.previous_hash, data_hash=self.data_hash
            ),
            data=common_pb2.BlockData(data=list(self.envelopes)),
            metadata=common_pb2.BlockMetadata(metadata=metadata),
        ).SerializeToString()


def new_block(number: int, previous_hash: bytes, envelopes: list[bytes], codes: list[int]) -> Block:
    if len(envelopes) != len(codes):
        raise MessageError("one validation code per transaction")
    return Block(number, previous_hash, data_hash(envelopes), tuple(envelopes), tuple(codes))


def decode_block(data: bytes) -> Block:
    """Decode a Block message and check its data hash. Raises MessageError."""
    try:
        block = common_pb2.Block.FromString(data)
    except Exception as error:
        raise MessageError("block does not decode") from error
    envelopes = tuple(bytes(item) for item in block.data.data)
    metadata = block.metadata.metadata
    codes = tuple(metadata[common_pb2.TRANSACTIONS_FILTER]) if len(metadata) > 2 else ()
    if data_hash(list(envelopes)) != block.header.data_hash:
        raise MessageError(f"block {block.header.number} data hash does not match its transactions")
    return Block(
        block.header.number,
        bytes(block.header.previous_hash),
        bytes(block.header.data_hash),
        envelopes,
        codes,
    )


def last_config_index(data: bytes) -> int:
    """The number of the channel's newest config block, as the orderer wrote it in block ``data``'s
    signatures metadata (OrdererBlockMetadata.last_config). Raises MessageError."""
    try:
        block = common_pb2.Block.FromString(data)
        signatures = common_pb2.Metadata.FromString(block.metadata.metadata[common_pb2.SIGNATURES])
        index = common_pb2.OrdererBlockMetadata.FromString(signatures.value).last_config.index
    except Exception as error:
        raise MessageError("the block names no last config block") from error
    if index > block.header.number:
        raise MessageError(f"block {block.header.number} names config block {index}, a later one")
    return int(index)


def config_organisations(data: bytes) -> tuple[str, ...]:
    """The channel's application organisations (MSP ids, sorted) in config block ``data``: the
    channel's members, whose peers a MAJORITY endorsement counts. Raises MessageError."""
    try:
        block = common_pb2.Block.FromString(data)
        envelope = common_pb2.Envelope.FromString(block.data.data[0])
        payload = common_pb2.Payload.FromString(envelope.payload)
        channel_header = common_pb2.ChannelHeader.FromString(payload.header.channel_header)
        if channel_header.type != common_pb2.CONFIG:
            raise MessageError(f"block {block.header.number} is not a config block")
        config = configtx_pb2.ConfigEnvelope.FromString(payload.data).config
        application = config.channel_group.groups["Application"]
    except MessageError:
        raise
    except Exception as error:
        raise MessageError("the config block does not decode") from error
    return tuple(sorted(application.groups))
