"""#19: an approved financing's discount terms over the API: its holder and its bank read them
(the figures the approval answered, and the hash the channel records), nobody else does."""

from __future__ import annotations

import pytest
from support import PIN, TODAY

pytestmark = pytest.mark.functional


def test_the_holder_and_the_bank_read_the_terms_others_are_refused(members, accepted):
    core, tier1, tier2, bank = (members[org] for org in ("core", "tier1", "tier2", "bank"))
    applied = tier1.post(
        f"/tickets/{accepted['id']}/financing",
        {"bank_org_id": "bank", "amount_fen": 10_000_000, "max_annual_rate_bp": 1_000, "pin": PIN},
        expect=201,
    )
    application_id = applied["application_id"]
    bank.get(f"/financing/{application_id}/terms", expect=404)  # not approved yet: no terms
    bank.post(  # #21: registered before the approval
        f"/financing/{application_id}/registration",
        {"registration_number": f"ZD-{application_id}", "registered_at": TODAY.isoformat(), "pin": PIN},
        expect=201,
    )
    approved = bank.post(
        f"/financing/{application_id}/approve",
        {"annual_rate_bp": 262, "value_date": TODAY.isoformat(), "pin": PIN},
        expect=200,
    )
    for party in (tier1, bank):
        terms = party.get(f"/financing/{application_id}/terms", expect=200)
        assert terms["annual_rate_bp"] == 262 and terms["value_date"] == TODAY.isoformat()
        for figure in ("days", "discount_interest_fen", "fee_fen", "proceeds_fen"):
            assert terms[figure] == approved[figure], figure
        assert len(terms["sha256"]) == 64
    for outsider in (core, tier2):  # the issuer, another supplier
        refused = outsider.get(f"/financing/{application_id}/terms", expect=403)
        assert refused["error"] == "forbidden"
