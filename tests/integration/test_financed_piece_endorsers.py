"""#19 on real peers: the operator's and a core enterprise's organisations together cannot move a
bank's financed piece. Both hold a MAJORITY of the three organisations, enough for any other
write; the financed piece's key-level policy (set by ApproveFinancing) needs the bank's own peer.

The attack is made as those two organisations could make it: a proposal the chaincode accepts
(the operator freezes the piece), endorsed only by their peers (each peer's Endorser service
called directly, as the Gateway would not), assembled and sent for ordering. Validation marks it
ENDORSEMENT_POLICY_FAILURE; the same kind of write to a piece nobody financed, endorsed by the same
two peers, commits VALID (so the refusal is the key-level policy, not the test); and the same
freeze endorsed by the operator's and the bank's peers commits VALID."""

from __future__ import annotations

import json
import time

import grpc
import pytest
from fabric_protos.peer import peer_pb2_grpc
from support import PIN, TODAY, register

from goldticket import messages as m
from goldticket.ledger.fabric import ConnectionProfile
from goldticket.services import financing

pytestmark = pytest.mark.integration


def _endorsed_by(platform, signer, function: str, request: dict, msp_ids: list[str]) -> str:
    """``function(request)`` signed by ``signer``, endorsed by exactly the peers of ``msp_ids``,
    submitted; returns the validation code it committed with."""
    ledger = platform.ledger
    proposal = m.build_proposal(
        channel_id=ledger.channel_id,
        chaincode=ledger.chaincode,
        function=function,
        args=[json.dumps(request, sort_keys=True)],
        creator=signer.identity,
    )
    signed = m.signed_proposal(proposal.bytes, signer.sign(proposal.bytes, purpose="proposal"))
    profile = ConnectionProfile.load(platform.settings.fabric_profile)
    endorsements, payloads = [], set()
    for endpoint in profile.peers:
        if endpoint.msp_id not in msp_ids:
            continue
        credentials = grpc.ssl_channel_credentials(root_certificates=endpoint.tls_ca_pem)
        deadline = time.monotonic() + 15
        with grpc.secure_channel(endpoint.address, credentials) as channel:
            while True:  # a peer that has not yet committed the last block sees the state before it
                response = peer_pb2_grpc.EndorserStub(channel).ProcessProposal(signed, timeout=30)
                if response.response.status == 200 or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
        assert response.response.status == 200, (endpoint.msp_id, response.response.message)
        endorsements.append((bytes(response.endorsement.endorser), bytes(response.endorsement.signature)))
        payloads.add(bytes(response.payload))
    assert len(endorsements) == len(msp_ids) and len(payloads) == 1  # the same result from each
    payload = m.build_transaction_payload(m.decode_proposal(proposal.bytes), payloads.pop(), endorsements)
    envelope = m.signed_envelope(payload, signer.sign(payload, purpose="envelope"))
    ledger.submit(envelope)
    return str(ledger.commit_status(proposal.tx_id).validation_code)


def test_the_operator_and_a_core_cannot_move_a_banks_financed_piece(
    consortium, issued_ticket, operator_key
) -> None:
    c, p = consortium, consortium.platform
    application = financing.apply_financing(
        p,
        c.tier1,
        ticket_id=issued_ticket["id"],
        bank_org_id="bank",
        max_annual_rate_bp=1_000,
        amount_fen=30_000_000,
        pin=PIN,
    )
    register(p, c.bank, application["application_id"])
    approved = financing.approve_financing(
        p, c.bank, application_id=application["application_id"], annual_rate_bp=300, value_date=TODAY, pin=PIN
    )
    financed, remainder = approved["financed"]["id"], approved["remainder"]["id"]
    operator = operator_key
    assert operator.identity.msp_id == "OperatorMSP"

    def freeze(ticket_id: str, msp_ids: list[str]) -> str:
        request = {"ticket_id": ticket_id, "reason": "#19 attack test"}
        return _endorsed_by(p, operator, "FreezeTicket", request, msp_ids)

    # the operator and the core together: a majority, but not the bank
    assert freeze(financed, ["OperatorMSP", "CoreMSP"]) == "ENDORSEMENT_POLICY_FAILURE"
    assert p.evaluate("GetTicket", {"ticket_id": financed})["status"] == "FINANCED"
    # the same two on the supplier's remainder (no key-level policy): the majority suffices
    assert freeze(remainder, ["OperatorMSP", "CoreMSP"]) == "VALID"
    # with the bank's peer: the financed piece moves
    assert freeze(financed, ["OperatorMSP", "BankMSP"]) == "VALID"
    assert p.evaluate("GetTicket", {"ticket_id": financed})["status"] == "FROZEN"
