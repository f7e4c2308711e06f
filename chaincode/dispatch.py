"""The contract's dispatch without fabric-chaincode-python's per-call JSON-schema validation.

The library validates every transaction's arguments and result against the JSON schema it
derives from the method's signature. Ours is always ``(ctx, request: str) -> str``: the schema
says "a string", which the peer's arguments (bytes, decoded) and our ``@transaction`` wrapper's
result (JSON it encoded itself) always are, so the check decides nothing and cost 0.14-0.31 ms
per transaction (issue #22). Our own decoding and checks stay: ``decode_request`` refuses a
request that is not a JSON object, the domain checks every field. Everything else is the
library's (metadata, routing, the system contract), so the contract works unchanged on Fabric
peers.
"""

from __future__ import annotations

from typing import Any

from fabric_chaincode_python.fabric_contract_api import ContractChaincode
from fabric_chaincode_python.fabric_contract_api.serializer import JSONSerializer


class UncheckedSerializer(JSONSerializer):  # type: ignore[misc]
    """The library's JSON serializer, given no schema to validate against."""

    def from_string(self, value: str, field_type: Any, param_metadata: Any, components: Any) -> Any:
        return super().from_string(value, field_type, None, components)

    def to_string(self, result: Any, result_type: Any, returns: Any, components: Any) -> Any:
        return super().to_string(result, result_type, None, components)


def new_chaincode(*contracts: Any) -> ContractChaincode:
    """``ContractChaincode.new_chaincode`` dispatching through :class:`UncheckedSerializer`."""
    chaincode = ContractChaincode.new_chaincode(*contracts)
    chaincode.TransactionSerializer = UncheckedSerializer()
    return chaincode
