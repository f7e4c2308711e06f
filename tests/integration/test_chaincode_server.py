"""chaincode/peer_fixes.py against real peers, with a small probe chaincode served by our
server on this test's own port (its package names that address, so the external builder keeps
it): a peer ERROR reply fails the call, events reach the block, overlapping transactions all
commit. tests/unit/chaincode/test_peer_fixes.py shows each gap on the library itself."""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import json
import secrets
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from fabnet import binaries, lifecycle, network
from fabnet.probe import admin_signer
from fabric_chaincode_python.fabric_shim.interfaces import Chaincode
from fabric_protos.common import common_pb2
from fabric_protos.peer import proposal_response_pb2
from support import free_port

from chaincode.peer_fixes import SENT, build_server
from goldticket import messages as m
from goldticket.ledger import Contract, EndorseError
from goldticket.ledger.fabric import ConnectionProfile, FabricLedger

pytestmark = pytest.mark.integration


class ProbeChaincode(Chaincode):  # type: ignore[misc]
    async def init(self, stub: Any) -> Any:
        return proposal_response_pb2.Response(status=200)

    async def invoke(self, stub: Any) -> Any:
        function, _ = stub.get_function_and_parameters()
        if function == "CallMissing":  # the peer answers this request with ERROR
            await stub.invoke_chaincode("no-such-chaincode", ["Anything"])
        elif function == "Write":
            await stub.put_state(f"key-{stub.get_txid()}", b"value")
            stub.set_event("Written", stub.get_txid().encode())
        elif function == "WriteMany":  # five keys, one of them twice (the last wins), one delete
            for number in range(5):
                await stub.put_state(f"many-{number}", f"first {number}".encode())
            await stub.put_state("many-4", b"second 4")
            await stub.delete_state("many-0")
        elif function == "ReadMany":  # one GET_STATE_MULTIPLE where the peer offers it
            keys = [f"many-{number}" for number in range(6)]
            values = await stub.client.handle_get_state_multiple("", keys, stub.channel_id, stub.get_txid())
            answer = json.dumps({key: value.decode() for key, value in zip(keys, values, strict=True)})
            return proposal_response_pb2.Response(status=200, payload=answer.encode())
        return proposal_response_pb2.Response(status=200, payload=b'{"ok": true}')


@pytest.fixture(scope="module")
def probe_ledger(fabric_network: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FabricLedger]:
    layout = fabric_network.layout
    fabric = binaries.find_binaries()
    # the peers reach a server in the machine's own namespace at the bridge's address when each
    # organisation is in a namespace of its own, else on loopback
    host = layout.bridge_address if layout.namespaces else "127.0.0.1"
    port = free_port(host)
    package = tmp_path_factory.mktemp("probe") / "probe.tar.gz"
    lifecycle.write_package(package, f"probe_{secrets.token_hex(3)}", f"{host}:{port}")
    package_id = lifecycle.package_id(layout, fabric, package)
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    async def serve() -> None:
        server, _ = build_server(ProbeChaincode(), package_id, f"{host}:{port}")
        await server.start()
        await stop.wait()
        await server.stop(0)

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    try:
        for peer in layout.peers:
            lifecycle.install(layout, fabric, peer, package_id, package)
        name = f"probe{secrets.token_hex(4)}"
        network.deploy_chaincode(layout, fabric, name, package_id)
        signer = admin_signer(layout, layout.peers[0].msp_id)
        ledger = FabricLedger(ConnectionProfile.load(layout.profile).with_chaincode(name), signer)
        yield ledger
        ledger.close()
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)


def _submit(ledger: FabricLedger, function: str) -> tuple[Any, str, int]:
    signer = admin_signer_of(ledger)
    return Contract(ledger).submit(signer, function, {})


def admin_signer_of(ledger: FabricLedger) -> Any:
    return ledger._reader


def test_a_peer_error_reply_fails_the_transaction(probe_ledger: FabricLedger) -> None:
    with pytest.raises(EndorseError) as refused:
        _submit(probe_ledger, "CallMissing")
    assert "INVOKE_CHAINCODE failed" in str(refused.value)  # the peer's own reason


def test_an_event_reaches_the_block(probe_ledger: FabricLedger) -> None:
    _, tx_id, block_number = _submit(probe_ledger, "Write")
    (block,) = [b for b in probe_ledger.blocks(block_number) if b.number == block_number]
    for envelope in block.envelopes:
        tx = m.decode_transaction(common_pb2.Envelope.FromString(envelope).payload)
        if tx.tx_id == tx_id:
            assert tx.event == ("Written", tx_id.encode())
            return
    raise AssertionError("transaction not in its block")


def test_forty_overlapping_transactions_all_commit(probe_ledger: FabricLedger) -> None:
    with concurrent.futures.ThreadPoolExecutor(max_workers=40) as pool:
        results = list(pool.map(lambda _: _submit(probe_ledger, "Write"), range(40)))
    assert len({tx_id for _, tx_id, _ in results}) == 40


def test_a_transactions_writes_reach_the_peer_in_one_batch(probe_ledger: FabricLedger) -> None:
    """A Fabric v3 peer offers WRITE_BATCH_STATE in its READY message: every endorsing peer gets
    one batch instead of six PUT_STATE and one DEL_STATE round trips, and the block's write set
    is what the single messages would have made (last write per key, the delete)."""
    before = collections.Counter(SENT)
    _, tx_id, block_number = _submit(probe_ledger, "WriteMany")
    sent = collections.Counter(SENT)
    sent.subtract(before)
    (block,) = [b for b in probe_ledger.blocks(block_number) if b.number == block_number]
    (tx,) = [
        tx
        for tx in (m.decode_transaction(common_pb2.Envelope.FromString(e).payload) for e in block.envelopes)
        if tx.tx_id == tx_id
    ]
    endorsers = len(tx.endorsements)
    assert endorsers >= 2
    assert sent["WRITE_BATCH_STATE"] == endorsers, sent
    assert sent["PUT_STATE"] == 0 and sent["DEL_STATE"] == 0, sent
    (rwset,) = [r for r in tx.rwsets if r.namespace == probe_ledger.chaincode]
    writes = {w.key: (w.is_delete, w.value) for w in rwset.writes}
    assert writes == {
        "many-0": (True, b""),
        "many-1": (False, b"first 1"),
        "many-2": (False, b"first 2"),
        "many-3": (False, b"first 3"),
        "many-4": (False, b"second 4"),
    }


def test_several_keys_are_read_in_one_message(probe_ledger: FabricLedger) -> None:
    """A Fabric v3 peer offers GET_STATE_MULTIPLE: six keys, one message, values in order
    (absent ones empty)."""
    _submit(probe_ledger, "WriteMany")
    before = collections.Counter(SENT)
    read = Contract(probe_ledger).evaluate(admin_signer_of(probe_ledger), "ReadMany", {})
    sent = collections.Counter(SENT)
    sent.subtract(before)
    assert read == {
        "many-0": "",
        "many-1": "first 1",
        "many-2": "first 2",
        "many-3": "first 3",
        "many-4": "second 4",
        "many-5": "",
    }
    assert sent["GET_STATE_MULTIPLE"] == 1 and sent["GET_STATE"] == 0, sent
