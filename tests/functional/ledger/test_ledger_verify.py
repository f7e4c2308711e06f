"""`goldticket ledger verify` re-checks the whole chain and names the first bad block: it passes
on an honest ledger and fails on every tampering below, including a write forged with the
peer's own key (which the peer itself cannot tell from an honest one)."""

from __future__ import annotations

import json
import sqlite3

import pytest
from click.testing import CliRunner
from fabric_protos.common import common_pb2
from ledger_support import bare_ledger, forged_envelope, peer_key, ping
from support import PIN

from chaincode import GoldTicketContract
from goldticket import messages as m
from goldticket.cli import main
from goldticket.ledger import LedgerError, verify_local_ledger
from goldticket.ledger.local.verify import verify_ledger
from goldticket.services import transfers

pytestmark = pytest.mark.functional


def verify(ledger_file):
    return verify_ledger(ledger_file, GoldTicketContract())


@pytest.fixture
def pinged(tmp_path):
    """A bare ledger: Bootstrap (block 1), then six Ping writes (blocks 2-7), two of them to the
    same key."""
    ledger, signer = bare_ledger(tmp_path / "data")
    tx_ids = [ping(ledger, signer, key) for key in ("a", "b", "c", "a", "d", "e")]
    ledger.close()
    return tmp_path / "data" / "ledger.sqlite", signer, tx_ids


def sql(ledger_file, statement, *args):
    conn = sqlite3.connect(ledger_file)
    try:
        rows = conn.execute(statement, args).fetchall()
        conn.commit()
        return rows
    finally:
        conn.close()


def block_of(ledger_file, tx_id):
    return sql(ledger_file, "SELECT block FROM transactions WHERE tx_id = ?", tx_id)[0][0]


def assert_bad(report, number, reason):
    assert not report.ok
    assert report.first_bad_block == number, report.reason
    assert reason in report.reason


def test_an_honest_ledger_verifies(pinged):
    ledger_file, _, tx_ids = pinged
    report = verify(ledger_file)
    assert report.ok, report.reason
    assert (report.blocks, report.transactions, report.first_bad_block) == (8, 7, None)


def test_an_edited_state_value_is_found(pinged):
    ledger_file, _, tx_ids = pinged
    sql(
        ledger_file,
        "UPDATE state SET value = ? WHERE key = ?",
        b'{"tx_id": "someone else"}',
        "\x00ping\x00b\x00",
    )
    assert_bad(verify(ledger_file), block_of(ledger_file, tx_ids[1]), "world state differs")


def test_a_state_row_added_out_of_nowhere_is_found(pinged):
    ledger_file, _, _ = pinged
    sql(
        ledger_file,
        "INSERT INTO state (key, value, block, txnum) VALUES (?, ?, 3, 0)",
        "\x00ping\x00z\x00",
        b"{}",
    )
    assert_bad(verify(ledger_file), 3, "world state differs")


def test_a_write_forged_with_the_peer_key_is_found(pinged):
    """The attacker read the peer key from the file and holds a certificate from the org CA:
    the ledger commits the forged write as VALID, the replay does not reproduce it."""
    from chaincode import GoldTicketContract as Contract
    from goldticket.ledger.local.peer import LocalLedger

    ledger_file, signer, _ = pinged
    key, identity = peer_key(ledger_file)
    ledger = LocalLedger(ledger_file, Contract(), time_window=None)
    try:
        envelope, tx_id = forged_envelope(
            ledger,
            signer,
            "Ping",
            {"key": "b"},
            writes=(m.KeyWrite("\x00ping\x00b\x00", b'{"tx_id": "forged"}'),),
            endorser_key=key,
            endorser=identity,
        )
        ledger.submit(envelope)
        assert ledger.commit_status(tx_id).ok  # the peer could not tell
        ping(ledger, signer, "after")
    finally:
        ledger.close()
    assert_bad(verify(ledger_file), block_of(ledger_file, tx_id), "does not replay")


def test_a_removed_block_is_found(pinged):
    ledger_file, _, tx_ids = pinged
    sql(ledger_file, "DELETE FROM blocks WHERE number = 3")
    assert_bad(verify(ledger_file), 3, "block 3 is missing")


def test_a_removed_last_block_is_found(pinged):
    ledger_file, _, tx_ids = pinged
    sql(ledger_file, "DELETE FROM blocks WHERE number = 7")
    assert_bad(verify(ledger_file), 7, "differs from the replay")


