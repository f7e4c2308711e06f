"""#21 the search before funding finds the financings of an invoice through the read model's
index of invoice numbers (migration 0010_i21_account_invoice_index): the query plan searches
the index (no scan of the applications), the answer is the ledger's own scan's, and a read model
behind the ledger is not trusted (the ledger scans)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from apiclient import Members, invoice
from sqlalchemy import text, update
from support import PIN

from goldticket.services import registration
from goldticket.store.models import Checkpoint
from goldticket.store.projection import CHECKPOINT

pytestmark = pytest.mark.functional


def _plan(portal, numbers: list[str]) -> str:
    query = registration.financings_query(numbers)
    with portal.database.engine.connect() as connection:
        compiled = query.compile(connection, compile_kwargs={"literal_binds": True})
        if connection.dialect.name == "postgresql":
            # a planner that would scan a table of a few rows anyway: may it use the index at all?
            connection.execute(text("SET enable_seqscan = off"))
            return "\n".join(str(row[0]) for row in connection.execute(text(f"EXPLAIN {compiled}")))
        return "\n".join(str(row[-1]) for row in connection.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))


def _two_financings(members: Members) -> list[str]:
    """Two tickets of core's with the same invoice number spelled two ways, each asked to finance."""
    applications = []
    for number in ("INV-SHARED", "inv-shared "):
        issued = members["core"].post(
            "/tickets",
            {"payee_org_id": "tier1", "amount_fen": 1_000_000, "maturity_date": "2027-02-01",
             "invoices": [{**invoice("INV-SHARED", 2_000_000), "number": number}], "pin": PIN},
            expect=201,
        )  # fmt: skip
        members["tier1"].post(f"/tickets/{issued['id']}/accept", {"pin": PIN}, expect=200)
        applied = members["tier1"].post(
            f"/tickets/{issued['id']}/financing",
            {"bank_org_id": "bank", "amount_fen": 500_000, "max_annual_rate_bp": 500, "pin": PIN},
            expect=201,
        )
        applications.append(applied["application_id"])
    return applications


def test_the_search_reads_the_index_of_invoice_numbers(portal) -> None:
    plan = _plan(portal, ["INV-SHARED", "INV-OTHER"])
    if portal.database.engine.dialect.name == "postgresql":
        assert re.search(
            r"(Index Only Scan using|Index Scan using|Bitmap Index Scan on) ix_rm_invoice_numbers_number",
            plan,
        ), plan
        return
    assert "USING COVERING INDEX ix_rm_invoice_numbers_number (number=?)" in plan, plan
    assert "SCAN rm_applications" not in plan and "SCAN rm_invoice_numbers" not in plan, plan
    with portal.database.engine.begin() as connection:  # without it: every number read
        connection.execute(text("DROP INDEX ix_rm_invoice_numbers_number"))
    assert "ix_rm_invoice_numbers_number" not in _plan(portal, ["INV-SHARED"])


def test_the_indexed_answer_is_the_ledgers_scan(members: Members, portal: Any) -> None:
    first, second = _two_financings(members)
    platform, banker = portal.platform, portal.platform.actor("bank.credit")
    for numbers, exclude in ((["INV-SHARED"], None), (["ｉｎｖ－shared"], first), (["INV-NONE"], None)):
        scanned = platform.evaluate(
            "SearchRegistrations",
            {"invoice_numbers": numbers, **({"exclude_application_id": exclude} if exclude else {})},
        )
        found = registration.search(platform, banker, numbers, exclude=exclude)
        assert found == scanned, numbers
    assert [
        item["application_id"] for item in registration.search(platform, banker, ["INV-SHARED"])["financings"]
    ] == sorted([first, second])
    # over the API too
    answered = members["bank"].get("/registrations?invoice=inv-shared", expect=200)
    assert sorted(item["application_id"] for item in answered["financings"]) == sorted([first, second])


def test_a_read_model_behind_the_ledger_is_not_trusted(members: Members, portal: Any) -> None:
    first, second = _two_financings(members)
    platform = portal.platform
    with portal.database.session() as session:  # as if the follower had not projected the last block
        height = platform.ledger.height()
        session.execute(update(Checkpoint).where(Checkpoint.name == CHECKPOINT).values(next_block=height - 1))
    assert registration._indexed_financings(platform, ["INV-SHARED"], None) is None
    found = registration.search(platform, platform.actor("bank.credit"), ["INV-SHARED"])
    assert sorted(item["application_id"] for item in found["financings"]) == sorted([first, second])
