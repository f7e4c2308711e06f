"""Phantom reads: a transaction that scanned a key range is invalid (PHANTOM_READ_CONFLICT) when
a key entered or left that range before it committed, as on Fabric. Here: a core enterprise's
IssueTicket scans its credit lines; a bank grants a new line between endorsement and commit."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest
from support import PIN, TODAY, invoice

from goldticket import messages as m
from goldticket.ledger import verify_local_ledger
from goldticket.services import credit

# the ledger's machinery under raw requests: its ledger is made without the documents rule (#21;
# tests/scenario/test_documents_required.py tests the rule)
pytestmark = [pytest.mark.functional, pytest.mark.documents_optional]


def endorsed_issue(platform, core):
    request = {
        "payee_org_id": "tier1",
        "amount_fen": 1_000_000,
        "maturity_date": (TODAY + dt.timedelta(days=60)).isoformat(),
        "invoices": [invoice("INV-PHANTOM", 1_000_000)],
    }
    signer = platform.signer(core, PIN, "IssueTicket", request)
    prepared = platform.ledger.endorse(platform.contract._signed_proposal(signer, "IssueTicket", request))
    return m.signed_envelope(
        prepared.bytes, signer.sign(prepared.bytes, purpose="transaction")
    ), prepared.tx_id


def test_a_scan_that_would_now_return_another_key_is_a_phantom_conflict(consortium):
    platform = consortium.platform
    envelope, tx_id = endorsed_issue(platform, consortium.core)
    credit.grant_credit_line(platform, consortium.factor, core_org_id="core", limit_fen=5_000_000, pin=PIN)
    platform.ledger.submit(envelope)
    assert platform.ledger.commit_status(tx_id).validation_code == "PHANTOM_READ_CONFLICT"
    report = verify_local_ledger(platform.settings.data_dir)
    assert report.ok, report.reason


def test_an_unchanged_scan_commits(consortium):
    platform = consortium.platform
    envelope, tx_id = endorsed_issue(platform, consortium.core)
    platform.ledger.submit(envelope)
    assert platform.ledger.commit_status(tx_id).ok
    assert verify_local_ledger(platform.settings.data_dir).ok


def test_a_phantom_conflict_marked_valid_fails_verification(consortium):
    platform = consortium.platform
    envelope, tx_id = endorsed_issue(platform, consortium.core)
    credit.grant_credit_line(platform, consortium.factor, core_org_id="core", limit_fen=5_000_000, pin=PIN)
    platform.ledger.submit(envelope)
    number = platform.ledger.commit_status(tx_id).block_number
    block = list(platform.ledger.blocks(number))[0]
    valid = m.new_block(number, block.previous_hash, list(block.envelopes), [0])
    conn = sqlite3.connect(platform.settings.data_dir / "ledger.sqlite")
    conn.execute("UPDATE blocks SET data = ? WHERE number = ?", (valid.encode(), number))
    conn.commit()
    conn.close()
    report = verify_local_ledger(platform.settings.data_dir)
    assert not report.ok and report.first_bad_block == number
    assert "marked VALID but its reads make it PHANTOM_READ_CONFLICT" in report.reason
