"""#19: who endorses a write carrying a financing's private terms on Fabric. Its parties (the
terms collection's members) always; where they are not a MAJORITY of the channel's
organisations, the fewest others it needs, never another bank's; refused when the channel has
too few that may see the terms."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from goldticket import domain as d

pytestmark = pytest.mark.unit
PARTIES = frozenset({"OperatorMSP", "BankTwoMSP"})


def test_three_organisations_the_parties_are_a_majority():
    channel = frozenset({"OperatorMSP", "CoreMSP", "BankMSP"})
    assert d.private_endorsers(frozenset({"OperatorMSP", "BankMSP"}), channel, {"BankMSP"}) == (
        "BankMSP",
        "OperatorMSP",
    )


def test_four_organisations_take_a_core_enterprise_never_the_other_bank():
    channel = frozenset({"OperatorMSP", "CoreMSP", "BankMSP", "BankTwoMSP"})
    banks = {"BankMSP", "BankTwoMSP"}
    assert d.private_endorsers(PARTIES, channel, banks) == ("BankTwoMSP", "OperatorMSP", "CoreMSP")


def test_too_few_that_may_see_the_terms_is_refused():
    channel = frozenset({"OperatorMSP", "BankMSP", "BankTwoMSP", "BankThreeMSP"})
    with pytest.raises(d.RuleViolationError, match="cannot be written privately"):
        d.private_endorsers(PARTIES, channel, channel - {"OperatorMSP"})


names = st.sampled_from([f"Org{i}MSP" for i in range(9)])


@given(
    st.frozensets(names, min_size=0, max_size=9),
    st.frozensets(names, min_size=0, max_size=9),
    st.sampled_from([f"Org{i}MSP" for i in range(9)]),
)
def test_the_endorsers_are_a_majority_with_the_parties_and_no_other_bank(channel, banks, bank):
    parties = frozenset({"OperatorMSP", bank})
    banks = banks | {bank}
    try:
        chosen = d.private_endorsers(parties, channel, banks)
    except d.RuleViolationError:
        assert len(parties) + len(channel - parties - banks) < len(channel | parties) // 2 + 1
        return
    assert len(chosen) == len(set(chosen))
    assert set(chosen) >= parties
    assert not (set(chosen) - parties) & banks
    assert len(chosen) == max(len(parties), len(channel | parties) // 2 + 1)
    assert set(chosen) <= channel | parties
