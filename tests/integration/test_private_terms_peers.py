"""#19 on real peers: another bank's peer holds no private financing terms. A financing approved
by BankMSP's bank writes its rate, interest, fee and proceeds to the collection terms-BankMSP
(members: the operator's and the bank's organisations); then a second bank organisation
(BankTwoMSP, from its own folder) joins the channel by a majority-signed update, its peer catches
up to the same chain and runs the chaincode. Asked for the terms, the peers of the operator and
of the bank answer them; BankTwoMSP's peer answers the same hash the channel records and no terms:
the values never reached it. It adds an organisation to the channel, so it runs on a network of
its own (ports from GOLDTICKET_TEST_PRIVATE_PORT_BASE, default 25050), not the session's."""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from fabnet import binaries, lifecycle, membership, network, orgs
from fabnet.layout import Layout
from fabric_protos.peer import peer_pb2_grpc
from support import PIN, TODAY, register

from goldticket import messages as m
from goldticket.services import financing

pytestmark = pytest.mark.integration

PORT_BASE = int(os.environ.get("GOLDTICKET_TEST_PRIVATE_PORT_BASE") or 25050)


@pytest.fixture(scope="module")
def fabric_network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """This module's own network, in place of the session's (tests/conftest.py's settings use it)."""
    import fabric_network as testnet

    root = tmp_path_factory.mktemp("private-terms")
    layout = Layout.from_env(
        {
            "GOLDTICKET_DATA_DIR": str(root / "data"),
            "GOLDTICKET_ENV": "test",
            "GOLDTICKET_FABRIC_PORT_BASE": str(PORT_BASE),
            "GOLDTICKET_FABRIC_BATCH_TIMEOUT": "100ms",
        }
    )
    try:
        network.up(layout, say=lambda _: None)
        yield testnet.TestNetwork(layout, lifecycle.package_id(layout, binaries.find_binaries()))
    finally:
        network.down(layout, say=lambda _: None)
        network.clean(layout, say=lambda _: None)


def _ask_peer(platform, address: str, tls_ca: bytes, application_id: str) -> dict:
    """GetFinancingTerms evaluated by exactly one peer (its Endorser service), as the portal's
    read identity (OperatorMSP: a member of the collection, so the peer's access check passes)."""
    ledger, reader = platform.ledger, platform.reader
    proposal = m.build_proposal(
        channel_id=ledger.channel_id,
        chaincode=ledger.chaincode,
        function="GetFinancingTerms",
        args=[json.dumps({"application_id": application_id})],
        creator=reader.identity,
    )
    signed = m.signed_proposal(proposal.bytes, reader.sign(proposal.bytes, purpose="proposal"))
    deadline = time.monotonic() + 60
    with grpc.secure_channel(address, grpc.ssl_channel_credentials(root_certificates=tls_ca)) as channel:
        while True:  # a peer that just joined runs the chaincode once it has the approval's block
            response = peer_pb2_grpc.EndorserStub(channel).ProcessProposal(signed, timeout=30)
            if response.response.status == 200 or time.monotonic() > deadline:
                break
            time.sleep(1)
    assert response.response.status == 200, response.response.message
    return json.loads(response.response.payload)


def test_another_banks_peer_holds_no_private_financing_terms(
    fabric_network, consortium, issued_ticket, tmp_path: Path
) -> None:
    c, p = consortium, consortium.platform
    layout, fabric = fabric_network.layout, binaries.find_binaries()
    application = financing.apply_financing(
        p, c.tier1, ticket_id=issued_ticket["id"], bank_org_id="bank", max_annual_rate_bp=1_000,
        amount_fen=30_000_000, pin=PIN,
    )  # fmt: skip
    application_id = application["application_id"]
    register(p, c.bank, application_id)  # #21: registered before the approval
    approved = financing.approve_financing(
        p, c.bank, application_id=application_id, annual_rate_bp=317, value_date=TODAY, pin=PIN
    )
    assert approved["annual_rate_bp"] == 317

    # BankTwoMSP joins: its own folder, a majority-signed update, its peer catches up
    operator, core, bank = layout.peers
    folder, operator_folder = tmp_path / "banktwo", tmp_path / "operator"
    orgs.init(
        folder, "BankTwoMSP", "Bank Two", [orgs.Node("peer0.banktwo", "peer", f"127.0.0.1:{PORT_BASE + 140}")]
    )
    orgs.init(operator_folder, "OperatorMSP", "GoldTicket Operator", [])
    orgs.import_public(operator_folder, json.loads(json.dumps(orgs.export(folder))))
    group = membership.organisation_group(
        fabric, operator_folder / "imported" / "BankTwoMSP", "BankTwoMSP", PORT_BASE + 140
    )
    envelope = membership.add_organisation_update(
        layout, fabric, operator, group, "BankTwoMSP", tmp_path / "add"
    )
    membership.sign(layout, fabric, core, envelope)
    membership.submit(layout, fabric, operator, envelope)
    bank_two = membership.own_peer(folder, PORT_BASE + 140)
    package_id = lifecycle.package_id(layout, fabric)
    membership.start_own_peer(layout, fabric, folder, bank_two, package_id)
    membership.join_own_peer(layout, fabric, folder, bank_two, tmp_path / "join")
    own_admin = membership.own_admin_env(layout, fabric, folder, bank_two)
    # its organisation installs the package and approves this test's chaincode definition
    install = [fabric.tool("peer"), "lifecycle", "chaincode", "install", str(layout.package)]
    lifecycle.run(install, own_admin, "installing the chaincode on BankTwoMSP's peer", timeout=120)
    approve = lifecycle.approve_command(layout, fabric, p.ledger.chaincode, package_id)
    lifecycle.retry(lambda: lifecycle.run(approve, own_admin, "BankTwoMSP approving"), "approve", timeout=60)

    answers = {
        peer.msp_id: _ask_peer(p, peer.address, layout.ca_pem(peer.msp_id).read_bytes(), application_id)
        for peer in (operator, bank)
    }
    tls_two = (folder / "msp" / "tlscacerts" / "ca.pem").read_bytes()
    answers["BankTwoMSP"] = _ask_peer(p, bank_two.address, tls_two, application_id)
    hashes = {answer["sha256"] for answer in answers.values()}
    assert len(hashes) == 1 and None not in hashes  # every peer has the channel's hash
    for msp_id in ("OperatorMSP", "BankMSP"):  # the collection's members hold the terms
        terms = answers[msp_id]["terms"]
        assert terms["annual_rate_bp"] == 317 and terms["proceeds_fen"] == approved["proceeds_fen"]
        assert hashlib.sha256(_encoded(terms)).hexdigest() in hashes
    assert answers["BankTwoMSP"]["terms"] is None, answers["BankTwoMSP"]  # another bank's peer: none
    assert answers["BankTwoMSP"]["collection"] == "terms-BankMSP"


def _encoded(value: dict) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
