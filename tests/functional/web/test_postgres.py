"""The web suite's core on PostgreSQL: the same tests, with the portal's database in a fresh
PostgreSQL database each. Set GOLDTICKET_TEST_POSTGRES_URL (CI gets it from
tools/postgres.sh); without it these tests skip."""

from __future__ import annotations

import dataclasses
import os
import secrets
from collections.abc import Iterator

import pytest
from test_account_change_api import (  # noqa: F401 - a change of settlement account (#21)
    shared,
    test_the_admin_asks_the_operator_confirms_and_the_payment_file_pays_the_new_account,
    tier2_admin,
)
from test_api import (  # noqa: F401 - collected again here, on PostgreSQL
    test_a_retry_after_a_crash_returns_the_committed_result,
    test_idempotency_keys,
    test_rebuilding_the_read_model_gives_the_same_state,
    test_sixteen_concurrent_transfers_one_wins,
)
from test_authorization import (  # noqa: F401
    test_logins_are_rate_limited,
    test_members_read_only_the_trees_they_take_part_in,
)
from test_download_limits import (  # noqa: F401
    test_concurrent_downloads_through_two_portals_never_pass_the_limit,
    test_two_workers_share_the_download_limit,
)
from test_inbox import (  # noqa: F401 - to-do and notifications (#20)
    test_a_member_reads_and_marks_only_its_own_notifications,
    test_each_member_is_told_of_what_concerns_it_newest_first,
    test_projecting_again_writes_no_notification_twice_and_keeps_what_was_read,
)
from test_notify_delivery import (  # noqa: F401 - e-mail and webhook deliveries (#20), with their fixtures
    admin,
    receiver,
    smtp,
    test_a_ticket_issued_to_a_supplier_is_mailed_to_it_in_its_language,
    test_a_webhook_is_signed_retried_after_a_500_and_delivered_once_with_one_id,
    test_a_worker_that_dies_after_sending_leaves_the_delivery_to_be_sent_again_with_its_id,
    test_projecting_again_queues_no_delivery_twice,
)
from test_registration_search_index import (  # noqa: F401 - the search's index (#21)
    test_a_read_model_behind_the_ledger_is_not_trusted,
    test_the_indexed_answer_is_the_ledgers_scan,
    test_the_search_reads_the_index_of_invoice_numbers,
)
from test_ticket_find import (  # noqa: F401 - find and export (#20), with their fixture
    book,
    test_another_members_rows_never_appear_in_a_search_or_an_export,
    test_each_filter_and_its_boundaries,
    test_search_finds_by_ticket_id_invoice_number_and_counterparty,
    test_sorting_and_paging_walk_every_row_once,
    test_xlsx_export_has_numbers_in_yuan_and_dates,
)
from test_web_life_cycle import test_life_cycle  # noqa: F401

from goldticket.settings import Settings

pytestmark = pytest.mark.functional
SERVER_URL = os.environ.get("GOLDTICKET_TEST_POSTGRES_URL", "")


@pytest.fixture
def web_settings(settings: Settings) -> Iterator[Settings]:
    if not SERVER_URL:
        pytest.skip("no PostgreSQL: set GOLDTICKET_TEST_POSTGRES_URL (bash tools/postgres.sh prints one)")
    import psycopg

    name = f"goldticket_test_{secrets.token_hex(4)}"
    with psycopg.connect(SERVER_URL, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    base = SERVER_URL.replace("postgresql://", "postgresql+psycopg://", 1).rsplit("/", 1)[0]
    yield dataclasses.replace(settings, password_memory_kib=8192, database_url=f"{base}/{name}")
    with psycopg.connect(SERVER_URL, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
