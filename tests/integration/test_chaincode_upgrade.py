"""#19: the chaincode is upgraded (a new package, the next definition sequence approved by the
organisations and committed) while clients keep writing: no acknowledged write is lost or
doubled, the world state is kept, and afterwards the new package's servers are the ones that
serve (the old ones stopped, a write still commits)."""

from __future__ import annotations

import collections
import datetime as dt
import threading
import time
from typing import Any

import pytest
from fabnet import binaries, nodes, upgrade
from support import PIN, TODAY, invoice

from goldticket import domain as d
from goldticket.ledger import LedgerError
from goldticket.services import credit, tickets

pytestmark = pytest.mark.integration
CLIENTS, AMOUNT = 3, 1_000_00


def test_an_upgrade_under_load_loses_no_write(consortium, fabric_network: Any) -> None:
    c, p = consortium, consortium.platform
    layout, fabric = fabric_network.layout, binaries.find_binaries()
    name = p.ledger.chaincode
    before = tickets.issue_ticket(
        p,
        c.core,
        payee_org_id="tier1",
        amount_fen=AMOUNT,
        maturity_date=TODAY + dt.timedelta(days=90),
        invoices=[invoice("INV-UPG-BEFORE", AMOUNT)],
        pin=PIN,
    )
    stop = threading.Event()
    acknowledged: list[tuple[float, str]] = []
    refused: list[str] = []
    unknown: list[str] = []
    lock = threading.Lock()

    def client(number: int) -> None:
        for attempt in range(400):
            if stop.is_set():
                return
            try:
                issued = tickets.issue_ticket(
                    p,
                    c.core,
                    payee_org_id="tier1",
                    amount_fen=AMOUNT,
                    maturity_date=TODAY + dt.timedelta(days=90),
                    invoices=[invoice(f"INV-UPG-{number}-{attempt}", AMOUNT)],
                    pin=PIN,
                )
            except d.DomainError as error:  # refused by the chaincode or at validation: not written
                with lock:
                    refused.append(str(error))
                continue
            except LedgerError as error:
                with lock:
                    (unknown if "unknown" in str(error) else refused).append(str(error))
                continue
            with lock:
                acknowledged.append((time.monotonic(), issued["id"]))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(3)
        sequence, package_id = upgrade.upgrade(layout, fabric, name, slot=1)
        upgraded_at = time.monotonic()
        time.sleep(4)
    finally:
        stop.set()
        for thread in threads:
            thread.join(120)
    assert sequence == 2 and package_id.startswith("goldticket_1.0_slot1:")
    after_upgrade = [ticket_id for at, ticket_id in acknowledged if at > upgraded_at]
    print(
        f"\n{len(acknowledged)} writes acknowledged ({len(after_upgrade)} after the commit of sequence 2), "
        f"{len(refused)} refused, {len(unknown)} unknown: {collections.Counter(refused).most_common(4)}"
    )
    assert after_upgrade, "no write committed after the upgrade"
    assert not unknown
    # every acknowledged write is there, once; nothing refused was written (the credit line used
    # is exactly the acknowledged amounts); the state from before the upgrade is kept
    ids = [ticket_id for _, ticket_id in acknowledged]
    assert len(set(ids)) == len(ids)
    for ticket_id in [before["id"], *ids]:
        assert p.evaluate("GetTicket", {"ticket_id": ticket_id})["amount_fen"] == AMOUNT
    (line,) = [x for x in credit.list_credit_lines(p, None, "core") if x["id"] == c.credit_line["id"]]
    assert line["used_fen"] == AMOUNT * (len(ids) + 1)

    # the old package's servers stopped: the new ones serve, a write still commits
    old = {peer.org: peer for peer in layout.peers}
    for peer in layout.peers:
        assert nodes.stop(layout, f"chaincode.{peer.org}")
    try:
        issued = tickets.issue_ticket(
            p,
            c.core,
            payee_org_id="tier1",
            amount_fen=AMOUNT,
            maturity_date=TODAY + dt.timedelta(days=90),
            invoices=[invoice("INV-UPG-AFTER", AMOUNT)],
            pin=PIN,
        )
        assert issued["status"] == "PENDING_ACCEPTANCE"
    finally:  # the other tests' chaincodes still use the first package
        for peer in old.values():
            nodes.start(
                layout,
                f"chaincode.{peer.org}",
                nodes.chaincode_command(),
                nodes.chaincode_env(peer, fabric_network.package_id),
                (peer.chaincode_server_port,),
                host=peer.host,
                netns=layout.netns(peer.msp_id),
            )
        for peer in old.values():
            nodes.wait_until(
                lambda peer=peer: nodes.listening(peer.chaincode_server_port, peer.host), peer.org, 30
            )
