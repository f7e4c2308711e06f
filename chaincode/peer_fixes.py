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
- **Write batching (Fabric v3).** A v3 peer says in its READY message (ChaincodeAdditionalParams)
  that it takes a transaction's writes in one WRITE_BATCH_STATE message; the library sends each
  PUT_STATE and DEL_STATE as its own round trip. Our handler keeps a transaction's writes (the
  last one per key wins, as in the peer's simulator, which never shows a transaction its own
  writes) and sends them in batches of at most the peer's size before COMPLETED, as Fabric's Go
  shim does; a peer that does not offer it gets the single messages.
- **Key metadata.** The library has no PUT_STATE_METADATA (key-level endorsement policies):
  :meth:`PeerHandler.handle_put_state_metadata` sends it, batched like the writes.
- **Private data.** The library's stub has no GetPrivateData, PutPrivateData or
  GetPrivateDataHash (empty stubs): as Fabric's Go shim, private reads and writes are GET_STATE
  and PUT_STATE (or a WRITE_BATCH_STATE record) naming the collection, which the handler's
  ``handle_get_state``/``handle_put_state`` already take; :meth:`PeerHandler.
  handle_get_private_data_hash` sends GET_PRIVATE_DATA_HASH (a GetState payload). The transient
  map is read from the proposal the peer sends (chaincode/private.py).

tests/integration/test_chaincode_server.py runs each against a real peer and
tests/unit/chaincode/test_peer_fixes.py checks the library still has each gap.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import datetime as dt
import os
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
Record: Any = chaincode_shim_pb2.WriteRecord
# GOLDTICKET_CHAINCODE_WRITE_BATCH=0 turns write batching off (to measure what it saves).
WRITE_BATCH_VARIABLE = "GOLDTICKET_CHAINCODE_WRITE_BATCH"
# Messages this process sent to peers, by type name (tests and the benchmark read it).
SENT: collections.Counter[str] = collections.Counter()


@dataclasses.dataclass(frozen=True)
class PeerParams:
    """ChaincodeAdditionalParams of the peer's READY message (fabric-protos 0.3 lacks the type:
    use_write_batch = 1, max_size_write_batch = 2, use_get_multiple_keys = 3,
    max_size_get_multiple_keys = 4, all varints)."""

    use_write_batch: bool = False
    max_size_write_batch: int = 0
    use_get_multiple_keys: bool = False
    max_size_get_multiple_keys: int = 0

    @classmethod
    def decode(cls, data: bytes) -> PeerParams:
        values: dict[int, int] = {}
        position = 0
        try:
            while position < len(data):
                tag, position = _varint(data, position)
                field, wire = tag >> 3, tag & 7
                if wire == 0:
                    values[field], position = _varint(data, position)
                elif wire == 2:
                    length, position = _varint(data, position)
                    position += length
                elif wire in (1, 5):
                    position += 8 if wire == 1 else 4
                else:
                    return cls()  # not a message we understand: no batching
        except IndexError:
            return cls()
        return cls(bool(values.get(1)), values.get(2, 0), bool(values.get(3)), values.get(4, 0))

    @property
    def write_batch(self) -> int:
        """Records per WRITE_BATCH_STATE, 0 for none."""
        return self.max_size_write_batch if self.use_write_batch and self.max_size_write_batch > 0 else 0


