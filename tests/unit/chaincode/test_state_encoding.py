"""#22: the world state's JSON is written by orjson. Every endorser must write the same bytes
for the same value, and a value must keep the bytes it had before the change (a ledger's blocks
are replayed and its endorsers compared byte for byte): orjson with sorted keys writes what
``json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)`` wrote, for every
value the contract stores (text keys, integers, text, booleans, null, lists, nested objects)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chaincode import state
from goldticket.domain import InvalidInputError

BEFORE = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.text()  # any code point but lone surrogates: controls, CJK, emoji, quotes, backslashes
)
values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(), children, max_size=6),
    max_leaves=30,
)


@settings(max_examples=200)
@given(st.dictionaries(st.text(), values, max_size=8))
def test_a_value_is_written_as_before(value: dict[str, Any]) -> None:
    assert state.encode(value) == BEFORE.encode(value).encode("utf-8")


@settings(max_examples=150)
@given(st.dictionaries(st.text(), values, max_size=8))
def test_what_is_written_reads_back(value: dict[str, Any]) -> None:
    assert state.loads(state.encode(value)) == value
    assert state.decode_request(BEFORE.encode(value)) == value


def test_the_key_order_is_the_code_points_order() -> None:
    value = {"b": 1, "a": 2, "票": 3, "Z": 4, "é": 5, "😀": 6, "ﬀ": 7}
    assert state.encode(value) == BEFORE.encode(value).encode("utf-8")
    assert list(json.loads(state.encode(value))) == sorted(value)


@pytest.mark.parametrize(
    "request_text",
    ["", "[1]", '"text"', "{", "null", "{}}"],
)
def test_a_request_that_is_not_a_json_object_is_refused(request_text: str) -> None:
    with pytest.raises(InvalidInputError):
        state.decode_request(request_text)


def test_a_request_keeps_a_large_integer_exact() -> None:
    # for the domain's range checks to refuse it as too large, never a float close to it
    assert state.decode_request('{"amount_fen": ' + "9" * 30 + "}") == {"amount_fen": int("9" * 30)}


def test_a_value_json_cannot_say_exactly_is_not_written() -> None:
    for value in ({"a": 2**64}, {"a": -(2**63) - 1}, {1: "a"}):
        with pytest.raises(TypeError):
            state.encode(value)  # type: ignore[arg-type]
