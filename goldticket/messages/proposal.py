"""Chaincode proposals: build, digest, sign and decode, as a Fabric peer sees them.

A proposal nests serialized bytes: Proposal{header: Header{ChannelHeader{..., extension:
ChaincodeHeaderExtension}, SignatureHeader{creator, nonce}}, payload: ChaincodeProposalPayload
{input: ChaincodeInvocationSpec, TransientMap}}. What is signed is the serialized Proposal itself.

The transient map (private inputs, e.g. a financing's rate, #19) travels to the endorsers only:
as on a Fabric peer (protoutil.GetProposalHash1, the gateway's prepareTransaction), the proposal
hash and the transaction carry the payload without it, so it never lands in a block.
"""

from __future__ import annotations

import builtins
import dataclasses
import datetime as dt
import os

from fabric_protos.common import common_pb2
from fabric_protos.peer import chaincode_pb2, proposal_pb2
from google.protobuf import timestamp_pb2

from .crypto import sha256
from .errors import MessageError
from .identity import Identity
from .memo import PROPOSALS

NONCE_BYTES = 24
MIN_NONCE_BYTES = 16


def compute_tx_id(nonce: bytes, creator: bytes) -> str:
    """Fabric's transaction id: hex SHA-256 of nonce followed by the serialized creator."""
    return sha256(nonce + creator).hex()


@dataclasses.dataclass(frozen=True)
class Proposal:
    """An unsigned proposal: ``bytes`` is what the signer signs, ``digest`` its SHA-256."""

    bytes: builtins.bytes
    tx_id: str

    @property
    def digest(self) -> builtins.bytes:
        return sha256(self.bytes)


@dataclasses.dataclass(frozen=True)
class DecodedProposal:
    channel_id: str
    chaincode: str
    function: str
    args: tuple[bytes, ...]
    creator: Identity
    creator_bytes: bytes
    nonce: bytes
    tx_id: str
    timestamp: dt.datetime
    header_bytes: bytes
    channel_header_bytes: bytes
    signature_header_bytes: bytes
    payload_bytes: bytes
    timestamp_seconds: int
    timestamp_nanos: int
    # the transient map, sorted by key; ``payload_bytes`` is the payload without it
    transient: tuple[tuple[str, bytes], ...] = ()

    @property
    def transient_map(self) -> dict[str, bytes]:
        return dict(self.transient)

    @property
    def text_args(self) -> tuple[str, ...]:
        return tuple(arg.decode("utf-8") for arg in self.args)


def build_proposal(
    *,
    channel_id: str,
    chaincode: str,
    function: str,
    args: list[str] | tuple[str, ...],
    creator: Identity,
    timestamp: dt.datetime | None = None,
    nonce: bytes | None = None,
    transient: dict[str, bytes] | None = None,
) -> Proposal:
    """A chaincode invocation proposal of ``function(*args)`` by ``creator``, with ``transient``
    (private inputs the endorsers see and the block does not) in its payload's transient map."""
    nonce = nonce if nonce is not None else os.urandom(NONCE_BYTES)
    creator_bytes = creator.serialize()
    tx_id = compute_tx_id(nonce, creator_bytes)
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(timestamp or dt.datetime.now(dt.UTC))
    chaincode_id = chaincode_pb2.ChaincodeID(name=chaincode)
    channel_header = common_pb2.ChannelHeader(
        type=common_pb2.ENDORSER_TRANSACTION,
        channel_id=channel_id,
        tx_id=tx_id,
        timestamp=stamp,
        extension=proposal_pb2.ChaincodeHeaderExtension(chaincode_id=chaincode_id).SerializeToString(),
    )
    signature_header = common_pb2.SignatureHeader(creator=creator_bytes, nonce=nonce)
    header = common_pb2.Header(
        channel_header=channel_header.SerializeToString(),
        signature_header=signature_header.SerializeToString(),
    )
    spec = chaincode_pb2.ChaincodeSpec(
        type=chaincode_pb2.ChaincodeSpec.NODE,
        chaincode_id=chaincode_id,
        input=chaincode_pb2.ChaincodeInput(args=[function.encode()] + [arg.encode("utf-8") for arg in args]),
    )
    payload = proposal_pb2.ChaincodeProposalPayload(
        input=chaincode_pb2.ChaincodeInvocationSpec(chaincode_spec=spec).SerializeToString()
    )
    header_bytes = header.SerializeToString()
    payload_bytes = payload.SerializeToString()  # what the transaction carries
    signed_payload = payload_bytes
    transient_items = tuple(sorted((str(k), bytes(v)) for k, v in (transient or {}).items()))
    if transient_items:
        payload.TransientMap.update(dict(transient_items))
        signed_payload = payload.SerializeToString(deterministic=True)
    proposal_bytes = proposal_pb2.Proposal(header=header_bytes, payload=signed_payload).SerializeToString()
    if len(nonce) >= MIN_NONCE_BYTES and creator.msp_id and creator.certificate_pem:
        # what decode_proposal(proposal_bytes) returns, known without parsing it back
        PROPOSALS.remember(
            proposal_bytes,
            DecodedProposal(
                channel_id=channel_id,
                chaincode=chaincode,
                function=function,
                args=tuple(arg.encode("utf-8") for arg in args),
                creator=Identity(creator.msp_id, bytes(creator.certificate_pem)),
                creator_bytes=creator_bytes,
                nonce=bytes(nonce),
                tx_id=tx_id,
                timestamp=stamp.ToDatetime(tzinfo=dt.UTC),
                header_bytes=header_bytes,
                channel_header_bytes=header.channel_header,
                signature_header_bytes=header.signature_header,
                payload_bytes=payload_bytes,
                timestamp_seconds=stamp.seconds,
                timestamp_nanos=stamp.nanos,
                transient=transient_items,
            ),
        )
    return Proposal(proposal_bytes, tx_id)


