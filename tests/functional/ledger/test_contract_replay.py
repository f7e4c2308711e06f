"""The contract keeps its word across a refactoring: the demo's ledger, made by the contract as
it was recorded (tests/data/demo-ledger.sqlite.gz: 36 blocks, 35 transactions from Bootstrap to
a settlement and a piece marked overdue with a demand, re-recorded with #21's registration before
the approval and the demo's overdue piece, again with #19's salted private terms; the peer's key removed, only public certificates kept), replays through today's contract byte for byte with ``ledger
verify``: same transaction names and arguments, same reads, writes, state keys, results and
events. A change that means to alter what a transaction
reads or writes records the demo again (docs/decisions.md, "A contract change and old ledgers");
one that does not mean to is caught here."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest

from chaincode import GoldTicketContract
from chaincode.contract import QUERIES
from goldticket.ledger.local.verify import verify_ledger

DATA = Path(__file__).resolve().parents[2] / "data"

# the ledger's machinery under raw requests: its ledger is made without the documents rule (#21;
# tests/scenario/test_documents_required.py tests the rule)
pytestmark = [pytest.mark.functional, pytest.mark.documents_optional]


def demo_ledger(tmp_path: Path) -> Path:
    path = tmp_path / "ledger.sqlite"
    with gzip.open(DATA / "demo-ledger.sqlite.gz", "rb") as source, path.open("wb") as target:
        shutil.copyfileobj(source, target)
    return path


def test_the_demo_ledger_replays_byte_for_byte(tmp_path: Path) -> None:
    trusted = {
        msp: pem.encode() for msp, pem in json.loads((DATA / "demo-ledger-cas.json").read_text()).items()
    }
    report = verify_ledger(demo_ledger(tmp_path), GoldTicketContract(), trusted_msps=trusted)
    assert report.ok, report.reason
    assert (report.blocks, report.transactions) == (36, 35)


def test_the_contract_offers_the_same_transactions_and_queries() -> None:
    """As fabric-chaincode-python registers them from the composed contract."""
    from fabric_chaincode_python.fabric_contract_api import ContractChaincode

    chaincode = ContractChaincode.new_chaincode(GoldTicketContract())
    functions = chaincode._contracts["GoldTicket"].functions
    evaluated = sorted(name for name, function in functions.items() if function.call_type == 2)
    assert evaluated == sorted(QUERIES)
    assert sorted(functions) == sorted(
        [
            "AcceptCreditLine", "AcceptOffer", "AcceptTicket", "ApplyFinancing", "ApproveFinancing",
            "ApproveIdentity", "ApproveRecovery", "ResumeIdentity", "SuspendIdentity",
            "Bootstrap", "CancelOffer", "GetLedgerRules", "RequireDocuments", "CancelTicket", "ClaimIdentity", "DeclineCreditLine",
            "ExpectIdentity", "FreezeTicket", "GetApplication", "GetBankPayments", "RecordBankPayments",
                "GetFinancingTerms",
            "GetCertificate", "GetHistory", "GetIdentity", "GetLineage", "GetMember", "GetOffer",
            "GetStatement", "GetStatements", "GetTicket", "GrantCreditLine", "IssueTicket",
            "ListCreditLines", "ListIdentities", "ListMembers", "ListTickets", "OfferTransfer",
            "Ping", "RecordCertificate", "RegisterIdentity", "RegisterMember", "RejectFinancing", "Rehearse",
            "RejectOffer", "RejectTicket", "RevokeIdentity", "SetTermCap", "SettleTicket",
            "UnfreezeTicket", "UpdateMember",
            "MarkOverdue", "DemandPayment", "CloseDemand", "GetOverdue", "ListOverdue",
            "RecordRegistration", "GetRegistrations", "SearchRegistrations",
            "SetDualControl", "GetDualControl", "PrepareOperation", "ApproveOperation", "RejectOperation",
            "GetOperation", "ListOperations",
            "RequestAccountChange", "ConfirmAccountChange", "RejectAccountChange", "ListAccountChanges",
        ]
    )  # fmt: skip
