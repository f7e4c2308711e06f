"""Issue #22, point 2: the chaincode's dispatch runs no per-call JSON-schema validation of the
library's; our own decoding still refuses what is not a JSON object, (the contract served to Fabric
peers: tests/integration/test_chaincode_server.py)."""

from __future__ import annotations

import json

import pytest
from fabric_chaincode_python.fabric_contract_api import ContractChaincode
from fabric_chaincode_python.fabric_contract_api.serializer import JSONSerializer
from ledger_support import bare_ledger, ping

from chaincode import GoldTicketContract
from chaincode.dispatch import new_chaincode
from goldticket import messages as m
from goldticket.ledger import EndorseError
from goldticket.ledger.local import peer


def _raw_query(ledger, signer, function: str, argument: str) -> bytes:
    proposal = m.build_proposal(
        channel_id=ledger.channel_id,
        chaincode=ledger.chaincode,
        function=function,
        args=[argument],
        creator=signer.identity,
    )
    return ledger.evaluate(m.signed_proposal(proposal.bytes, signer.sign(proposal.bytes)))


def _count_validations(monkeypatch) -> list[str]:
    validated: list[str] = []
    original = JSONSerializer._validate_against_schema

    def counted(self, *args):
        validated.append(args[0])
        return original(self, *args)

    monkeypatch.setattr(JSONSerializer, "_validate_against_schema", counted)
    return validated


def test_a_transaction_runs_no_schema_validation(tmp_path, monkeypatch):
    ledger, signer = bare_ledger(tmp_path)
    validated = _count_validations(monkeypatch)
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


def test_the_library_dispatch_still_validates_each_call(tmp_path, monkeypatch):
    """The gap ``chaincode.dispatch`` closes is still there: the library's own dispatch checks
    every argument and result against its schema (when it stops, the subclass can go)."""
    monkeypatch.setattr(peer, "new_chaincode", ContractChaincode.new_chaincode)
    ledger, signer = bare_ledger(tmp_path)
    validated = _count_validations(monkeypatch)
    ping(ledger, signer, "k")
    assert validated
    ledger.close()


def test_peers_see_the_same_contract_through_either_dispatch():
    """Function names, their schemas and the system contract's metadata are the library's:
    only the per-call check is gone, so a Fabric peer sees the contract it saw before."""
    ours = new_chaincode(GoldTicketContract())
    library = ContractChaincode.new_chaincode(GoldTicketContract())
    assert ours._system_contract.get_metadata() == library._system_contract.get_metadata()
    metadata = json.loads(ours._system_contract.get_metadata())
    names = {tx["name"] for tx in metadata["contracts"]["GoldTicket"]["transactions"]}
    assert {"OfferTransfer", "AcceptOffer", "ApproveFinancing", "GetApplication"} <= names