def test_edited_block_bytes_are_found(pinged):
    ledger_file, _, tx_ids = pinged
    (data,) = sql(ledger_file, "SELECT data FROM blocks WHERE number = 4")[0]
    edited = data.replace(b"ping", b"pong", 1)
    assert edited != data
    sql(ledger_file, "UPDATE blocks SET data = ? WHERE number = 4", edited)
    assert_bad(verify(ledger_file), 4, "block 4")


def test_a_block_rewritten_with_consistent_hashes_breaks_the_next_link(pinged):
    """Re-hashing an edited block (data hash and stored hash) does not help: its creator's
    signature no longer verifies, and the next block still names the old hash."""
    ledger_file, _, _ = pinged
    (data,) = sql(ledger_file, "SELECT data FROM blocks WHERE number = 2")[0]
    block = m.decode_block(data)
    envelope = common_pb2.Envelope.FromString(block.envelopes[0])
    envelope.payload = envelope.payload.replace(b"ping", b"pong", 1)
    rebuilt = m.new_block(
        2, block.previous_hash, [envelope.SerializeToString()], list(block.validation_codes)
    )
    sql(ledger_file, "UPDATE blocks SET data = ?, hash = ? WHERE number = 2", rebuilt.encode(), rebuilt.hash)
    assert_bad(verify(ledger_file), 2, "block 2")


def test_a_valid_transaction_marked_invalid_is_found(pinged):
    """The validation codes sit outside the block hashes (as on Fabric): flipping one to drop an
    honest transaction is caught by the replay, whose reads were current."""
    ledger_file, _, tx_ids = pinged
    number = block_of(ledger_file, tx_ids[3])  # the second write of key a: it read the first
    (data,) = sql(ledger_file, "SELECT data FROM blocks WHERE number = ?", number)[0]
    block = m.decode_block(data)
    conflicted = m.new_block(number, block.previous_hash, list(block.envelopes), [11])  # MVCC_READ_CONFLICT
    assert conflicted.hash == block.hash
    sql(ledger_file, "UPDATE blocks SET data = ? WHERE number = ?", conflicted.encode(), number)
    assert_bad(verify(ledger_file), number, "marked MVCC_READ_CONFLICT but its reads make it VALID")


def test_a_removed_transaction_index_row_is_found(pinged):
    ledger_file, _, tx_ids = pinged
    block_of_before_delete = block_of(ledger_file, tx_ids[2])
    sql(ledger_file, "DELETE FROM transactions WHERE tx_id = ?", tx_ids[2])
    assert_bad(verify(ledger_file), block_of_before_delete, "transaction index differs")


def test_no_ledger_file_is_a_typed_error(tmp_path):
    with pytest.raises(LedgerError, match="no ledger"):
        verify(tmp_path / "missing.sqlite")
    assert not (tmp_path / "missing.sqlite").exists()


# ------------------------------------------------------- on a whole life cycle


def ticket_key(ledger_file, ticket_id):
    """The ticket's state key (composite keys hold NULs, which SQLite's LIKE stops at)."""
    (key,) = [
        key for (key,) in sql(ledger_file, "SELECT key FROM state") if "ticket" in key and ticket_id in key
    ]
    return key


@pytest.fixture
def life_cycle(consortium, issued_ticket):
    """A ticket issued, accepted, offered and taken: every kind of write the tests replay."""
    platform = consortium.platform
    offer = transfers.offer_transfer(
        platform,
        consortium.tier1,
        ticket_id=issued_ticket["id"],
        to_org_id="tier2",
        amount_fen=30_000_000,
        pin=PIN,
    )
    moved = transfers.accept_offer(platform, consortium.tier2, offer["offer_id"], pin=PIN)
    return platform, moved


def run_cli(platform):
    env = {"GOLDTICKET_DATA_DIR": str(platform.settings.data_dir), "GOLDTICKET_ENV": "test"}
    return CliRunner().invoke(main, ["ledger", "verify", "--json"], env=env)


def test_a_life_cycle_verifies_through_the_command(life_cycle):
    platform, _ = life_cycle
    result = run_cli(platform)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["ok"] and report["blocks"] == platform.ledger.height()
    assert report["transactions"] >= 15


