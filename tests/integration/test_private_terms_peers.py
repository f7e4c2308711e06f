"""#19 on real peers: another bank's peer holds no private financing terms. A financing approved
by BankMSP's bank writes its rate, interest, fee and proceeds to the collection terms-BankMSP
(members: the operator's and the bank's organisations); then a second bank organisation
(BankTwoMSP, from its own folder) joins the channel by a majority-signed update, its peer catches
up to the same chain and runs the chaincode. Asked for the terms, the peers of the operator and
of the bank answer them; BankTwoMSP's peer answers the same hash the channel records and no terms:
the values never reached it. The join tooling then gives BankTwoMSP its own collection (the next
definition sequence, approved by every organisation, committed) and a financing between a
supplier and the new bank keeps its rate there, made through the platform's own path (the desk
trusts the new organisation's public file, registers the bank under BankTwoMSP, its clerk's card
is certified by BankTwoMSP's own CA; the approval names the endorsers a private write of four
organisations needs): the new bank's peer holds it, the first bank's peer has its hash only, and
never had the Endorse request either when it is the client's current gateway (its /metrics: its
gateway would see the rate in the transient map). It adds an organisation to the channel, so it runs on a network of
its own (ports from GOLDTICKET_TEST_PRIVATE_PORT_BASE, default 25050), not the session's."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from fabnet import binaries, lifecycle, membership, network, orgs
from fabnet.layout import Layout
from fabric_protos.common import common_pb2
from fabric_protos.peer import peer_pb2_grpc
from support import PIN, TODAY, register

from goldticket import domain as d
from goldticket import messages as m
from goldticket.services import Platform, financing, members, operations, signed_documents

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


def _ask_peer(platform, address: str, tls_ca: bytes, application_id: str, reader=None) -> dict:
    """GetFinancingTerms evaluated by exactly one peer (its Endorser service), as ``reader``, by
    default the portal's read identity (OperatorMSP: a member of every terms collection)."""
    ledger, reader = platform.ledger, reader or platform.reader
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
    # the join tooling gives it its own terms collection: the next definition sequence, approved
    # by each member organisation's admin and its own, committed; then its peer runs the chaincode
    sequence = membership.admit_to_chaincode(layout, fabric, folder, bank_two, package_id, p.ledger.chaincode)
    committed = lifecycle.committed_definition(layout, fabric, p.ledger.chaincode)
    assert sequence == int(committed["sequence"]) == 2
    assert sorted(committed["approvals"]) == ["BankMSP", "BankTwoMSP", "CoreMSP", "OperatorMSP"]
    assert lifecycle.collection_names(committed) == {
        "terms-BankMSP", "terms-BankTwoMSP", "terms-CoreMSP", "terms-OperatorMSP"
    }  # fmt: skip
    # again: nothing to do, the same sequence
    assert (
        membership.admit_to_chaincode(layout, fabric, folder, bank_two, package_id, p.ledger.chaincode) == 2
    )

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

    # the channel now has four organisations, BankTwoMSP with no member on the ledger yet: a
    # MAJORITY needs three, so the first bank's next approval is endorsed by its parties and the
    # core enterprise (counted from the channel's config, not from the members registered; an
    # organisation of no known member may be a bank and is not asked)
    assert p.ledger.organizations() == ("BankMSP", "BankTwoMSP", "CoreMSP", "OperatorMSP")
    assert p.private_endorsers("BankMSP", "ApproveFinancing", {"annual_rate_bp": 300}) == (
        "BankMSP", "OperatorMSP", "CoreMSP"
    )  # fmt: skip
    again = financing.apply_financing(
        p, c.tier1, ticket_id=approved["remainder"]["id"], bank_org_id="bank", max_annual_rate_bp=1_000,
        amount_fen=10_000_000, pin=PIN,
    )  # fmt: skip
    register(p, c.bank, again["application_id"])
    approved = financing.approve_financing(
        p, c.bank, application_id=again["application_id"], annual_rate_bp=305, value_date=TODAY, pin=PIN
    )
    assert approved["annual_rate_bp"] == 305

    # the platform's own path for the new bank: the operator desk trusts its public file (its
    # CA certificate, no key), registers member bank2 under BankTwoMSP, and its clerk's card is
    # certified by BankTwoMSP's own CA, from its own folder
    desk = p.desk()
    with pytest.raises(d.InvalidInputError, match="does not trust BankTwoMSP's CA"):
        members.register_member(p, desk, member_id="bank2", name="Bank Two", role="bank", msp_id="BankTwoMSP")
    with pytest.raises(d.InvalidInputError, match="a supplier runs no node"):
        members.register_member(p, desk, member_id="s9", name="S9", role="supplier", msp_id="BankTwoMSP")
    trusted = members.trust_organisation(p, desk, orgs.export(folder), folder)
    assert trusted["msp_id"] == "BankTwoMSP"
    # a trusted CA is never replaced: not the newcomer's, not a founding organisation's
    from goldticket.signing import OrgCA

    for msp in ("BankTwoMSP", "BankMSP"):
        other = {"msp_id": msp, "ca_pem": OrgCA.create(msp, "someone else").certificate_pem.decode()}
        with pytest.raises(d.StateConflictError, match="never replaced"):
            members.trust_organisation(p, desk, other)
    assert members.trust_organisation(p, desk, orgs.export(folder), folder)["msp_id"] == "BankTwoMSP"
    assert not any(b"PRIVATE" in f.read_bytes() for f in p.settings.data_dir.rglob("*") if f.is_file()
                   and "BankTwoMSP" in f.name)  # fmt: skip
    members.register_member(
        p, desk, member_id="bank2", name="Bank Two", name_en="Bank Two", role="bank", msp_id="BankTwoMSP"
    )
    clerk = members.add_user(p, desk, member_id="bank2", username="bank2.clerk", pin=PIN)
    card = p.cards.registry.active_card(clerk.username)
    issuer = x509.load_pem_x509_certificate(card.certificate_pem.encode()).issuer
    assert card.msp_id == "BankTwoMSP"
    assert issuer == x509.load_pem_x509_certificate(orgs.export(folder)["ca_pem"].encode()).subject

    # a financing between a supplier and the new bank, through the services: the assignment
    # signed by the supplier's card and countersigned by the new bank's; its rate stays in
    # terms-BankTwoMSP, endorsed by the collection's members and a core enterprise (a MAJORITY
    # of four needs three, and no other bank may see the terms)
    applied = financing.apply_financing(
        p, c.tier1, ticket_id=approved["remainder"]["id"], bank_org_id="bank2", max_annual_rate_bp=900,
        amount_fen=20_000_000, pin=PIN,
    )  # fmt: skip
    second = applied["application_id"]
    register(p, clerk, second)
    # the approval is made through a client whose current gateway is the first bank's peer (the
    # first of its profile, as for a client that failed over to it): that gateway would see the
    # transient map, the new bank's rate and salt, so the Endorse goes to an endorsing
    # organisation's gateway and never reaches it (the other reads still do: it stays current)
    profile = json.loads(p.settings.fabric_profile_path.read_text(encoding="utf-8"))
    profile["peers"].sort(key=lambda peer: peer["msp_id"] != "BankMSP")
    bank_first = tmp_path / "bank-first.json"
    bank_first.write_text(json.dumps(profile), encoding="utf-8")
    portal = Platform.open(dataclasses.replace(p.settings, fabric_profile=bank_first))
    try:
        height = portal.ledger.height()
        before = _gateway_requests(profile)
        financed = financing.approve_financing(
            portal, clerk, application_id=second, annual_rate_bp=433, value_date=TODAY, pin=PIN
        )
        after = _gateway_requests(profile)
    finally:
        portal.close()
    assert financed["annual_rate_bp"] == 433
    calls = {key: after.get(key, 0) - before.get(key, 0) for key in after}
    assert calls.get(("BankMSP", "Endorse"), 0) == 0, (
        f"the first bank's gateway got the private write: {calls}"
    )
    assert calls.get(("BankMSP", "Evaluate"), 0) >= 1, calls  # it was the current gateway
    assert calls.get(("OperatorMSP", "Endorse"), 0) + calls.get(("CoreMSP", "Endorse"), 0) >= 1, calls
    (raw, endorsers) = _approval_since(p, height)
    assert endorsers == ["BankTwoMSP", "CoreMSP", "OperatorMSP"]
    assert b'"annual_rate_bp"' not in raw
    tls_two = (folder / "msp" / "tlscacerts" / "ca.pem").read_bytes()
    own = _ask_peer(p, bank_two.address, tls_two, second)  # the new bank's own peer holds the values
    assert own["collection"] == "terms-BankTwoMSP" and own["terms"]["annual_rate_bp"] == 433
    assert d.financing_terms_sha256(second, own["terms"]) == own["sha256"]  # it checks the hash
    assert own["terms"]["salt"].encode() not in raw
    holder = _ask_peer(p, operator.address, layout.ca_pem("OperatorMSP").read_bytes(), second)
    assert holder["terms"] == own["terms"]  # the holder's side (the operator's peer)
    other = _ask_peer(p, bank.address, layout.ca_pem("BankMSP").read_bytes(), second)
    assert other["terms"] is None and other["sha256"] == own["sha256"]  # the first bank: hash only
    # the assignment countersigned by the new bank's card verifies for the holder
    data, _ = signed_documents.download_financing_assignment(p, c.tier1, second)
    verdict = signed_documents.verify_financing_assignment(p, c.tier1, second, data)
    assert verdict["verdict"] == "valid", verdict


