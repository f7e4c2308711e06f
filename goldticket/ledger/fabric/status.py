"""Gateway errors: the gRPC status, the per-endorser details Fabric puts in the
``grpc-status-details-bin`` trailer (decoded with grpcio-status), and the chaincode's own
``code: sentence`` when a chaincode refused."""

from __future__ import annotations

import dataclasses
import re

import grpc
from fabric_protos.gateway import gateway_pb2
from grpc_status import rpc_status

# A chaincode's refusal as the gateway reports it ("chaincode response 500, <message>").
_CHAINCODE_RESPONSE = re.compile(r"chaincode response \d+, (.*)", re.DOTALL)
# Our contract's errors: "<code>: <sentence>" with a snake_case code.
_DOMAIN_MESSAGE = re.compile(r"([a-z][a-z_]+): .+", re.DOTALL)
# Codes after which the same request may go to another organisation's gateway.
RETRYABLE = frozenset({grpc.StatusCode.UNAVAILABLE})
# What the gateway says when the endorsing peers answered differently: one of them had not yet
# committed the block another had (their reads differ), a race, not a refusal (#19 (a)).
_PAYLOADS_DIFFER = "ProposalResponsePayloads do not match"
# What the gateway says when it knows no layout of endorsers (FAILED_PRECONDITION) or could not
# reach enough of the ones it chose (ABORTED, with each endorser's error in the details).
_NO_COMBINATION = "no combination of peers can be derived"
_NOT_ENOUGH = "failed to collect enough transaction endorsements"


@dataclasses.dataclass(frozen=True)
class GatewayFailure:
    code: grpc.StatusCode
    message: str
    details: tuple[tuple[str, str, str], ...]  # (msp id, address, message) per endorser/orderer

    @property
    def retryable(self) -> bool:
        return self.code in RETRYABLE

    @property
    def not_found(self) -> bool:
        """The chaincode answered ``not_found`` (on this gateway's peer)."""
        return (self.chaincode_message() or "").startswith("not_found:")

    @property
    def endorsers_disagree(self) -> bool:
        """The endorsers' answers differed (a peer behind by a block): the same signed proposal
        may be endorsed again a moment later."""
        return any(_PAYLOADS_DIFFER in text for text in [self.message, *(d[2] for d in self.details)])

    @property
    def no_endorsers(self) -> bool:
        """This gateway found no set of endorsers that satisfies the policy among the peers it
        knows (a peer just started again knows few until gossip tells it of the others), or the
        ones it chose were unreachable: not a refusal, and another organisation's gateway, with
        its own view of the network, may find one."""
        if self.chaincode_message() is not None or self.endorsers_disagree:
            return False
        if self.code == grpc.StatusCode.FAILED_PRECONDITION:
            return _NO_COMBINATION in self.message
        return self.code == grpc.StatusCode.ABORTED and _NOT_ENOUGH in self.message

    def describe(self) -> str:
        parts = [self.message] + [f"{msp} {address}: {text}" for msp, address, text in self.details]
        return "; ".join(part for part in parts if part)

    def chaincode_message(self) -> str | None:
        """The chaincode's ``code: sentence`` if a chaincode refused the proposal."""
        for text in [self.message, *(detail[2] for detail in self.details)]:
            found = _CHAINCODE_RESPONSE.search(text)
            candidate = found.group(1) if found else text
            if _DOMAIN_MESSAGE.fullmatch(candidate.strip()):
                return candidate.strip()
        return None


def failure(error: grpc.RpcError) -> GatewayFailure:
    """Decode a failed gateway call."""
    code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
    message = error.details() if hasattr(error, "details") else str(error)
    details: list[tuple[str, str, str]] = []
    try:
        status = rpc_status.from_call(error)  # type: ignore[arg-type]
    except (ValueError, AttributeError):
        status = None
    if status is not None:
        for any_detail in status.details:
            detail = gateway_pb2.ErrorDetail()
            if any_detail.Unpack(detail):
                details.append((detail.msp_id, detail.address, detail.message))
    return GatewayFailure(code, message or "", tuple(details))
