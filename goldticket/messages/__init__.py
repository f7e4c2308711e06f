"""The Fabric message codec: build, digest, sign-ready bytes and decode. Pure functions over
the ``fabric_protos`` bindings; it imports nothing else of GoldTicket's. The ledger adapters
and the signing gateway both stand on it."""

from .blocks import (
    Block,
    config_organisations,
    data_hash,
    decode_block,
    header_hash,
    last_config_index,
    new_block,
)
from .crypto import is_low_s, sha256, to_low_s, verify_signature
from .errors import BadSignatureError, MessageError
from .identity import Identity
from .proposal import (
    DecodedProposal,
    Proposal,
    build_proposal,
    compute_tx_id,
    decode_proposal,
    proposal_hash,
    signed_proposal,
    without_transient,
)
from .requests import (
    commit_status_request,
    deliver_payload,
    signed_commit_status_request,
)
from .transaction import (
    CollectionHashes,
    DecodedTransaction,
    HashedWrite,
    KeyWrite,
    PreparedTransaction,
    ReadWriteSet,
    build_response_payload,
    build_transaction_payload,
    decode_transaction,
    endorsement_message,
    hash_private_writes,
    signed_envelope,
)

__all__ = [
    "Block",
    "config_organisations",
    "data_hash",
    "decode_block",
    "last_config_index",
    "header_hash",
    "new_block",
    "is_low_s",
    "sha256",
    "to_low_s",
    "verify_signature",
    "BadSignatureError",
    "MessageError",
    "Identity",
    "DecodedProposal",
    "Proposal",
    "build_proposal",
    "compute_tx_id",
    "decode_proposal",
    "proposal_hash",
    "signed_proposal",
    "without_transient",
    "commit_status_request",
    "deliver_payload",
    "signed_commit_status_request",
    "DecodedTransaction",
    "KeyWrite",
    "PreparedTransaction",
    "ReadWriteSet",
    "CollectionHashes",
    "HashedWrite",
    "hash_private_writes",
    "build_response_payload",
    "build_transaction_payload",
    "decode_transaction",
    "endorsement_message",
    "signed_envelope",
]