def _gateway_requests(profile: dict) -> dict[tuple[str, str], float]:
    """(organisation, method) -> the Gateway requests its peer received, from the peer's
    operations /metrics (Fabric's gRPC server counter, service gateway.Gateway)."""
    found: dict[tuple[str, str], float] = {}
    for peer in profile["peers"]:
        with urllib.request.urlopen(f"{peer['operations']}/metrics", timeout=5) as response:
            metrics = operations.parse_metrics(response.read().decode())
        for labels, value in metrics.get("grpc_server_unary_requests_received", []):
            if labels.get("service") == "gateway_Gateway":
                key = (peer["msp_id"], labels["method"])
                found[key] = found.get(key, 0) + value
    return found


def _approval_since(platform, height: int) -> tuple[bytes, list[str]]:
    """The committed ApproveFinancing after ``height``: its payload and its endorsers' MSPs."""
    for block in platform.ledger.blocks(height):
        for envelope_bytes in block.envelopes:
            envelope = common_pb2.Envelope.FromString(envelope_bytes)
            tx = m.decode_transaction(envelope.payload)
            if tx.function == "ApproveFinancing":
                return envelope.payload, sorted(m.Identity.deserialize(e).msp_id for e, _ in tx.endorsements)
    raise AssertionError("no ApproveFinancing committed")


def _encoded(value: dict) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
