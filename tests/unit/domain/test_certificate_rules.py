"""The certificate rules shared by the chaincode and the services."""

from __future__ import annotations

import pytest

from goldticket.domain import InvalidInputError, check_certificate_id, state_sha256

pytestmark = pytest.mark.unit

TICKET = {
    "id": "TK1",
    "root_id": "TK1",
    "parent_id": None,
    "issuer_org_id": "core",
    "holder_org_id": "tier1",
    "amount_fen": 100,
    "issue_date": "2026-12-01",
    "maturity_date": "2027-03-01",
    "status": "ACTIVE",
    "invoices": [],
    "tx_id": "ab" * 32,
}


def test_the_state_hash_covers_what_a_certificate_states_and_nothing_else():
    base = state_sha256(TICKET)
    assert len(base) == 64
    # bookkeeping and absent-or-null fields do not count: the chaincode's and the API's shapes agree
    assert state_sha256({**TICKET, "last_action": {"action": "accept"}, "credit_line_id": "CL1"}) == base
    assert state_sha256({**TICKET, "offer_id": None}) == base
    for field, value in (
        ("holder_org_id", "tier2"),
        ("amount_fen", 99),
        ("status", "FROZEN"),
        ("offer_id", "OF1"),
    ):
        assert state_sha256({**TICKET, field: value}) != base, field


@pytest.mark.parametrize(
    "bad", ["", "CT", "ct0123456789abcdef0123", "CT0123456789ABCDEF012", 7, None, "CTGGGG"]
)
def test_a_certificate_id_is_ct_and_twenty_hex_digits(bad):
    assert check_certificate_id("CT0123456789ABCDEF0123") == "CT0123456789ABCDEF0123"
    with pytest.raises(InvalidInputError):
        check_certificate_id(bad)
