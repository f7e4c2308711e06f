"""#19 (a): when the gateway reports that the endorsing peers answered differently (one of them
had not yet committed the block another had), the client endorses the same signed proposal again
a moment later; any other failure is the caller's at once (goldticket/ledger/fabric/status.py)."""

from __future__ import annotations

import grpc
import pytest

from goldticket.ledger.fabric.gateway import DISAGREEMENT_WAITS
from goldticket.ledger.fabric.status import GatewayFailure

pytestmark = pytest.mark.unit

SEEN = (
    "failed to collect enough transaction endorsements, see attached details for more info",
    (("BankMSP", "10.77.92.13:17170", "ProposalResponsePayloads do not match"),),
)


def test_a_disagreement_of_the_endorsers_is_recognised_where_the_gateway_puts_it() -> None:
    message, details = SEEN
    assert GatewayFailure(grpc.StatusCode.ABORTED, message, details).endorsers_disagree
    assert GatewayFailure(
        grpc.StatusCode.ABORTED, "ProposalResponsePayloads do not match", ()
    ).endorsers_disagree


@pytest.mark.parametrize(
    "message, details",
    [
        ("chaincode response 500, rule_violation: the ticket is locked", ()),
        ("failed to collect enough transaction endorsements", (("BankMSP", "x:1", "access denied"),)),
        ("", ()),
    ],
)
def test_a_refusal_is_no_disagreement(message: str, details: tuple) -> None:
    assert not GatewayFailure(grpc.StatusCode.ABORTED, message, details).endorsers_disagree


def test_the_retries_are_bounded_and_short() -> None:
    assert 1 <= len(DISAGREEMENT_WAITS) <= 5 and sum(DISAGREEMENT_WAITS) <= 3.0


def test_a_not_found_from_the_chaincode_is_asked_of_the_other_gateways() -> None:
    """A gateway whose peer is behind (restarted, a block late) answers not_found for what
    another organisation's peer has: reads and endorsements ask the next gateway before the
    refusal stands (GatewayClient._each_gateway(read=True)); other refusals stand at once."""
    behind = GatewayFailure(
        grpc.StatusCode.ABORTED,
        "failed to endorse transaction, see attached details for more info",
        (("OperatorMSP", "127.0.0.1:17051", "chaincode response 500, not_found: no application FA1"),),
    )
    assert behind.not_found and not behind.endorsers_disagree
    refused = GatewayFailure(
        grpc.StatusCode.ABORTED, "chaincode response 500, forbidden: not your application", ()
    )
    assert not refused.not_found


def test_a_gateway_that_knows_no_endorsers_is_told_apart_from_a_refusal() -> None:
    """What CI's failover run saw after the gateway's peer was started again (its gossip view not
    yet whole): another organisation's gateway is asked, then the same one after a wait."""
    planless = GatewayFailure(
        grpc.StatusCode.FAILED_PRECONDITION,
        "no combination of peers can be derived which satisfy the endorsement policy: required chaincodes"
        " are not installed on sufficient peers",
        (),
    )
    assert planless.no_endorsers and not planless.endorsers_disagree
    unreachable = GatewayFailure(
        grpc.StatusCode.ABORTED,
        "failed to collect enough transaction endorsements, see attached details for more info",
        (("BankMSP", "10.77.92.13:17170", "rpc error: code = Unavailable desc = connection refused"),),
    )
    assert unreachable.no_endorsers
    refused = GatewayFailure(
        grpc.StatusCode.ABORTED,
        "failed to collect enough transaction endorsements, see attached details for more info",
        (("BankMSP", "10.77.92.13:17170", "chaincode response 500, rule_violation: only a held piece"),),
    )
    assert not refused.no_endorsers  # a chaincode's refusal is the caller's answer
    assert not SEEN_FAILURE.no_endorsers  # a disagreement has its own wait
    private = GatewayFailure(
        grpc.StatusCode.FAILED_PRECONDITION,
        "requires endorsement from organisation(s) that are not in the distribution policy of the"
        " private data collection(s): [CoreMSP]; retry specifying trusted endorsing organizations",
        (),
    )
    assert not private.no_endorsers


SEEN_FAILURE = GatewayFailure(grpc.StatusCode.ABORTED, *SEEN)
