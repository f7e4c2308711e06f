"""The gaps of fabric-chaincode-python 2.5.4 that chaincode/peer_fixes.py works around, each
shown on the library's own handler and server against a real gRPC stream (a test client
plays the peer), and each fixed by ours. If the library fixes a gap, its "library" test fails:
then the workaround can go. tests/integration/test_chaincode_server.py runs ours against real peers.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import grpc
import pytest
from fabric_chaincode_python.fabric_shim.interfaces import Chaincode
from fabric_chaincode_python.fabric_shim.server import ChaincodeService, _internal_server
from fabric_protos.peer import (
    chaincode_pb2,
    chaincode_shim_pb2,
    chaincode_shim_pb2_grpc,
    proposal_response_pb2,
)

from chaincode.peer_fixes import PeerService, build_server
from goldticket import messages as m
from goldticket.signing import OrgCA, new_member_key

pytestmark = pytest.mark.unit
Message = chaincode_shim_pb2.ChaincodeMessage


class Writer(Chaincode):  # type: ignore[misc]
    """Writes one key per transaction and sets an event."""

    async def init(self, stub: Any) -> Any:
        return proposal_response_pb2.Response(status=200)

    async def invoke(self, stub: Any) -> Any:
        await stub.put_state(f"key-{stub.get_txid()}", b"value")
        stub.set_event("Written", b"payload")
        return proposal_response_pb2.Response(status=200, payload=b"ok")


def _proposal() -> bytes:
    ca = OrgCA.create("OperatorMSP", "test")
    key = new_member_key()
    cert = ca.issue(key.public_key(), common_name="x", attributes={"member": "x", "role": "clerk"})
    built = m.build_proposal(
        channel_id="ch", chaincode="cc", function="Put", args=[], creator=m.Identity("OperatorMSP", cert)
    )
    return built.bytes


PROPOSAL = _proposal()


async def _peer(
    make_server: Any,
    transactions: int,
    *,
    reply: int = Message.RESPONSE,
    idle: float = 0.0,
    channel_options: tuple[tuple[str, int], ...] = (),
) -> list[Any]:
    """Play the peer: register, send ``transactions`` at once, answer every state request with
    ``reply``, and return the COMPLETED messages received within 5 s."""
    server, port = make_server()
    await server.start()
    completed: list[Any] = []
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}", options=list(channel_options)) as channel:
            call = chaincode_shim_pb2_grpc.ChaincodeStub(channel).Connect()
            register = await call.read()
            assert register.type == Message.REGISTER
            await call.write(Message(type=Message.REGISTERED))
            await call.write(Message(type=Message.READY))
            await asyncio.sleep(idle)
            signed = m.signed_proposal(PROPOSAL, b"sig")
            payload = chaincode_pb2.ChaincodeInput(args=[b"Put"]).SerializeToString()
            try:
                for i in range(transactions):
                    await call.write(
                        Message(
                            type=Message.TRANSACTION,
                            txid=f"tx{i}",
                            channel_id="ch",
                            payload=payload,
                            proposal=signed,
                        )
                    )
            except (grpc.aio.AioRpcError, asyncio.InvalidStateError):
                return completed  # the server dropped the stream

            async def answer() -> None:
                while len(completed) < transactions:
                    message = await call.read()
                    if message is grpc.aio.EOF:
                        return
                    if message.type == Message.COMPLETED:
                        completed.append(message)
                    elif message.type == Message.PUT_STATE:
                        await call.write(
                            Message(
                                type=reply, txid=message.txid, channel_id=message.channel_id, payload=b"no"
                            )
                        )

            with contextlib.suppress(TimeoutError, grpc.aio.AioRpcError):
                await asyncio.wait_for(answer(), timeout=5)
            call.cancel()
    finally:
        await server.stop(0)
    return completed


def _library_server() -> tuple[grpc.aio.Server, int]:
    server = grpc.aio.server()
    port = server.add_insecure_port("127.0.0.1:0")
    chaincode_shim_pb2_grpc.add_ChaincodeServicer_to_server(ChaincodeService("cc", Writer()), server)
    return server, port


def _our_server() -> tuple[grpc.aio.Server, int]:
    return build_server(Writer(), "cc", "127.0.0.1:0")


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


# ----------------------------------------------------------------- stream writes
def test_library_loses_replies_when_transactions_overlap() -> None:
    """The overlap is a race: a few rounds of 200 transactions at once lose replies (on a real
    peer every such loss is a 30 s stall); if no round ever does, the library has a fix."""
    for _ in range(5):
        if len(run(_peer(_library_server, transactions=200))) < 200:
            return
    raise AssertionError("the library's handler answered every overlapping transaction")


def test_one_writer_answers_every_transaction() -> None:
    completed = run(_peer(_our_server, transactions=200))
    assert sorted(message.txid for message in completed) == sorted(f"tx{i}" for i in range(200))


# ------------------------------------------------------------------------ events
def test_library_drops_events() -> None:
    completed = run(_peer(_library_server, transactions=1))
    assert len(completed) == 1 and not completed[0].HasField("chaincode_event")


def test_events_reach_the_peer() -> None:
    (completed,) = run(_peer(_our_server, transactions=1))
    assert completed.chaincode_event.event_name == "Written"
    assert completed.chaincode_event.payload == b"payload"


# ------------------------------------------------------------------ ERROR replies
def _status(message: Any) -> int:
    return int(proposal_response_pb2.Response.FromString(message.payload).status)


def test_library_takes_a_peer_error_for_success() -> None:
    (completed,) = run(_peer(_library_server, transactions=1, reply=Message.ERROR))
    assert _status(completed) == 200


def test_a_peer_error_fails_the_transaction() -> None:
    (completed,) = run(_peer(_our_server, transactions=1, reply=Message.ERROR))
    response = proposal_response_pb2.Response.FromString(completed.payload)
    assert response.status == 500 and "no" in response.message


# --------------------------------------------------------------------- keepalive
# A peer that pings far more often than Fabric's once a minute, so the server's ping policy
# shows in seconds rather than the ~3 minutes it takes with a real peer.
PINGING = (
    ("grpc.keepalive_time_ms", 200),
    ("grpc.keepalive_timeout_ms", 1000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.max_pings_without_data", 0),
    ("grpc.http2.min_time_between_pings_ms", 100),
    ("grpc.http2.min_ping_interval_without_data_ms", 100),
)


def test_library_server_drops_a_peer_that_pings() -> None:
    completed = run(_peer(_library_server, transactions=1, idle=6.0, channel_options=PINGING))
    assert completed == []


def test_our_server_accepts_the_peer_pings() -> None:
    completed = run(_peer(_our_server, transactions=1, idle=6.0, channel_options=PINGING))
    assert len(completed) == 1


def test_library_builds_its_server_without_options() -> None:
    """The library's own server (what ``ContractChaincode.start`` runs) is built as
    ``_library_server`` above: no options, so the ping test above is about it."""
    import inspect

    source = inspect.getsource(_internal_server)
    assert "grpc.aio.server()" in source
    assert issubclass(PeerService, ChaincodeService)