def signed_proposal(proposal_bytes: bytes, signature: bytes) -> proposal_pb2.SignedProposal:
    """Offline signing: put a signature made elsewhere onto the proposal bytes."""
    return proposal_pb2.SignedProposal(proposal_bytes=proposal_bytes, signature=signature)


def decode_proposal(proposal_bytes: bytes) -> DecodedProposal:
    """Everything a peer or a signing gateway needs to know about a proposal.

    Raises MessageError when any nested message does not parse or the tx id is wrong. Bytes
    this process built (``build_proposal``) are not parsed again (``memo``).
    """
    remembered: DecodedProposal | None = PROPOSALS.recall(proposal_bytes)
    if remembered is not None:
        return remembered
    try:
        proposal = proposal_pb2.Proposal.FromString(proposal_bytes)
        header = common_pb2.Header.FromString(proposal.header)
        channel_header = common_pb2.ChannelHeader.FromString(header.channel_header)
        signature_header = common_pb2.SignatureHeader.FromString(header.signature_header)
        extension = proposal_pb2.ChaincodeHeaderExtension.FromString(channel_header.extension)
        payload = proposal_pb2.ChaincodeProposalPayload.FromString(proposal.payload)
        spec = chaincode_pb2.ChaincodeInvocationSpec.FromString(payload.input).chaincode_spec
    except Exception as error:
        raise MessageError("proposal does not decode") from error
    if channel_header.type != common_pb2.ENDORSER_TRANSACTION:
        raise MessageError("proposal is not an endorser transaction")
    if len(signature_header.nonce) < MIN_NONCE_BYTES:
        raise MessageError("proposal nonce is too short")
    tx_id = compute_tx_id(signature_header.nonce, signature_header.creator)
    if channel_header.tx_id != tx_id:
        raise MessageError("proposal tx id is not SHA-256(nonce + creator)")
    if not spec.input.args:
        raise MessageError("proposal names no function")
    if spec.chaincode_id.name != extension.chaincode_id.name:
        raise MessageError("proposal header and payload name different chaincodes")
    payload_bytes = bytes(proposal.payload)
    if payload.TransientMap:
        payload_bytes = without_transient(payload)
    return DecodedProposal(
        channel_id=channel_header.channel_id,
        chaincode=spec.chaincode_id.name,
        function=spec.input.args[0].decode("utf-8", errors="replace"),
        args=tuple(bytes(arg) for arg in spec.input.args[1:]),
        creator=Identity.deserialize(signature_header.creator),
        creator_bytes=bytes(signature_header.creator),
        nonce=bytes(signature_header.nonce),
        tx_id=tx_id,
        timestamp=channel_header.timestamp.ToDatetime(tzinfo=dt.UTC),
        header_bytes=bytes(proposal.header),
        channel_header_bytes=bytes(header.channel_header),
        signature_header_bytes=bytes(header.signature_header),
        payload_bytes=payload_bytes,
        timestamp_seconds=channel_header.timestamp.seconds,
        timestamp_nanos=channel_header.timestamp.nanos,
        transient=tuple(sorted((key, bytes(value)) for key, value in payload.TransientMap.items())),
    )


def without_transient(payload: proposal_pb2.ChaincodeProposalPayload) -> bytes:
    """The payload as the transaction carries it: its input only (Fabric's
    ChaincodeProposalPayload{Input, TransientMap: nil})."""
    return bytes(proposal_pb2.ChaincodeProposalPayload(input=payload.input).SerializeToString())


def proposal_hash(decoded: DecodedProposal) -> bytes:
    """The hash endorsers bind their response to (channel header, signature header, payload)."""
    return sha256(decoded.channel_header_bytes + decoded.signature_header_bytes + decoded.payload_bytes)
