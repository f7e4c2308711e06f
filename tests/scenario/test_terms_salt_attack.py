"""#19: the channel's hash of a financing's private terms must not give the rate away.

Every peer of the channel (and anyone with a copy of the blocks) has the SHA-256 of the value
written to ``terms-<bank MSP>``. Everything else that value holds is public or follows from the
rate: the application id, the value date (the approval's public arguments), the amount, the
ticket's maturity and the bank's day basis and fee. A rate has few plausible values (0.01 % to
20.00 %, 2,000 of them), so an unsalted value is found by hashing each candidate. The attack
below does exactly that, from the block only, for a direct approval and for one prepared for a
reviewer (#20); with the salt the parties keep in the collection it finds nothing, and the
holder and the bank still check the hash the channel records against the terms they read."""

from __future__ import annotations

import hashlib
import json

import pytest
from fabric_protos.common import common_pb2
from support import PIN, TODAY, register

from goldticket import domain as d
from goldticket import messages as m
from goldticket.services import dual_control, financing, members

pytestmark = pytest.mark.scenario

RATE_BP = 523  # the rate the attack looks for
AMOUNT_FEN = 30_000_000
CANDIDATES = range(1, 2_001)  # 0.01 % .. 20.00 % in steps of 0.01 %


def _committed(platform, start: int, function: str) -> tuple[bytes, m.DecodedTransaction]:
    """The one VALID ``function`` transaction of this test's chaincode since block ``start``."""
    found, height = [], platform.ledger.height()
    for block in platform.ledger.blocks(start):
        if block.number >= height:
            break
        for raw, code in zip(block.envelopes, block.validation_codes, strict=True):
            try:
                tx = m.decode_transaction(bytes(common_pb2.Envelope.FromString(raw).payload))
            except m.MessageError:
                continue
            if code == 0 and tx.chaincode == platform.ledger.chaincode and tx.function == function:
                found.append((bytes(raw), tx))
    (one,) = found
    return one


def _brute_force(tx: m.DecodedTransaction, application_id: str, request: dict, maturity: str) -> list[int]:
    """The attacker: the terms' value hash from the block, every other input from public data;
    the rates whose candidate terms hash to it."""
    (rwset,) = [item for item in tx.rwsets if item.namespace and item.collections]
    writes = [w for c in rwset.collections for w in c.writes]
    key_hash = hashlib.sha256(f"\x00terms\x00{application_id}\x00".encode()).digest()
    (target,) = [w.value_hash for w in writes if w.key_hash == key_hash]
    value_date = request["value_date"]
    found = []
    for rate in CANDIDATES:
        quote = d.quote_discount(
            amount_fen=AMOUNT_FEN,
            annual_rate_bp=rate,
            value_date=d.parse_date(value_date, "value_date"),
            maturity_date=d.parse_date(maturity, "maturity_date"),
            day_basis=360,
            fee_bp=0,
        )
        candidate = {"application_id": application_id, "value_date": value_date, **quote.to_dict()}
        encoded = json.dumps(candidate, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        if hashlib.sha256(encoded.encode("utf-8")).digest() == target:
            found.append(rate)
    return found


def _apply(consortium, ticket_id: str) -> str:
    p = consortium.platform
    applied = financing.apply_financing(
        p, consortium.tier1, ticket_id=ticket_id, bank_org_id="bank", amount_fen=AMOUNT_FEN,
        max_annual_rate_bp=1_000, pin=PIN,
    )  # fmt: skip
    register(p, consortium.bank, applied["application_id"])  # #21: registered before the approval
    return applied["application_id"]


def _parties_verify(consortium, application_id: str, value_hash: bytes) -> None:
    """The holder and the bank read the terms with their salt and find the channel's hash."""
    for party in (consortium.bank, consortium.tier1):
        terms = financing.financing_terms(consortium.platform, party, application_id)
        assert terms["annual_rate_bp"] == RATE_BP
        assert len(terms["salt"]) >= 32  # 128 bits or more, hex
        assert terms["sha256"] == value_hash.hex()
        assert d.financing_terms_sha256(application_id, terms) == terms["sha256"]


def test_the_rate_of_a_direct_approval_is_not_found_from_the_channels_hash(consortium, issued_ticket) -> None:
    c, p = consortium, consortium.platform
    application_id = _apply(c, issued_ticket["id"])
    start = p.ledger.height()
    financing.approve_financing(
        p, c.bank, application_id=application_id, annual_rate_bp=RATE_BP, value_date=TODAY, pin=PIN
    )
    raw, tx = _committed(p, start, "ApproveFinancing")
    assert b"terms_salt" not in raw and b'"salt"' not in raw  # the salt never reaches a block
    assert _brute_force(tx, application_id, json.loads(tx.args[0]), issued_ticket["maturity_date"]) == []
    (write,) = [w for item in tx.rwsets for col in item.collections for w in col.writes]
    _parties_verify(c, application_id, write.value_hash)


def test_the_rate_of_a_prepared_approval_is_not_found_from_the_channels_hash(
    consortium, issued_ticket
) -> None:
    c, p = consortium, consortium.platform
    bank_admin = members.add_user(p, p.desk(), member_id="bank", username="bank.admin", role="admin", pin=PIN)
    dual_control.set_setting(p, bank_admin, operations=["approve_financing"], threshold_fen=1, pin=PIN)
    application_id = _apply(c, issued_ticket["id"])
    start = p.ledger.height()
    prepared = financing.approve_financing(
        p, c.bank, application_id=application_id, annual_rate_bp=RATE_BP, value_date=TODAY, pin=PIN
    )
    dual_control.approve(p, bank_admin, prepared["operation"]["id"], pin=PIN)
    raw, tx = _committed(p, start, "ApproveOperation")
    assert b"terms_salt" not in raw and b"intent_salt" not in raw
    request = json.loads(tx.args[0])["request"]
    assert _brute_force(tx, application_id, request, issued_ticket["maturity_date"]) == []
    (write,) = [
        w
        for item in tx.rwsets
        for col in item.collections
        for w in col.writes
        if w.key_hash == hashlib.sha256(f"\x00terms\x00{application_id}\x00".encode()).digest()
    ]
    _parties_verify(c, application_id, write.value_hash)


def test_a_private_rate_without_a_salt_is_refused_by_the_chaincode(consortium, issued_ticket) -> None:
    """A caller that sends the rate privately but no salt (or a short one) gets no approval: the
    chaincode would otherwise publish a hash anyone can invert."""
    c, p = consortium, consortium.platform
    application_id = _apply(c, issued_ticket["id"])
    request = {
        "application_id": application_id,
        "annual_rate_bp": RATE_BP,
        "value_date": TODAY.isoformat(),
        "max_annual_rate_bp": 1_000,
    }
    with pytest.raises(d.InvalidInputError, match="terms_salt"):
        p.submit(c.bank, "ApproveFinancing", request, pin=PIN)
    with pytest.raises(d.InvalidInputError, match="terms_salt"):
        p.submit(c.bank, "ApproveFinancing", {**request, "terms_salt": "ab" * 8}, pin=PIN)
