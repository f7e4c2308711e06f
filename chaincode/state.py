"""World-state access for the contract: composite keys, deterministic JSON, typed not-found."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

import orjson
from fabric_chaincode_python.fabric_shim.stub import ChaincodeStub

from goldticket.domain import InvalidInputError, NotFoundError, require_documents

from .endorsement import put_validation_parameter

CHINA_OFFSET = dt.timedelta(hours=8)


def encode(value: dict[str, Any]) -> bytes:
    """Deterministic JSON: every endorser writes the same bytes for the same value. orjson with
    sorted keys writes exactly what ``json.dumps(value, sort_keys=True, separators=(",", ":"),
    ensure_ascii=False)`` wrote before (tests/unit/chaincode/test_state_encoding.py), ~40x
    faster (#22: 11 world-state writes and 17 reads per transfer and acceptance); it refuses
    what JSON cannot say exactly (an integer beyond 64 bits, a non-text key)."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def loads(raw: bytes | str) -> Any:
    """A world-state value from the JSON :func:`encode` wrote (orjson: integers within 64 bits,
    no floats, as the contract writes them)."""
    return orjson.loads(raw)


def decode_request(request: str) -> dict[str, Any]:
    """A caller's request, decoded exactly by the standard library (orjson would read an integer
    beyond 64 bits as a float); the domain's checks then refuse what is out of range."""
    try:
        data = json.loads(request)
    except (TypeError, ValueError) as error:
        raise InvalidInputError("the request is not valid JSON") from error
    if not isinstance(data, dict):
        raise InvalidInputError("the request must be a JSON object")
    return data


def derive_id(prefix: str, tx_id: str, index: int = 0) -> str:
    """An id every endorser derives alike from the transaction id."""
    return prefix + hashlib.sha256(f"{tx_id}/{index}".encode()).hexdigest()[:20]


class State:
    """The stub's state under our key scheme ``\\x00kind\\x00attr\\x00...``."""

    def __init__(self, stub: Any) -> None:
        self.stub = stub

    def key(self, kind: str, *attributes: str) -> str:
        return str(self.stub.create_composite_key(kind, list(attributes)))

    @property
    def tx_id(self) -> str:
        return str(self.stub.get_txid())

    def today(self) -> dt.date:
        """The business date in China, from the transaction timestamp (never the host clock)."""
        stamp = self.stub.get_tx_timestamp()
        return (dt.datetime(1970, 1, 1) + dt.timedelta(seconds=stamp.seconds) + CHINA_OFFSET).date()

    def timestamp(self) -> dt.datetime:
        """The transaction's timestamp (UTC, whole seconds), the same on every endorser."""
        stamp = self.stub.get_tx_timestamp()
        return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=stamp.seconds)

    async def get(self, kind: str, *attributes: str) -> dict[str, Any] | None:
        raw = await self.stub.get_state(self.key(kind, *attributes))
        return loads(raw) if raw else None

    async def get_many(self, *items: tuple[str, tuple[str, ...]]) -> list[dict[str, Any] | None]:
        """Several keys in one round trip to the peer (Fabric v3's GetMultipleStates) where it
        offers it; each read is recorded as by :meth:`get`."""
        keys = [self.key(kind, *attributes) for kind, attributes in items]
        if isinstance(self.stub, ChaincodeStub):
            client = self.stub.client
            values = await client.handle_get_state_multiple("", keys, self.stub.channel_id, self.stub.tx_id)
        else:
            values = await self.stub.get_state_multiple(keys)
        return [loads(raw) if raw else None for raw in values]

    async def require(self, kind: str, *attributes: str) -> dict[str, Any]:
        value = await self.get(kind, *attributes)
        if value is None:
            raise NotFoundError(f"no {kind} {'/'.join(attributes)}")
        return value

    async def put(self, kind: str, attributes: tuple[str, ...], value: dict[str, Any]) -> None:
        await self.stub.put_state(self.key(kind, *attributes), encode(value))

    def key_policies(self) -> bool:
        """Whether this run sets key-level endorsement policies: always, except when the embedded
        ledger's verifier replays a transaction recorded before the chaincode did (its stub says
        so), which it replays as the chaincode then ran."""
        return not getattr(self.stub, "before_key_policies", False)

    async def require_documents(self, **hashes: Any) -> None:
        """#21: a move missing one of its documents' SHA-256 is refused on a ledger whose rule
        requires them (the rule is read only then: a move with its documents reads what it read
        before the rule). The embedded ledger's verifier replays a document-less move recorded
        before the rule without reading it (its stub says so; it checks the ledger had no rule)."""
        if all(value is not None for value in hashes.values()):
            return
        if getattr(self.stub, "before_document_rule", False):
            return
        require_documents(await self.require("config", "bootstrap"), **hashes)

    async def require_endorsement(self, kind: str, attributes: tuple[str, ...], policy: bytes) -> None:
        """From the next transaction on, a write to this key needs endorsements satisfying
        ``policy`` (a serialized SignaturePolicyEnvelope; see chaincode/endorsement.py)."""
        await put_validation_parameter(self.stub, self.key(kind, *attributes), policy)

    async def delete(self, kind: str, *attributes: str) -> None:
        await self.stub.delete_state(self.key(kind, *attributes))

    async def scan(self, kind: str, *partial: str) -> list[tuple[list[str], dict[str, Any]]]:
        """Every (attributes, value) under a partial composite key, in key order."""
        iterator = await self.stub.get_state_by_partial_composite_key(kind, list(partial))
        items = []
        async for record in iterator:
            _, attributes = self.stub.split_composite_key(record.key)
            items.append((attributes, loads(record.value) if record.value else {}))
        return items

    async def history(
        self, kind: str, *attributes: str
    ) -> list[tuple[str, dt.datetime, dict[str, Any] | None]]:
        """Every change of the key, oldest first (a Fabric peer returns them newest first)."""
        iterator = await self.stub.get_history_for_key(self.key(kind, *attributes))
        entries = []
        async for modification in iterator:
            when = dt.datetime.fromtimestamp(
                modification.timestamp.seconds + modification.timestamp.nanos / 1e9, dt.UTC
            )
            value = None if modification.is_delete else loads(modification.value)
            entries.append((modification.tx_id, when, value))
        entries.reverse()
        return entries
