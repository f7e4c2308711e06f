"""#19 financing terms approved before they were salted (docs/decisions.md: "Old unsalted terms
read and verify as before"), read from ledgers an old client actually wrote: the demo's ledger as
recorded before the salt (tests/data/demo-ledger-unsalted-terms.sqlite.gz, commit 7ca3bfb's
parent: the bank's client sent the rate privately without ``terms_salt``, the collection keeps
the terms without ``salt``) and before the terms were private at all
(tests/data/demo-ledger-public-terms.sqlite.gz, commit f8edec5: the rate in the approval's
arguments, the quote on the application). On the embedded ledger, through today's code: the
ledger's terms record and ``services.financing.financing_terms`` give the holder and the bank the
figures (no salt; the channel's SHA-256 for private ones), the parties' check
``domain.financing_terms_sha256`` holds for unsalted terms, and any other member is refused.
``ledger verify`` replays the public-terms ledger whole; the unsalted one it refuses at its
approval, as decisions.md says ("a ledger written before replays no longer")."""

from __future__ import annotations

import gzip
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from support import OPERATOR_PASSWORD, OPERATOR_PIN, TODAY

from chaincode import GoldTicketContract
from goldticket import domain as d
from goldticket.domain.financing import SALT_FIELD
from goldticket.ledger.local.peer import LocalLedger, new_peer_identity
from goldticket.ledger.local.verify import verify_ledger
from goldticket.services import Actor, Platform, financing, setup
from goldticket.settings import Settings

DATA = Path(__file__).resolve().parents[2] / "data"

pytestmark = pytest.mark.functional


def _copy(tmp_path: Path, name: str, suffix: str = "") -> Path:
    path = tmp_path / f"{name}{suffix}.sqlite"
    with gzip.open(DATA / f"demo-ledger-{name}.sqlite.gz", "rb") as source, path.open("wb") as target:
        shutil.copyfileobj(source, target)
    return path


def _with_peer_key(path: Path) -> Path:
    """The recording without its peer's key (removed before it was committed) given a new one,
    so that this embedded ledger opens it: the key signs endorsements, it is no part of the
    records read here (``ledger verify`` refuses the copy: its blocks' endorser is no longer this
    peer; it checks the recording as it is)."""
    pem, cert_pem = new_peer_identity()
    with sqlite3.connect(path) as conn:
        conn.executemany(
            "INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)",
            [("peer_key", pem), ("peer_cert", cert_pem)],
        )
    return path


def _channel_hash(ledger: LocalLedger, key: str) -> str:
    """The value hash the channel recorded for the private write of ``key`` (Fabric's hashed
    write set, in the block of the approval that wrote it)."""
    import hashlib

    from fabric_protos.common import common_pb2

    from goldticket import messages as m

    found = [
        write.value_hash.hex()
        for block in ledger.blocks()
        for envelope in block.envelopes
        for rwset in m.decode_transaction(common_pb2.Envelope.FromString(envelope).payload).rwsets
        for collection in rwset.collections
        for write in collection.writes
        if write.key_hash == hashlib.sha256(key.encode()).digest()
    ]
    assert len(found) == 1, found
    return found[0]


def _applications(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        keys = [key for (key,) in conn.execute("SELECT key FROM state")]
    return [key.split("\x00")[2] for key in keys if key.startswith("\x00application\x00")]


@pytest.fixture
def platform(tmp_path: Path) -> Any:
    """A platform initialised on the embedded ledger (for its read identity and cards); each
    test reads an old ledger through it."""
    settings = Settings(
        data_dir=tmp_path / "data",
        ledger="local",
        env="test",
        today=TODAY,
        card_kdf_n=2**14,
        operator_password=OPERATOR_PASSWORD,
        operator_pin=OPERATOR_PIN,
    )
    fresh = setup.init_platform(settings)
    yield fresh
    fresh.close()


def _read(platform: Platform, path: Path) -> tuple[Platform, LocalLedger]:
    ledger = LocalLedger(_with_peer_key(path), GoldTicketContract(), time_window=None)
    return Platform(platform.settings, ledger, platform.keystore, platform.cards), ledger


def _parties_read(old: Platform, application_id: str) -> dict[str, dict[str, Any]]:
    application = old.lookup("application", application_id)
    assert application["status"] == "APPROVED", application
    read = {}
    for member in (application["holder_org_id"], application["bank_org_id"]):
        read[member] = financing.financing_terms(
            old, Actor(f"{member}.clerk", member, "clerk"), application_id
        )
    with pytest.raises(d.ForbiddenError):
        financing.financing_terms(old, Actor("outsider.clerk", "outsider", "clerk"), application_id)
    # what GET /api/v1/financing/<id>/terms answers (the service's dict), as the API documents it
    import jsonschema

    from web.api.openapi import RESULTS

    for terms in read.values():
        jsonschema.validate(terms, RESULTS[("GET", "/financing/<application_id>/terms")])
    return read


def test_terms_approved_private_without_a_salt_read_and_check(platform, tmp_path):
    path = _copy(tmp_path, "unsalted-terms")
    (application_id,) = _applications(path)
    old, ledger = _read(platform, path)
    try:
        record = ledger.record("terms", application_id)
        assert record is not None and record["collection"] == "terms-BankMSP", record
        assert SALT_FIELD not in record["terms"] and record["terms"]["annual_rate_bp"] == 262
        read = _parties_read(old, application_id)
        channel = _channel_hash(ledger, f"\x00terms\x00{application_id}\x00")
    finally:
        ledger.close()
    assert channel == record["sha256"]  # the value kept is the one the approval's block hashed
    for terms in read.values():
        # the figures, no salt, and the SHA-256 the channel records, which the parties' check finds
        assert SALT_FIELD not in terms and terms["annual_rate_bp"] == 262, terms
        assert terms["proceeds_fen"] == 24_836_250 and terms["sha256"] == record["sha256"], terms
        assert d.financing_terms_sha256(application_id, terms) == terms["sha256"]
    # the whole ledger (as recorded, its own peer) replays no longer: its approval has no salt
    report = verify_ledger(_copy(tmp_path, "unsalted-terms", "-as-recorded"), GoldTicketContract())
    assert not report.ok and report.first_bad_block == 30, report.reason
    assert "(ApproveFinancing) is refused when replayed" in report.reason and "terms_salt" in report.reason


def test_terms_approved_public_read_and_the_ledger_verifies(platform, tmp_path):
    path = _copy(tmp_path, "public-terms")
    (application_id,) = _applications(path)
    report = verify_ledger(path, GoldTicketContract())
    assert report.ok, report.reason
    old, ledger = _read(platform, path)
    try:
        record = ledger.record("terms", application_id)
        assert record is not None and (record["collection"], record["sha256"]) == (None, None), record
        read = _parties_read(old, application_id)
    finally:
        ledger.close()
    for terms in read.values():
        assert terms["annual_rate_bp"] == 262 and terms["proceeds_fen"] == 24_836_250, terms
        assert terms["sha256"] is None and SALT_FIELD not in terms, terms
