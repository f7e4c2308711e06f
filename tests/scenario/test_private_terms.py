"""#19: a financing's discount terms are private between the holder and the bank. The bank's rate
travels in the proposal's transient map, the approval writes rate, interest, fee and proceeds to
the private data collection ``terms-BankMSP`` and the channel's block carries only their hashes;
the holder and the bank read the terms, nobody else does. On whichever ledger runs (on Fabric,
another bank organisation's peer is asked in tests/integration/test_private_terms_peers.py)."""

from __future__ import annotations

import hashlib
import json

import pytest
from fabric_protos.common import common_pb2
from support import PIN, TODAY, register

from goldticket import domain as d
from goldticket import messages as m
from goldticket.services import financing

pytestmark = pytest.mark.scenario

RATE_BP = 317  # a rate no other figure of the test is equal to


def approve(consortium, ticket_id: str, amount_fen: int = 30_000_000) -> tuple[str, dict]:
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
    register(p, c.bank, application["application_id"])  # #21: registered before the approval
    approved = financing.approve_financing(
        p,
        c.bank,
        application_id=application["application_id"],
        annual_rate_bp=RATE_BP,
        value_date=TODAY,
        pin=PIN,
    )
    return application["application_id"], approved


def approval_envelope(platform, start: int) -> tuple[bytes, m.DecodedTransaction]:
    """The committed ApproveFinancing transaction of this test's chaincode since ``start``."""
    height = platform.ledger.height()
    for block in platform.ledger.blocks(start):
        if block.number >= height:
            break
        for raw, code in zip(block.envelopes, block.validation_codes, strict=True):
            try:
                tx = m.decode_transaction(bytes(common_pb2.Envelope.FromString(raw).payload))
            except m.MessageError:
                continue
            if code == 0 and tx.chaincode == platform.ledger.chaincode and tx.function == "ApproveFinancing":
                return bytes(raw), tx
    raise AssertionError("no approval committed")


def test_the_block_holds_only_the_hashes_of_the_terms(consortium, issued_ticket) -> None:
    p = consortium.platform
    start = p.ledger.height()
    application_id, approved = approve(consortium, issued_ticket["id"])
    raw, tx = approval_envelope(p, start)
    expected = d.quote_discount(
        amount_fen=30_000_000, annual_rate_bp=RATE_BP, value_date=TODAY,
        maturity_date=d.parse_date(issued_ticket["maturity_date"], "maturity_date"), day_basis=360, fee_bp=0,
    )  # fmt: skip
    # the bank still sees its figures in the approval's answer
    assert approved["annual_rate_bp"] == RATE_BP
    assert approved["proceeds_fen"] == expected.proceeds_fen
    assert approved["discount_interest_fen"] == expected.discount_interest_fen
    # ... and the block has none of them: not in the arguments, the write set, the response or the event
    assert "annual_rate_bp" not in json.loads(tx.args[0])
    for figure in ("annual_rate_bp", "discount_interest_fen", "proceeds_fen", "fee_fen"):
        assert f'"{figure}"'.encode() not in raw, (
            figure
        )  # (the holder's bound, max_annual_rate_bp, is public)
    assert str(expected.proceeds_fen).encode() not in raw
    (rwset,) = [item for item in tx.rwsets if item.namespace == p.ledger.chaincode]
    application = next(
        json.loads(w.value) for w in rwset.writes if w.key == f"\x00application\x00{application_id}\x00"
    )
    assert application["quote"] is None and application["terms"] == "terms-BankMSP"
    # one hashed write: the terms key, and the hash of exactly what the parties read
    (collection,) = rwset.collections
    assert collection.collection == "terms-BankMSP"
    (write,) = collection.writes
    assert write.key_hash == hashlib.sha256(f"\x00terms\x00{application_id}\x00".encode()).digest()
    terms = financing.financing_terms(p, consortium.bank, application_id)
    assert write.value_hash.hex() == terms["sha256"]


def test_the_holder_and_the_bank_read_the_terms_and_no_one_else(consortium, issued_ticket) -> None:
    c, p = consortium, consortium.platform
    application_id, approved = approve(consortium, issued_ticket["id"])
    for party in (c.bank, c.tier1):
        terms = financing.financing_terms(p, party, application_id)
        assert terms["annual_rate_bp"] == RATE_BP
        assert terms["value_date"] == TODAY.isoformat()
        assert (terms["proceeds_fen"], terms["fee_fen"]) == (approved["proceeds_fen"], approved["fee_fen"])
        assert len(terms["sha256"]) == 64
    for outsider in (c.core, c.factor, c.tier2):  # the issuer, another bank, another supplier
        with pytest.raises(d.ForbiddenError):
            financing.financing_terms(p, outsider, application_id)


def test_the_chaincode_refuses_the_terms_to_a_member_who_is_not_a_party(consortium, issued_ticket) -> None:
    """Below the services: the issuer's own signed query is refused by the chaincode."""
    from goldticket.settings import ROLE_MSP
    from goldticket.signing import SoftwareSigner, new_member_key

    p = consortium.platform
    application_id, _ = approve(consortium, issued_ticket["id"])
    ca, key = p.member_ca(ROLE_MSP["core"]), new_member_key()
    attributes = {"member": "core", "role": "clerk", "user": "core.software"}
    cert = ca.issue(key.public_key(), common_name="core.software", attributes=attributes)
    request = {"msp_id": ca.msp_id, "certificate_pem": cert.decode()}
    p.submit(p.actor("operator"), "RegisterIdentity", request, pin=p.settings.operator_pin)
    core_key = SoftwareSigner(key, m.Identity(ca.msp_id, cert))
    with pytest.raises(Exception, match="forbidden"):
        consortium.platform.contract.evaluate(
            core_key, "GetFinancingTerms", {"application_id": application_id}
        )


def test_a_private_rate_and_an_argument_rate_together_are_refused(
    consortium, issued_ticket, tier1_key
) -> None:
    """The rate is taken from one place only: the same field in both parts is refused."""
    from goldticket.ledger.contract import split_request

    c, p = consortium, consortium.platform
    application = financing.apply_financing(
        p, c.tier1, ticket_id=issued_ticket["id"], bank_org_id="bank", max_annual_rate_bp=1_000,
        amount_fen=30_000_000, pin=PIN,
    )  # fmt: skip
    request = {
        "application_id": application["application_id"],
        "annual_rate_bp": 300,
        "value_date": str(TODAY),
    }
    args, transient = split_request("ApproveFinancing", request)
    assert transient is not None and "annual_rate_bp" not in json.loads(args[0])
    both = json.dumps({**json.loads(args[0]), "annual_rate_bp": 300})
    proposal = m.build_proposal(
        channel_id=p.ledger.channel_id, chaincode=p.ledger.chaincode, function="ApproveFinancing",
        args=[both], creator=tier1_key.identity, transient=transient,
    )  # fmt: skip
    signed = m.signed_proposal(proposal.bytes, tier1_key.sign(proposal.bytes))
    with pytest.raises(Exception, match="both in the request and in its private part"):
        p.ledger.endorse(signed)
