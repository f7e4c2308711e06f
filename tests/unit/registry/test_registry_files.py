"""goldticket.registry: the file-based adapter writes the filing (canonical JSON whose SHA-256 is
what the ledger records, and the PDF) owner-only, and reads the registry's answer the bank
places, refusing a malformed one."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import stat

import pytest

from goldticket import registry

pytestmark = pytest.mark.unit
CONTENT = {"filing_id": "FA1", "assignor": {"name": "苏州精密"}, "receivable": {"amount_fen": 100}}


def test_the_interface_is_what_the_file_registry_implements(tmp_path):
    adapter: registry.RegistryAdapter = registry.open_registry(tmp_path / "reg")
    assert isinstance(adapter, registry.FileRegistry)
    for name in ("file_filing", "answer"):
        assert callable(getattr(adapter, name))


def test_a_filing_is_written_owner_only_and_its_hash_is_the_jsons(tmp_path):
    adapter = registry.FileRegistry(tmp_path / "reg")
    filing = registry.Filing("FA1", CONTENT, b"%PDF-1.7 filing")
    receipt = adapter.file_filing(filing)
    written = (tmp_path / "reg" / "outbox" / "FA1.json").read_bytes()
    assert json.loads(written) == CONTENT
    assert receipt.sha256 == hashlib.sha256(written).hexdigest() == registry.filing_sha256(CONTENT)
    assert "苏州精密".encode() in written  # UTF-8, not escaped
    assert (tmp_path / "reg" / "outbox" / "FA1.pdf").read_bytes() == b"%PDF-1.7 filing"
    for path in receipt.locations:
        assert stat.S_IMODE((tmp_path / path).stat().st_mode) == 0o600
    for folder in ("", "outbox", "inbox"):
        assert stat.S_IMODE((tmp_path / "reg" / folder).stat().st_mode) == 0o700


def test_a_filing_id_cannot_leave_the_outbox(tmp_path):
    adapter = registry.FileRegistry(tmp_path / "reg")
    for bad in ("../FA1", "FA/1", "", "x" * 65):
        with pytest.raises(registry.RegistryError):
            adapter.file_filing(registry.Filing(bad, CONTENT, b""))
        with pytest.raises(registry.RegistryError):
            adapter.answer(bad)


def test_the_answer_the_bank_places_is_read(tmp_path):
    adapter = registry.FileRegistry(tmp_path / "reg")
    assert adapter.answer("FA1") is None
    adapter.file_filing(registry.Filing("FA1", CONTENT, b""))
    answer = {
        "registration_number": "07391234000123456789",
        "registered_on": "2026-12-01",
        "expires_on": "2027-12-01",
    }
    (tmp_path / "reg" / "inbox" / "FA1.json").write_text(json.dumps(answer))
    assert adapter.answer("FA1") == registry.RegistryAnswer(
        "FA1", "07391234000123456789", dt.date(2026, 12, 1), dt.date(2027, 12, 1), "中登网"
    )


@pytest.mark.parametrize(
    "answer",
    [
        "not json",
        json.dumps({"registered_on": "2026-12-01", "expires_on": "2027-12-01"}),
        json.dumps({"registration_number": "", "registered_on": "2026-12-01", "expires_on": "2027-12-01"}),
        json.dumps({"registration_number": "Z", "registered_on": "1 Dec", "expires_on": "2027-12-01"}),
        json.dumps({"registration_number": 7, "registered_on": "2026-12-01", "expires_on": "2027-12-01"}),
    ],
)
def test_a_malformed_answer_is_refused(tmp_path, answer):
    adapter = registry.FileRegistry(tmp_path / "reg")
    adapter.file_filing(registry.Filing("FA1", CONTENT, b""))
    (tmp_path / "reg" / "inbox" / "FA1.json").write_text(answer)
    with pytest.raises(registry.RegistryError, match="malformed"):
        adapter.answer("FA1")
