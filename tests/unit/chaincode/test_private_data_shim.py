"""#19: private data over the peer protocol. fabric-chaincode-python 2.5.4 has no private data
or transient calls (its stub's are empty stubs of the interface); chaincode/private.py with our
handler (chaincode/peer_fixes.py) sends what Fabric's Go shim sends: GetPrivateData is GET_STATE
naming the collection, PutPrivateData is PUT_STATE naming it (or a WRITE_BATCH_STATE record when
the peer offers batching), GetPrivateDataHash is GET_PRIVATE_DATA_HASH with a GetState payload,
and the transient map is the one in the proposal the peer sends. A test client plays the peer;
tests/integration/test_private_terms_peers.py runs it against real peers."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import grpc
import pytest
from fabric_chaincode_python.fabric_shim.interfaces import Chaincode, ChaincodeStubInterface
from fabric_chaincode_python.fabric_shim.stub import ChaincodeStub
from fabric_protos.peer import (
    chaincode_pb2,
    chaincode_shim_pb2,
    chaincode_shim_pb2_grpc,
    proposal_response_pb2,
)

from chaincode import private
from chaincode.peer_fixes import build_server
from goldticket import messages as m
from goldticket.signing import OrgCA, new_member_key

pytestmark = pytest.mark.unit
Message = chaincode_shim_pb2.ChaincodeMessage
COLLECTION = "terms-BankMSP"


class PrivateTerms(Chaincode):  # type: ignore[misc]
    """Reads the transient map, writes it to a collection, reads the value and its hash back."""

    async def init(self, stub: Any) -> Any:
        return proposal_response_pb2.Response(status=200)

    async def invoke(self, stub: Any) -> Any:
        secret = private.transient(stub)["request"]
        await private.put_private(stub, COLLECTION, "k1", secret)
        value = await private.get_private(stub, COLLECTION, "k1")
        digest = await private.get_private_hash(stub, COLLECTION, "k1")
        return proposal_response_pb2.Response(status=200, payload=value + b"|" + digest)


def _proposal(transient: dict[str, bytes]) -> bytes:
    ca = OrgCA.create("BankMSP", "test")
    key = new_member_key()
    cert = ca.issue(key.public_key(), common_name="x", attributes={"member": "x", "role": "clerk"})
    built = m.build_proposal(
        channel_id="ch",
        chaincode="cc",
        function="Put",
        args=[],
        creator=m.Identity("BankMSP", cert),
        transient=transient,
    )
    return built.bytes


def _ready_payload(batch: int) -> bytes:
    """ChaincodeAdditionalParams: use_write_batch = 1, max_size_write_batch = 2 (varints)."""
    return bytes([0x08, 1, 0x10, batch]) if batch else b""


async def _peer(batch: int = 0) -> tuple[list[Any], Any]:
    """Play the peer for one transaction carrying a transient map; answer GET_STATE with
    b"stored", GET_PRIVATE_DATA_HASH with b"hash" and every write with an empty RESPONSE.
    Returns the chaincode's state messages and its COMPLETED message."""
    server, port = build_server(PrivateTerms(), "cc", "127.0.0.1:0")
    await server.start()
    sent: list[Any] = []
    completed: list[Any] = []
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            call = chaincode_shim_pb2_grpc.ChaincodeStub(channel).Connect()
            assert (await call.read()).type == Message.REGISTER
            await call.write(Message(type=Message.REGISTERED))
            await call.write(Message(type=Message.READY, payload=_ready_payload(batch)))
            signed = m.signed_proposal(_proposal({"request": b"rate=317"}), b"sig")
            payload = chaincode_pb2.ChaincodeInput(args=[b"Put"]).SerializeToString()
            await call.write(
                Message(
                    type=Message.TRANSACTION, txid="tx1", channel_id="ch", payload=payload, proposal=signed
                )
            )

            async def answer() -> None:
                while not completed:
                    message = await call.read()
                    if message is grpc.aio.EOF:
                        return
                    if message.type == Message.COMPLETED:
                        completed.append(message)
                        return
                    sent.append(message)
                    reply = {Message.GET_STATE: b"stored", Message.GET_PRIVATE_DATA_HASH: b"hash"}.get(
                        message.type, b""
                    )
                    await call.write(
                        Message(
                            type=Message.RESPONSE,
                            txid=message.txid,
                            channel_id=message.channel_id,
                            payload=reply,
                        )
                    )

            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(answer(), timeout=5)
            call.cancel()
    finally:
        await server.stop(0)
    assert completed, "the chaincode did not complete"
    return sent, completed[0]


def test_library_stub_has_no_private_data_or_transient_calls() -> None:
    """The gap: the library's stub inherits the interface's empty stubs (they take no
    arguments and return None); if it gains real ones, chaincode/private.py may use them."""
    for name in ("get_private_data", "put_private_data", "get_private_data_hash", "get_transient"):
        assert getattr(ChaincodeStub, name) is getattr(ChaincodeStubInterface, name), name
        assert getattr(ChaincodeStubInterface, name)(None) is None


def test_private_data_calls_go_to_the_peer_as_fabrics_shim_sends_them() -> None:
    sent, completed = asyncio.run(_peer())
    assert [Message.Type.Name(message.type) for message in sent] == [
        "PUT_STATE",
        "GET_STATE",
        "GET_PRIVATE_DATA_HASH",
    ]
    put = chaincode_shim_pb2.PutState.FromString(sent[0].payload)
    assert (put.key, put.value, put.collection) == ("k1", b"rate=317", COLLECTION)  # the transient value
    for message in sent[1:]:
        read = chaincode_shim_pb2.GetState.FromString(message.payload)
        assert (read.key, read.collection) == ("k1", COLLECTION)
        assert (message.txid, message.channel_id) == ("tx1", "ch")
    response = proposal_response_pb2.Response.FromString(completed.payload)
    assert response.status == 200 and response.payload == b"stored|hash"


def test_a_private_write_is_batched_with_its_collection_where_the_peer_batches() -> None:
    sent, completed = asyncio.run(_peer(batch=10))
    names = [Message.Type.Name(message.type) for message in sent]
    assert names == ["GET_STATE", "GET_PRIVATE_DATA_HASH", "WRITE_BATCH_STATE"]
    (record,) = chaincode_shim_pb2.WriteBatchState.FromString(sent[-1].payload).rec
    assert (record.key, record.value, record.collection) == ("k1", b"rate=317", COLLECTION)
    assert record.type == chaincode_shim_pb2.WriteRecord.PUT_STATE


def test_the_transient_map_stays_out_of_the_transaction() -> None:
    """The proposal carries the transient map; its hash and the transaction's payload do not
    (Fabric's GetProposalHash1 and the gateway's prepareTransaction strip it)."""
    bytes_with = _proposal({"request": b"rate=317"})
    decoded = m.decode_proposal(bytes_with)
    assert decoded.transient_map == {"request": b"rate=317"}
    assert b"rate=317" in bytes_with and b"rate=317" not in decoded.payload_bytes
    from fabric_protos.peer import proposal_pb2

    payload = proposal_pb2.ChaincodeProposalPayload.FromString(
        proposal_pb2.Proposal.FromString(bytes_with).payload
    )
    assert decoded.payload_bytes == m.without_transient(payload)
    assert not proposal_pb2.ChaincodeProposalPayload.FromString(decoded.payload_bytes).TransientMap
