"""Fixes around fabric-chaincode-python 2.5.4 for serving the contract to real Fabric peers
(chaincode as a service), kept in one place. Nothing in site-packages is patched: we build the
gRPC server ourselves and give it a subclass of the library's Handler.

- **One writer on the peer stream.** The library handles each peer message in its own task and
  every task writes to the stream; with 5 or more transactions in flight two writes overlap, one
  fails with GRPC_CALL_ERROR_TOO_MANY_OPERATIONS and is lost, and the peer waits its 30 s
  execute timeout. :class:`SerialisedStream` puts one asyncio lock around writes.
- **Keepalive.** The library's server takes no options, so it answers the peer's keepalive
  pings with GOAWAY "too_many_pings" and drops the stream after a few idle minutes.
  :data:`SERVER_OPTIONS` accepts the peer's pings.
- **Events.** ``stub.set_event`` collects events that never reach the peer; our handler puts
  the last one into the COMPLETED message, as Fabric's Go shim does.
- **Peer ERROR replies.** The library resolves an ERROR reply (a failed GetState, PutState...)
  as if it were a RESPONSE; our queue fails the waiting call with the peer's message instead.
- **Log noise.** The library's handler logs a WARNING for every message and the payload of
  every message at INFO; ours logs nothing per message.

tests/integration/test_chaincode_server.py runs each against a real peer and
tests/unit/chaincode/test_peer_fixes.py checks the library still has each gap.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterable
from typing import Any

import grpc
from fabric_chaincode_python.fabric_shim.handler import STATES, Handler
from fabric_chaincode_python.fabric_shim.msg_queue_handler import MsgQueueHandler
from fabric_chaincode_python.fabric_shim.response import ResponseCode, new_error_msg
from fabric_chaincode_python.fabric_shim.server import ChaincodeService
from fabric_chaincode_python.fabric_shim.stub import ChaincodeStub
from fabric_protos.peer import chaincode_pb2, chaincode_shim_pb2, proposal_response_pb2

Message: Any = chaincode_shim_pb2.ChaincodeMessage

# The peer pings its chaincode connections every minute (Fabric's default client keepalive);
# gRPC servers by default allow one ping in 5 minutes and close the stream after 2 strikes.
SERVER_OPTIONS = (
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.min_recv_ping_interval_without_data_ms", 10_000),
    ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
    ("grpc.http2.max_ping_strikes", 0),
    ("grpc.max_receive_message_length", 100 * 1024 * 1024),
    ("grpc.max_send_message_length", 100 * 1024 * 1024),
)


class SerialisedStream:
    """The servicer context with one writer at a time; everything else passes through."""

    def __init__(self, context: Any) -> None:
        self._context = context
        self._lock = asyncio.Lock()

    async def write(self, message: Any) -> None:
        async with self._lock:
            await self._context.write(message)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)


class CheckedQueue(MsgQueueHandler):  # type: ignore[misc]
    """The library's per-transaction request queue, failing a call the peer answered ERROR."""

    async def handle_msg_response(self, response: Any) -> None:
        if response.type == Message.ERROR:
            pending = self.tx_queues.get(response.channel_id + response.txid)
            if pending:
                current = pending[0]
                reason = bytes(response.payload).decode("utf-8", errors="replace") or "peer error"
                current.success = lambda _response: current.fail(reason)
        await super().handle_msg_response(response)


class PeerHandler(Handler):  # type: ignore[misc]
    """The library's Handler with one stream writer, ERROR replies, events and quiet logs."""

    async def chat_with_peer(self, stream: AsyncIterable[Any], context: Any) -> None:
        self.state = STATES.CREATED
        self.context = SerialisedStream(context)
        self.msg_queue_handler = CheckedQueue(self)
        register = Message(type=Message.REGISTER, payload=self.chaincode_id.SerializeToString())
        register.timestamp.FromDatetime(dt.datetime.now(dt.UTC).replace(tzinfo=None))
        await self.context.write(register)
        async for message in stream:
            if message is None:
                return
            self._track_task(self.handle_message(message))
        if self._pending_tasks:
            await asyncio.gather(*self._pending_tasks, return_exceptions=True)

    async def handle_message(self, msg: Any) -> None:
        if msg.type == Message.KEEPALIVE:
            return
        if self.state == STATES.READY:
            await self.handle_message_ready(msg)
        elif self.state == STATES.ESTABLISHED:
            await self.handle_message_established(msg)
        elif self.state == STATES.CREATED:
            await self.handle_message_created(msg)
        else:
            await self.context.write(new_error_msg(msg, self.state))

    async def handle_stub_interaction(self, msg: Any, action: str = "Invoke") -> None:
        cc_input = chaincode_pb2.ChaincodeInput.FromString(msg.payload)
        stub = ChaincodeStub(self, msg.channel_id, msg.txid, cc_input, msg.proposal)
        try:
            if action.lower() == "init":
                response = await self.chaincode.init(stub)
            else:
                response = await self.chaincode.invoke(stub)
        except Exception as error:  # the peer must always get an answer
            response = proposal_response_pb2.Response(status=ResponseCode.ERROR, message=str(error))
        if response is None or not response.status:
            response = proposal_response_pb2.Response(
                status=ResponseCode.ERROR, message=f"{action} returned no response"
            )
        completed = Message(
            type=Message.COMPLETED,
            payload=response.SerializeToString(),
            txid=msg.txid,
            channel_id=msg.channel_id,
        )
        events = stub.get_events()
        if events and response.status < ResponseCode.ERRORTHRESHOLD:
            completed.chaincode_event.CopyFrom(events[-1])
        await self.context.write(completed)


class PeerService(ChaincodeService):  # type: ignore[misc]
    """The Chaincode gRPC service, chatting through :class:`PeerHandler`."""

    async def Connect(self, request_iterator: AsyncIterable[Any], context: Any) -> None:  # noqa: N802
        with contextlib.suppress(asyncio.CancelledError):
            await PeerHandler(self._ccid, self._cc).chat_with_peer(request_iterator, context)


def build_server(chaincode: Any, chaincode_id: str, address: str) -> tuple[grpc.aio.Server, int]:
    """An asyncio gRPC server serving ``chaincode`` as ``chaincode_id`` on ``address`` (no TLS:
    it listens on loopback for its own peer). Returns the server and its port."""
    from fabric_protos.peer import chaincode_shim_pb2_grpc

    server = grpc.aio.server(options=list(SERVER_OPTIONS))
    port = server.add_insecure_port(address)
    chaincode_shim_pb2_grpc.add_ChaincodeServicer_to_server(PeerService(chaincode_id, chaincode), server)
    return server, port
