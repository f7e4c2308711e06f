"""#19 on the embedded ledger: the private store of discount terms is checked by ``ledger verify``.
An approval's rate came in its transient map, which no block holds: the ledger file keeps it
beside the private values (as a member's private store keeps what its transient store held), and
the replay runs the approval again with it, so the block's hashes, the stored terms and the
kept inputs must all agree."""

from __future__ import annotations

import json
import sqlite3

import pytest
from support import PIN, TODAY, register

from chaincode import GoldTicketContract
from goldticket.ledger.local.verify import verify_ledger
from goldticket.services import financing

pytestmark = pytest.mark.functional


@pytest.fixture
def approved(consortium, issued_ticket):
    p = consortium.platform
    application = financing.apply_financing(
        p, consortium.tier1, ticket_id=issued_ticket["id"], bank_org_id="bank", max_annual_rate_bp=1_000,
        amount_fen=30_000_000, pin=PIN,
    )  # fmt: skip
    register(p, consortium.bank, application["application_id"])  # #21: registered before the approval
    financing.approve_financing(
        p,
        consortium.bank,
        application_id=application["application_id"],
        annual_rate_bp=317,
        value_date=TODAY,
        pin=PIN,
    )
    return p.settings.data_dir / "ledger.sqlite"


def _edit(ledger_file, statement: str, *args) -> None:
    with sqlite3.connect(ledger_file) as conn:
        conn.execute(statement, args)


def test_a_ledger_with_private_terms_verifies(approved) -> None:
    report = verify_ledger(approved, GoldTicketContract())
    assert report.ok, report.reason
    with sqlite3.connect(approved) as conn:
        ((collection, value),) = conn.execute("SELECT collection, value FROM private").fetchall()
    assert collection == "terms-BankMSP" and json.loads(value)["annual_rate_bp"] == 317


def test_an_edited_private_value_is_found(approved) -> None:
    with sqlite3.connect(approved) as conn:
        (value,) = conn.execute("SELECT value FROM private").fetchone()
    terms = json.loads(value)
    terms["proceeds_fen"] += 100
    _edit(
        approved,
        "UPDATE private SET value = ?",
        json.dumps(terms, sort_keys=True, separators=(",", ":")).encode(),
    )
    report = verify_ledger(approved, GoldTicketContract())
    assert not report.ok and "stored private value in terms-BankMSP" in report.reason


def test_an_edited_private_input_is_found(approved) -> None:
    """Another rate in the kept transient map: the replayed terms no longer hash to the block's."""
    with sqlite3.connect(approved) as conn:
        (transient,) = conn.execute("SELECT transient FROM private_inputs").fetchone()
    entries = json.loads(transient)
    request = json.loads(bytes.fromhex(entries["request"]))
    assert len(request.pop("terms_salt")) == 32  # the salt is kept with the inputs, for the replay
    entries["request"] = json.dumps({**request, "annual_rate_bp": 318, "terms_salt": "5" * 32}).encode().hex()
    _edit(approved, "UPDATE private_inputs SET transient = ?", json.dumps(entries, sort_keys=True).encode())
    report = verify_ledger(approved, GoldTicketContract())
    assert not report.ok and "(ApproveFinancing) does not replay" in report.reason


def test_private_inputs_gone_are_found(approved) -> None:
    _edit(approved, "DELETE FROM private_inputs")
    report = verify_ledger(approved, GoldTicketContract())
    assert not report.ok and "private store has no inputs" in report.reason
