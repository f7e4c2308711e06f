"""#19: the signing gateway and a request split between the proposal's arguments and its
transient map. The intent states the whole request (the card holder consents to the rate); the
proposal must carry exactly it: arguments plus the transient entry ``request``, nothing else."""

from __future__ import annotations

import json

import pytest

from goldticket import messages as m
from goldticket.ledger.contract import split_request
from goldticket.signing import OrgCA, new_member_key
from goldticket.signing.errors import RefusedError
from goldticket.signing.intents import Intent, check_proposal

pytestmark = pytest.mark.unit

REQUEST = {
    "application_id": "FA1",
    "annual_rate_bp": 317,
    "max_annual_rate_bp": 500,
    "value_date": "2026-12-01",
}


def _identity() -> m.Identity:
    ca = OrgCA.create("BankMSP", "test")
    cert = ca.issue(
        new_member_key().public_key(), common_name="b", attributes={"member": "bank", "role": "clerk"}
    )
    return m.Identity("BankMSP", cert)


IDENTITY = _identity()


def _proposal(args: dict, transient: dict[str, bytes] | None) -> bytes:
    built = m.build_proposal(
        channel_id="goldticket",
        chaincode="goldticket",
        function="ApproveFinancing",
        args=[json.dumps(args, sort_keys=True)],
        creator=IDENTITY,
        transient=transient,
    )
    return built.bytes


def test_the_rate_goes_to_the_transient_map_and_the_intent_is_the_whole_request() -> None:
    args, transient = split_request("ApproveFinancing", REQUEST)
    assert json.loads(args[0]) == {k: v for k, v in REQUEST.items() if k != "annual_rate_bp"}
    assert transient == {"request": b'{"annual_rate_bp": 317}'}
    proposal = _proposal(json.loads(args[0]), transient)
    decoded = check_proposal(proposal, Intent("ApproveFinancing", REQUEST), IDENTITY)
    assert decoded.transient_map == transient


@pytest.mark.parametrize(
    "transient",
    [
        {"request": b'{"annual_rate_bp": 999}'},  # another rate than the intent's
        {"request": b'{"annual_rate_bp": 317}', "other": b"x"},  # something else beside it
        {"request": b"[317]"},  # not an object
        {"request": b'{"annual_rate_bp": 317, "application_id": "FA1"}'},  # a field in both parts
    ],
)
def test_a_transient_map_that_is_not_the_intents_rest_is_refused(transient) -> None:
    public = {k: v for k, v in REQUEST.items() if k != "annual_rate_bp"}
    with pytest.raises(RefusedError, match="arguments differ from the intent"):
        check_proposal(_proposal(public, transient), Intent("ApproveFinancing", REQUEST), IDENTITY)