def _varint(data: bytes, position: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, position
        shift += 7


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
        SENT[Message.Type.Name(message.type)] += 1

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
    """The library's Handler with one stream writer, ERROR replies, events, quiet logs and
    batched writes."""

    params = PeerParams()

    def _batch(self, channel_id: str, tx_id: str) -> dict[tuple[str, str, bool], Any]:
        batches: dict[str, dict[tuple[str, str, bool], Any]] = self.__dict__.setdefault("_batches", {})
        return batches.setdefault(channel_id + tx_id, {})

    async def handle_message_established(self, msg: Any) -> None:
        if msg.type == Message.READY:
            self.params = PeerParams.decode(bytes(msg.payload))
            if os.environ.get(WRITE_BATCH_VARIABLE) == "0":  # the benchmark's "before"
                self.params = dataclasses.replace(self.params, use_write_batch=False)
        await super().handle_message_established(msg)

    async def handle_put_state(
        self, collection: str, key: str, value: bytes, channel_id: str, tx_id: str
    ) -> Any:
        if not self.params.write_batch:
            return await super().handle_put_state(collection, key, value, channel_id, tx_id)
        record = Record(key=key, value=value, collection=collection, type=Record.PUT_STATE)
        self._batch(channel_id, tx_id)[(collection, key, False)] = record
        return None

    async def handle_delete_state(self, collection: str, key: str, channel_id: str, tx_id: str) -> Any:
        if not self.params.write_batch:
            return await super().handle_delete_state(collection, key, channel_id, tx_id)
        record = Record(key=key, collection=collection, type=Record.DEL_STATE)
        self._batch(channel_id, tx_id)[(collection, key, False)] = record
        return None

    async def handle_put_state_metadata(
        self, collection: str, key: str, metakey: str, value: bytes, channel_id: str, tx_id: str
    ) -> Any:
        metadata = chaincode_shim_pb2.StateMetadata(metakey=metakey, value=value)
        if self.params.write_batch:
            record = Record(key=key, collection=collection, metadata=metadata, type=Record.PUT_STATE_METADATA)
            self._batch(channel_id, tx_id)[(collection, key, True)] = record
            return None
        request = chaincode_shim_pb2.PutStateMetadata(key=key, collection=collection, metadata=metadata)
        message = Message(
            type=Message.PUT_STATE_METADATA,
            payload=request.SerializeToString(),
            txid=tx_id,
            channel_id=channel_id,
        )
        return await self._Handler__ask_peer_and_listen(message, "PutStateMetadata")

    async def handle_get_private_data_hash(
        self, collection: str, key: str, channel_id: str, tx_id: str
    ) -> bytes:
        """SHA-256 of ``key``'s value in ``collection`` as the channel records it (b"" if none);
        any peer of the channel answers, member of the collection or not."""
        request = chaincode_shim_pb2.GetState(key=key, collection=collection)
        message = Message(
            type=Message.GET_PRIVATE_DATA_HASH,
            payload=request.SerializeToString(),
            txid=tx_id,
            channel_id=channel_id,
        )
        answer = await self._Handler__ask_peer_and_listen(message, "GetPrivateDataHash")
        return bytes(answer.payload)

    async def handle_get_state_multiple(
        self, collection: str, keys: list[str], channel_id: str, tx_id: str
    ) -> list[bytes]:
        """The keys' values in order (b"" if absent): GET_STATE_MULTIPLE messages of at most the
        peer's size where it offers them, else one GET_STATE each."""
        size = self.params.max_size_get_multiple_keys if self.params.use_get_multiple_keys else 0
        if size <= 0:
            return [bytes(await self.handle_get_state(collection, key, channel_id, tx_id)) for key in keys]
        values: list[bytes] = []
        for start in range(0, len(keys), size):
            request = chaincode_shim_pb2.GetStateMultiple(
                keys=keys[start : start + size], collection=collection
            )
            message = Message(
                type=Message.GET_STATE_MULTIPLE,
                payload=request.SerializeToString(),
                txid=tx_id,
                channel_id=channel_id,
            )
            answer = await self._Handler__ask_peer_and_listen(message, "GetStateMultiple")
            result = chaincode_shim_pb2.GetStateMultipleResult.FromString(answer.payload)
            values.extend(bytes(value) for value in result.values)
        if len(values) != len(keys):
            raise RuntimeError(f"the peer answered {len(values)} values for {len(keys)} keys")
        return values

    async def _send_batch(self, channel_id: str, tx_id: str) -> None:
        """The transaction's kept writes, in WRITE_BATCH_STATE messages of the peer's size."""
        records = list(self.__dict__.get("_batches", {}).pop(channel_id + tx_id, {}).values())
        size = self.params.write_batch
        for start in range(0, len(records), size or 1):
            batch = chaincode_shim_pb2.WriteBatchState(rec=records[start : start + size])
            message = Message(
                type=Message.WRITE_BATCH_STATE,
                payload=batch.SerializeToString(),
                txid=tx_id,
                channel_id=channel_id,
            )
            await self._Handler__ask_peer_and_listen(message, "WriteBatchState")

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
            if response is not None and 0 < response.status < ResponseCode.ERRORTHRESHOLD:
                await self._send_batch(msg.channel_id, msg.txid)
        except Exception as error:  # the peer must always get an answer
            response = proposal_response_pb2.Response(status=ResponseCode.ERROR, message=str(error))
        finally:
            self.__dict__.get("_batches", {}).pop(msg.channel_id + msg.txid, None)
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
