"""The Fabric adapter against a real network: what the chaincode fixes make possible, and that
a transaction commits at most once."""

from __future__ import annotations

import concurrent.futures
import json

import pytest
from fabric_checks import committed_codes
from fabric_protos.common import common_pb2

from goldticket import messages as m
from goldticket.ledger import Contract
from goldticket.services import Platform, members

pytestmark = pytest.mark.integration


def test_fifty_concurrent_writes_all_commit(platform: Platform) -> None:
    """With five or more transactions in flight the library's chaincode server lost replies and
    the peer waited 30 s for each; with one stream writer every write commits."""

    def register(i: int) -> str:
        member = members.register_member(
            platform,
            platform.desk(),
            member_id=f"m{i:02d}",
            name=f"成员{i}",
            name_en=f"Member {i}",
            role="supplier",
        )
        return str(member["id"])

    with concurrent.futures.ThreadPoolExecutor(max_workers=50) as pool:
        registered = list(pool.map(register, range(50)))
    assert registered == [f"m{i:02d}" for i in range(50)]
    listed = platform.evaluate("ListMembers", {})["items"]
    assert {item["id"] for item in listed} >= set(registered)


def test_every_write_sends_its_event_to_the_peer(platform: Platform) -> None:
    receipt = platform.submit(
        platform.actor("operator"),
        "RegisterMember",
        {"id": "evented", "name": "事件", "role": "core", "msp_id": "CoreMSP"},
        pin=platform.settings.operator_pin,
    )
    (block,) = list(platform.ledger.blocks(receipt.block))[:1]
    for envelope in block.envelopes:
        tx = m.decode_transaction(common_pb2.Envelope.FromString(envelope).payload)
        if tx.tx_id == receipt.tx_id:
            assert tx.event is not None and tx.event[0] == "RegisterMember"
            assert json.loads(tx.event[1])["id"] == "evented"
            return
    raise AssertionError("the transaction is not in its block")


def test_the_same_envelope_twice_commits_once(platform: Platform) -> None:
    """Submitting one signed transaction again (what failover does when a gateway dies
    mid-submit) never applies it twice: Fabric marks the copy DUPLICATE_TXID."""
    signer = platform.reader
    operator = platform.signer(
        platform.actor("operator"),
        platform.settings.operator_pin,
        "RegisterMember",
        request := {"id": "twice", "name": "两次", "role": "bank", "msp_id": "BankMSP"},
    )
    contract = Contract(platform.ledger)
    proposal = contract._signed_proposal(operator, "RegisterMember", request)
    prepared = platform.ledger.endorse(proposal)
    envelope = m.signed_envelope(prepared.bytes, operator.sign(prepared.bytes, purpose="transaction"))
    start = platform.ledger.height()
    platform.ledger.submit(envelope)
    platform.ledger.submit(envelope)
    status = platform.ledger.commit_status(prepared.tx_id, signer)
    assert status.validation_code == "VALID"
    platform.submit(platform.actor("operator"), "Ping", {}, pin=platform.settings.operator_pin)
    codes = committed_codes(platform, start)[prepared.tx_id]
    assert codes.count(0) == 1  # VALID once; any copy is DUPLICATE_TXID (9)
    assert all(code in (0, 9) for code in codes)
