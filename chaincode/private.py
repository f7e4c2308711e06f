"""Private data between the parties of a financing (#19): the discount terms.

A financing's rate, interest, fee and proceeds are known to the holder and the bank only. The
bank's rate reaches the chaincode in the proposal's transient map (entry ``request``, merged into
the request by the ``@transaction`` wrapper), which endorsers see and no block carries; the
approval writes the terms to the private data collection ``terms-<bank's MSP>``, whose members
are the operator's organisation (suppliers' identities are issued under its MSP) and the bank's.
The channel gets the hashes of key and value only; other organisations' peers never receive the
values (Fabric's private data dissemination goes to members only).

fabric-chaincode-python 2.5.4 has no private data or transient calls (empty stubs): on a peer
these functions have our handler (chaincode/peer_fixes.py) send what Fabric's Go shim sends
(GET_STATE / PUT_STATE with a collection, GET_PRIVATE_DATA_HASH); the embedded ledger's stub
keeps a private store per collection and enforces the collection's membership the same way
(memberOnlyRead / memberOnlyWrite), with the hashes in the public write set.
"""

from __future__ import annotations

import json
from typing import Any

from fabric_chaincode_python.fabric_shim.stub import ChaincodeStub

from goldticket import domain as d

OPERATOR_MSP = "OperatorMSP"
TERMS_PREFIX = "terms-"
PRIVATE_REQUEST = "request"  # the transient map's entry with the request's private fields


def terms_collection(bank_msp: str) -> str:
    """The collection a bank's financing terms live in."""
    return TERMS_PREFIX + bank_msp


def collection_members(collection: str) -> frozenset[str]:
    """The organisations (MSP ids) of a terms collection; empty for an unknown collection."""
    if not collection.startswith(TERMS_PREFIX) or len(collection) == len(TERMS_PREFIX):
        return frozenset()
    return frozenset({OPERATOR_MSP, collection[len(TERMS_PREFIX) :]})


def transient(stub: Any) -> dict[str, bytes]:
    """The proposal's transient map (empty when it has none)."""
    if isinstance(stub, ChaincodeStub):
        decoded = stub.signed_proposal_pb
        if not decoded:
            return {}
        payload = decoded["proposal"]["payload"]
        return {key: bytes(value) for key, value in payload.TransientMap.items()}
    return dict(stub.get_transient())


def private_request(stub: Any) -> dict[str, Any]:
    """The request's private fields from the transient map; InvalidInputError when the map has
    anything else or the entry is not a JSON object."""
    entries = transient(stub)
    stray = sorted(set(entries) - {PRIVATE_REQUEST})
    if stray:
        raise d.InvalidInputError(f"unexpected transient data: {', '.join(stray)}")
    if PRIVATE_REQUEST not in entries:
        return {}
    try:
        data = json.loads(entries[PRIVATE_REQUEST])
    except ValueError as error:
        raise d.InvalidInputError("the private request is not valid JSON") from error
    if not isinstance(data, dict):
        raise d.InvalidInputError("the private request must be a JSON object")
    return data


async def put_private(stub: Any, collection: str, key: str, value: bytes) -> None:
    """PutPrivateData: the value to the collection's members, its hash to the channel."""
    if isinstance(stub, ChaincodeStub):
        await stub.client.handle_put_state(collection, key, value, stub.channel_id, stub.tx_id)
        return
    await stub.put_private_data(collection, key, value)


async def get_private(stub: Any, collection: str, key: str) -> bytes:
    """GetPrivateData: the value on a member's peer (b"" where this peer holds none)."""
    if isinstance(stub, ChaincodeStub):
        return bytes(await stub.client.handle_get_state(collection, key, stub.channel_id, stub.tx_id))
    return bytes(await stub.get_private_data(collection, key))


async def get_private_hash(stub: Any, collection: str, key: str) -> bytes:
    """GetPrivateDataHash: SHA-256 of the value, on every peer of the channel (b"" if none)."""
    if isinstance(stub, ChaincodeStub):
        client = stub.client
        return bytes(await client.handle_get_private_data_hash(collection, key, stub.channel_id, stub.tx_id))
    return bytes(await stub.get_private_data_hash(collection, key))
