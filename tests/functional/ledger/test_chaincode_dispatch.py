"""Issue #22, point 2: the chaincode's dispatch runs no per-call JSON-schema validation of the
library's; our own decoding still refuses what is not a JSON object, (the contract served to Fabric
peers: tests/integration/test_chaincode_server.py)."""

from __future__ import annotations

import json

import pytest
from fabric_chaincode_python.fabric_contract_api.serializer import JSONSerializer
from ledger_support import bare_ledger, ping

from goldticket import messages as m
from goldticket.ledger import EndorseError


def _raw_query(ledger, signer, function: str, argument: str) -> bytes:
    proposal = m.build_proposal(
        channel_id=ledger.channel_id,
        chaincode=ledger.chaincode,
        function=function,
        args=[argument],
        creator=signer.identity,
    )
    return ledger.evaluate(m.signed_proposal(proposal.bytes, signer.sign(proposal.bytes)))


def test_a_transaction_runs_no_schema_validation(tmp_path, monkeypatch):
    ledger, signer = bare_ledger(tmp_path)
    validated = []
    original = JSONSerializer._validate_against_schema

    def counted(self, *args):
        validated.append(args[0])
        return original(self, *args)

    monkeypatch.setattr(JSONSerializer, "_validate_against_schema", counted)
    ping(ledger, signer, "k")
    assert json.loads(_raw_query(ledger, signer, "GetMember", '{"id": "operator"}'))["id"] == "operator"
    assert validated == []
    ledger.close()


@pytest.mark.parametrize("argument", ["not json", "[1, 2]", '"a string"', "12"])
def test_a_request_that_is_not_a_json_object_is_still_refused(tmp_path, argument):
    ledger, signer = bare_ledger(tmp_path)
    with pytest.raises(EndorseError) as refused:
        _raw_query(ledger, signer, "GetMember", argument)
    assert refused.value.chaincode_message.startswith("invalid_input: ")
    ledger.close()
