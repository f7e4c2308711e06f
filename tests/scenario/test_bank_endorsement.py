"""#19: a bank's financed piece moves only with the bank. ApproveFinancing sets the financed
piece's key-level endorsement policy (Fabric's state-based endorsement): AND(the bank's
organisation's peer, OR(the issuer's, the operator's)). On every ledger the approval's write set
carries it as Fabric records it; on Fabric the attack itself is in
tests/integration/test_bank_endorsement.py."""

from __future__ import annotations

import datetime as dt

import pytest
from fabric_protos.common import common_pb2
from support import PIN, TODAY, on, register

from chaincode.endorsement import VALIDATION_PARAMETER, describe
from goldticket import messages as m
from goldticket.services import financing, settlement, tickets

pytestmark = pytest.mark.scenario


def finance(consortium, ticket_id: str, amount_fen: int) -> dict:
    c, p = consortium, consortium.platform
    application = financing.apply_financing(
        p,
        c.tier1,
        ticket_id=ticket_id,
        bank_org_id="bank",
        max_annual_rate_bp=1_000,
        amount_fen=amount_fen,
        pin=PIN,
    )
    register(p, c.bank, application["application_id"])
    return financing.approve_financing(
        p, c.bank, application_id=application["application_id"], annual_rate_bp=300, value_date=TODAY, pin=PIN
    )


def transactions(platform, start: int) -> dict[str, m.DecodedTransaction]:
    """Every valid transaction of this test's chaincode from block ``start`` to the height
    (the Fabric channel is shared with other tests and their chaincodes), by id."""
    found, height = {}, platform.ledger.height()
    for block in platform.ledger.blocks(start):
        if block.number >= height:
            break
        for raw, code in zip(block.envelopes, block.validation_codes, strict=True):
            try:
                tx = m.decode_transaction(bytes(common_pb2.Envelope.FromString(raw).payload))
            except m.MessageError:
                continue
            if code == 0 and tx.chaincode == platform.ledger.chaincode:
                found[tx.tx_id] = tx
    return found


def test_the_approval_sets_the_financed_pieces_key_level_policy(consortium, issued_ticket) -> None:
    p = consortium.platform
    start = p.ledger.height()
    approved = finance(consortium, issued_ticket["id"], 30_000_000)
    financed_id = approved["financed"]["id"]
    approvals = [tx for tx in transactions(p, start).values() if tx.function == "ApproveFinancing"]
    assert len(approvals) == 1
    (rwset,) = [item for item in approvals[0].rwsets if item.namespace == p.ledger.chaincode]
    policies = {key: (name, value) for key, name, value in rwset.metadata_writes}
    financed_key = f"\x00ticket\x00{financed_id}\x00"
    assert list(policies) == [financed_key], policies  # the financed piece only, not the remainder
    name, policy = policies[financed_key]
    assert name == VALIDATION_PARAMETER
    assert describe(policy) == "AND(BankMSP.peer, OR(CoreMSP.peer, OperatorMSP.peer))"


def test_a_financed_piece_is_still_settled_at_maturity(consortium, issued_ticket) -> None:
    """The issuer's settlement writes the financed piece: on Fabric the Gateway must bring the
    bank's peer in (the key-level policy); committed VALID, paid to the bank."""
    c = consortium
    finance(c, issued_ticket["id"], 30_000_000)
    maturity = dt.date.fromisoformat(str(issued_ticket["maturity_date"]))
    statement = settlement.settle_ticket(on(c.platform, maturity), c.core, issued_ticket["id"], pin=PIN)
    paid = {(item["holder_org_id"], item["amount_fen"]) for item in statement["paid"]}
    assert paid == {("bank", 30_000_000), ("tier1", 70_000_000)}
    pieces = tickets.list_tickets(c.platform, c.core, root_id=issued_ticket["id"])
    assert {piece["status"] for piece in pieces if piece["amount_fen"] == 30_000_000} == {"SETTLED"}
