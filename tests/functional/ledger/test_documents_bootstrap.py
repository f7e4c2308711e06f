"""#21: the documents rule a Bootstrap states is checked by the chaincode itself, whatever the
client's settings allowed: only required or optional, and never optional on a prod ledger; a
Bootstrap that states none (as every ledger did before the rule) is optional."""

from __future__ import annotations

import pytest
from ledger_support import bare_ledger

from goldticket import domain as d
from goldticket.ledger import Contract, EndorseError

pytestmark = pytest.mark.functional
BOOTSTRAP = {"id": "operator", "name": "Test Operator"}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"documents": "sometimes"}, "documents must be one of required, optional"),
        ({"documents": True}, "documents must be one of required, optional"),
        ({"documents": "optional"}, "a prod ledger requires the signed documents"),
        ({"documents": "optional", "environment": "prod"}, "a prod ledger requires the signed documents"),
    ],
)
def test_a_bootstrap_states_a_rule_the_chaincode_knows(tmp_path, extra, message):
    ledger, signer = bare_ledger(tmp_path / "data", bootstrap=False)
    try:
        height = ledger.height()
        with pytest.raises(EndorseError, match=message):
            Contract(ledger).submit(signer, "Bootstrap", {**BOOTSTRAP, **extra})
        assert ledger.height() == height
    finally:
        ledger.close()


@pytest.mark.parametrize(
    ("extra", "rule"),
    [
        ({}, "optional"),  # a ledger bootstrapped before the rule
        ({"documents": "optional", "environment": "test"}, "optional"),
        ({"documents": "required"}, "required"),
    ],
)
def test_the_rule_the_bootstrap_states_is_the_ledgers(tmp_path, extra, rule):
    ledger, signer = bare_ledger(tmp_path / "data", bootstrap=False)
    try:
        Contract(ledger).submit(signer, "Bootstrap", {**BOOTSTRAP, **extra})
        rules = Contract(ledger).evaluate(signer, "GetLedgerRules", {})
        assert rules == {
            "documents": rule,
            "environment": extra.get("environment", "prod"),
            "max_term_months": d.DEFAULT_MAX_TERM_MONTHS,
        }
    finally:
        ledger.close()