def test_a_forged_holder_on_a_real_ticket_fails_the_command_naming_its_block(life_cycle, tier1_key):
    """tier1 rewrites tier2's piece to be its own, endorsed with the peer key read from the file."""
    platform, moved = life_cycle
    ledger_file = platform.settings.data_dir / "ledger.sqlite"
    piece = moved["transferred"]
    key = ticket_key(ledger_file, piece["id"])
    (value,) = sql(ledger_file, "SELECT value FROM state WHERE key = ?", key)[0]
    stolen = json.loads(value)
    stolen["holder_org_id"] = "tier1"
    peer, identity = peer_key(ledger_file)
    envelope, tx_id = forged_envelope(
        platform.ledger,
        tier1_key,
        "Ping",
        {},
        writes=(m.KeyWrite(key, json.dumps(stolen, sort_keys=True).encode()),),
        endorser_key=peer,
        endorser=identity,
    )
    platform.ledger.submit(envelope)
    assert platform.ledger.commit_status(tx_id).ok
    number = platform.ledger.commit_status(tx_id).block_number
    result = run_cli(platform)
    assert result.exit_code == 9
    assert json.loads(result.stdout)["first_bad_block"] == number
    assert f"first bad block {number}" in result.stderr and "does not replay" in result.stderr


def test_an_edited_ticket_amount_fails_verification(life_cycle):
    platform, moved = life_cycle
    ledger_file = platform.settings.data_dir / "ledger.sqlite"
    piece = moved["transferred"]
    key = ticket_key(ledger_file, piece["id"])
    value, number = sql(ledger_file, "SELECT value, block FROM state WHERE key = ?", key)[0]
    edited = json.loads(value)
    edited["amount_fen"] *= 100
    sql(
        ledger_file,
        "UPDATE state SET value = ? WHERE key = ?",
        json.dumps(edited, sort_keys=True).encode(),
        key,
    )
    report = verify_local_ledger(platform.settings.data_dir)
    assert_bad(report, number, "world state differs")


def test_a_ledger_trusting_another_ca_than_the_data_directorys_fails(life_cycle):
    platform, _ = life_cycle
    cas = platform.keystore.trusted()
    assert verify_local_ledger(platform.settings.data_dir, cas).ok
    cas["OperatorMSP"] = cas["BankMSP"]
    assert_bad(verify_local_ledger(platform.settings.data_dir, cas), 0, "channel members differ")


def test_the_whole_demo_life_cycle_replays_exactly(platform):
    """Every kind of transaction the demo makes (members, cards, credit, issue, split, transfer,
    financing, settlement) replays byte for byte: the chaincode is deterministic over the ledger."""
    from goldticket.services.demo import run_demo

    run_demo(platform, lambda line: None)
    functions = {
        m.decode_transaction(common_pb2.Envelope.FromString(envelope).payload).function
        for block in platform.ledger.blocks(1)
        for envelope in block.envelopes
    }
    assert {"IssueTicket", "AcceptOffer", "ApproveFinancing", "SettleTicket"} <= functions
    cas = platform.keystore.trusted()
    report = verify_local_ledger(platform.settings.data_dir, cas)
    assert report.ok, report.reason
    assert report.blocks == platform.ledger.height() and report.transactions == report.blocks - 1


def test_a_move_without_its_documents_on_a_ledger_that_requires_them_fails_verification(
    life_cycle, consortium, monkeypatch
):
    """#21: the replay takes a document-less move recorded before the rule as it was (the demo
    ledger's, test_contract_replay), never one on a ledger whose rule required the documents:
    here a peer that skipped the rule endorsed a transfer offer without them."""
    platform, moved = life_cycle
    assert platform.evaluate("GetLedgerRules", {})["documents"] == "required"
    from goldticket.ledger.local import peer as local_peer
    from goldticket.ledger.local.stub import SimulationStub

    class RuleSkipping(SimulationStub):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs, before_document_rule=True)

    monkeypatch.setattr(local_peer, "SimulationStub", RuleSkipping)
    request = {"ticket_id": moved["transferred"]["id"], "to_org_id": "tier3", "amount_fen": 100}
    made = platform.submit(consortium.tier2, "OfferTransfer", request, pin=PIN)
    monkeypatch.undo()
    assert made.result["ticket"]["status"] == "LOCKED_TRANSFER"
    report = verify_local_ledger(platform.settings.data_dir, platform.keystore.trusted())
    assert_bad(report, made.block, "is refused when replayed")
    assert "notice_sha256" in report.reason
