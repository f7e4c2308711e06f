"""Key-level endorsement (Fabric's state-based endorsement) for a bank's financed piece (#19).

The chaincode-level policy is the channel's MAJORITY of organisations' peers: with three
organisations, the operator's and a core enterprise's peers together could endorse any write,
a bank's financed piece included, without the bank. When a bank approves a financing, the
financed piece's key gets a validation parameter: a write to it needs a peer of the bank's own
organisation AND a peer of another party's organisation (the issuer's, or the applicant's: a
supplier's identities are issued under the operator's MSP, so that is the operator's peer). Every
write of a ticket also writes its holding key, which keeps the chaincode-level MAJORITY, so a
financed piece moves only with the bank and a majority. A bank whose identities are issued under
the operator's MSP runs no node of its own: its piece gets no key-level policy (it would only
make the operator's peer sufficient).

fabric-chaincode-python 2.5.4 has no ``SetStateValidationParameter``: on a peer,
:func:`put_validation_parameter` has our handler (chaincode/peer_fixes.py) send the shim's
PUT_STATE_METADATA (the message Fabric's Go and Node shims send); the embedded ledger's stub
records it in the write set the same way.
"""

from __future__ import annotations

from typing import Any

from fabric_chaincode_python.fabric_shim.stub import ChaincodeStub
from fabric_protos.common import policies_pb2
from fabric_protos.msp import msp_principal_pb2

VALIDATION_PARAMETER = "VALIDATION_PARAMETER"  # Fabric's metadata key for key-level policies


def _peer_of(msp_id: str) -> msp_principal_pb2.MSPPrincipal:
    role = msp_principal_pb2.MSPRole(msp_identifier=msp_id, role=msp_principal_pb2.MSPRole.PEER)
    return msp_principal_pb2.MSPPrincipal(
        principal_classification=msp_principal_pb2.MSPPrincipal.ROLE, principal=role.SerializeToString()
    )


def _signed_by(index: int) -> policies_pb2.SignaturePolicy:
    return policies_pb2.SignaturePolicy(signed_by=index)


def _out_of(n: int, rules: list[policies_pb2.SignaturePolicy]) -> policies_pb2.SignaturePolicy:
    return policies_pb2.SignaturePolicy(n_out_of=policies_pb2.SignaturePolicy.NOutOf(n=n, rules=rules))


def bank_policy(bank_msp: str, others: list[str]) -> bytes:
    """``AND('<bank>.peer', OR('<other>.peer', ...))`` (just the bank's peer without others), as a
    serialized SignaturePolicyEnvelope; deterministic, so every endorser writes the same bytes."""
    others = sorted(set(others) - {bank_msp})
    identities = [_peer_of(bank_msp)] + [_peer_of(msp) for msp in others]
    rule = _out_of(1, [_signed_by(0)])
    if others:
        rule = _out_of(2, [_signed_by(0), _out_of(1, [_signed_by(i + 1) for i in range(len(others))])])
    envelope = policies_pb2.SignaturePolicyEnvelope(version=0, rule=rule, identities=identities)
    return envelope.SerializeToString(deterministic=True)


def describe(policy: bytes) -> str:
    """The policy as Fabric writes it (for errors and tests), e.g. AND(BankMSP.peer, OR(...))."""
    envelope = policies_pb2.SignaturePolicyEnvelope.FromString(policy)
    names = []
    for principal in envelope.identities:
        role = msp_principal_pb2.MSPRole.FromString(principal.principal)
        names.append(f"{role.msp_identifier}.{msp_principal_pb2.MSPRole.MSPRoleType.Name(role.role).lower()}")

    def text(rule: policies_pb2.SignaturePolicy) -> str:
        if rule.WhichOneof("Type") == "signed_by":
            return names[rule.signed_by]
        inner = ", ".join(text(r) for r in rule.n_out_of.rules)
        count = len(rule.n_out_of.rules)
        if count == 1 and rule.n_out_of.n == 1:
            return inner
        kind = (
            "AND"
            if rule.n_out_of.n == count
            else "OR"
            if rule.n_out_of.n == 1
            else f"OutOf({rule.n_out_of.n}"
        )
        return f"{kind}({inner})" if not kind.startswith("OutOf") else f"{kind}, {inner})"

    return text(envelope.rule)


async def put_validation_parameter(stub: Any, key: str, policy: bytes) -> None:
    """Set ``key``'s key-level endorsement policy in this transaction."""
    if not isinstance(stub, ChaincodeStub):  # the embedded ledger's simulation stub
        await stub.set_state_validation_parameter(key, policy)
        return
    await stub.client.handle_put_state_metadata(
        "", key, VALIDATION_PARAMETER, policy, stub.channel_id, stub.tx_id
    )
