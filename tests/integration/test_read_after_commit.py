"""Read after commit across organisations' peers (#19, defect a): a write that reads what the
previous write just committed (accepting an offer the moment it committed) must not be refused
"not found" because the gateway chose an endorsing peer of another organisation that has not
committed that block yet. Threads pass tickets back and forth, each accept right after its
offer committed; every operation must succeed."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from support import PIN, TODAY, invoice

from goldticket import domain as d
from goldticket.services import tickets, transfers

pytestmark = pytest.mark.integration
THREADS, ROUNDS = 12, 4


def test_an_offer_is_accepted_the_moment_it_committed(consortium) -> None:
    platform = consortium.platform
    held = []
    for number in range(THREADS):
        issued = tickets.issue_ticket(
            platform,
            consortium.core,
            payee_org_id="tier1",
            amount_fen=1_000_00,
            maturity_date=TODAY + dt.timedelta(days=90),
            invoices=[invoice(f"INV-RAC-{number}", 1_000_00)],
            pin=PIN,
        )
        held.append(tickets.accept_ticket(platform, consortium.tier1, issued["id"], pin=PIN)["id"])
    refused: list[str] = []
    done: list[int] = []
    lock = threading.Lock()

    def relay(ticket_id: str) -> None:
        parties = [
            (consortium.tier1, "tier2", consortium.tier2),
            (consortium.tier2, "tier1", consortium.tier1),
        ]
        deadline = time.monotonic() + 300
        for round_ in range(2 * ROUNDS):
            if time.monotonic() > deadline:
                return
            holder, to_org, payee = parties[round_ % 2]
            try:
                offer = transfers.offer_transfer(
                    platform, holder, ticket_id=ticket_id, to_org_id=to_org, amount_fen=1_000_00, pin=PIN
                )
                moved = transfers.accept_offer(platform, payee, offer["offer_id"], pin=PIN)
            except d.NotFoundError as error:
                with lock:
                    refused.append(str(error))
                return
            ticket_id = moved["transferred"]["id"]
            with lock:
                done.append(1)

    threads = [threading.Thread(target=relay, args=(ticket_id,)) for ticket_id in held]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(360)
    print(f"\n{len(done)} offers accepted at once, {len(refused)} refused not found: {refused[:3]}")
    assert not refused
    assert len(done) == THREADS * 2 * ROUNDS
