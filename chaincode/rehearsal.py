"""Rehearse: the chaincode's own rules before the PIN, on Fabric too (issue #20).

The portal shows a refusal on the confirmation page, before a member types the PIN, by running
the write the member would sign. On the embedded ledger the peer runs an unsigned proposal
in-process; a Fabric peer endorses only signed proposals, and the member's card signs only with
the PIN. So the portal's read identity evaluates ``Rehearse`` (a query: evaluated, never
ordered) naming the write, its request and the member's certificate, and the named transaction
runs here as that member would: the same registration and authorization checks, the same reads
of world state, against a stub whose writes go nowhere (state, deletions, events and key-level
endorsement policies are all dropped). Submitted as a transaction, it still writes nothing.
Only the read identity may rehearse: it reads everything already, a member would learn what
another may do.
"""

from __future__ import annotations

import json
import re
from typing import Any

from fabric_chaincode_python.fabric_shim.stub import ChaincodeStub

from goldticket import domain as d

from .identity import caller_from_certificate
from .transactions import QUERIES, READER_ROLE, Tx, transaction

FUNCTION = re.compile(r"^[A-Z][A-Za-z]{2,40}$")
# what of the real stub a rehearsed transaction may use: reads and names, nothing that writes
READS = frozenset(
    {
        "get_state",
        "get_state_by_partial_composite_key",
        "get_history_for_key",
        "get_state_validation_parameter",
        "create_composite_key",
        "split_composite_key",
        "get_txid",
        "get_tx_timestamp",
        "get_channel_id",
        "channel_id",
        "tx_id",
        "before_key_policies",  # the embedded ledger's replay of old approvals (state.py)
        "before_document_rule",  # and of moves recorded before #21's documents rule
    }
)


class _DryStub:
    """The transaction's stub as ``creator`` signed it, every write dropped."""

    def __init__(self, stub: Any, creator: dict[str, Any]) -> None:
        self._stub = stub
        self._creator = creator

    def __getattr__(self, name: str) -> Any:
        if name not in READS:  # anything else of the stub might write: refused, not forwarded
            raise d.ForbiddenError(f"a rehearsal writes nothing (stub.{name})")
        return getattr(self._stub, name)

    def get_creator(self) -> dict[str, Any]:
        return self._creator

    async def get_state_multiple(self, keys: list[str]) -> list[bytes]:
        if isinstance(self._stub, ChaincodeStub):  # a Fabric peer's: GET_STATE_MULTIPLE
            stub = self._stub
            return list(await stub.client.handle_get_state_multiple("", keys, stub.channel_id, stub.tx_id))
        return list(await self._stub.get_state_multiple(keys))

    async def put_state(self, key: str, value: bytes) -> None:
        return None

    async def delete_state(self, key: str) -> None:
        return None

    async def put_private_data(self, collection: str, key: str, value: bytes) -> None:
        return None  # a prepared financing approval's rehearsal of its private terms (#20)

    def get_transient(self) -> dict[str, bytes]:
        return {}  # a rehearsal's request is whole in its arguments

    async def set_state_validation_parameter(self, key: str, policy: bytes) -> None:
        return None

    def set_event(self, name: str, payload: bytes) -> None:
        return None


class _DryContext:
    def __init__(self, ctx: Any, stub: _DryStub) -> None:
        self._ctx = ctx
        self._stub = stub

    def get_stub(self) -> _DryStub:
        return self._stub

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ctx, name)


class RehearsalTransactions:
    @transaction
    async def Rehearse(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        """Run write ``function`` with ``request`` as ``creator`` would sign it; nothing is
        written. ``{"ok": true}``, or the transaction's own refusal as this query's error."""
        signer = tx.signer()
        if signer.role != READER_ROLE:
            raise d.ForbiddenError("only the portal's read identity may rehearse a transaction")
        await tx.viewer()  # registered and not revoked, like any query
        function = d.require_text(req.get("function"), "function")
        if not FUNCTION.match(function) or function in QUERIES or function == "Rehearse":
            raise d.InvalidInputError(f"{function} is not a write of this contract")
        target = getattr(self, function, None)
        if target is None or not getattr(target, "is_transaction", False):
            raise d.InvalidInputError(f"{function} is not a write of this contract")
        # a JSON object, or the write's own decoding refuses it as it refuses any request
        request = json.dumps(req.get("request"), sort_keys=True, ensure_ascii=False)
        creator = req.get("creator")
        if not isinstance(creator, dict):
            raise d.InvalidInputError("creator is {msp_id, certificate_pem}")
        msp_id = d.require_text(creator.get("msp_id"), "creator.msp_id", 64)
        pem = creator.get("certificate_pem")
        if not isinstance(pem, str) or not 0 < len(pem) <= 8192:
            raise d.InvalidInputError("creator.certificate_pem must be a PEM certificate")
        certificate = pem.encode()
        caller_from_certificate(msp_id, certificate)  # a member's certificate, or ForbiddenError
        # (a read identity named as the creator is refused by the write's own caller check)
        dry = _DryStub(tx.stub, {"mspid": msp_id, "idBytes": certificate})
        await target(_DryContext(tx.ctx, dry), request)
        return {"ok": True, "function": function}
