"""The other signed requests a client sends a peer: commit status and Deliver (block reading).

What is signed: the serialized CommitStatusRequest for a commit status; the Envelope payload of
a DELIVER_SEEK_INFO header with SeekInfo data for Deliver (a peer checks its timestamp against
its clock, so it is always the real time).
"""

from __future__ import annotations

import datetime as dt
import os

from fabric_protos.common import common_pb2
from fabric_protos.gateway import gateway_pb2
from fabric_protos.orderer import ab_pb2
from google.protobuf import timestamp_pb2

from .identity import Identity
from .proposal import NONCE_BYTES, compute_tx_id


def commit_status_request(tx_id: str, channel_id: str, identity: Identity) -> bytes:
    """The bytes to sign for asking a gateway whether ``tx_id`` committed."""
    return gateway_pb2.CommitStatusRequest(
        transaction_id=tx_id, channel_id=channel_id, identity=identity.serialize()
    ).SerializeToString()


def signed_commit_status_request(request: bytes, signature: bytes) -> gateway_pb2.SignedCommitStatusRequest:
    return gateway_pb2.SignedCommitStatusRequest(request=request, signature=signature)


def deliver_payload(
    channel_id: str, identity: Identity, start: int, stop: int | None = None, *, newest: bool = False
) -> bytes:
    """The payload of a Deliver request for blocks ``start``..``stop`` (``stop`` None: up to the
    newest block at the time of the request; ``newest``: only the newest block)."""
    nonce = os.urandom(NONCE_BYTES)
    creator = identity.serialize()
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(dt.datetime.now(dt.UTC))
    channel_header = common_pb2.ChannelHeader(
        type=common_pb2.DELIVER_SEEK_INFO,
        channel_id=channel_id,
        tx_id=compute_tx_id(nonce, creator),
        timestamp=stamp,
    )
    header = common_pb2.Header(
        channel_header=channel_header.SerializeToString(),
        signature_header=common_pb2.SignatureHeader(creator=creator, nonce=nonce).SerializeToString(),
    )
    newest_position = ab_pb2.SeekPosition(newest=ab_pb2.SeekNewest())
    first = newest_position if newest else ab_pb2.SeekPosition(specified=ab_pb2.SeekSpecified(number=start))
    last = (
        newest_position if stop is None else ab_pb2.SeekPosition(specified=ab_pb2.SeekSpecified(number=stop))
    )
    seek = ab_pb2.SeekInfo(start=first, stop=last, behavior=ab_pb2.SeekInfo.BLOCK_UNTIL_READY)
    return common_pb2.Payload(header=header, data=seek.SerializeToString()).SerializeToString()
