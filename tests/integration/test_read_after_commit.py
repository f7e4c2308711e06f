"""Read after commit across organisations' peers (#19, defect a): a write that reads what the
previous write just committed (accepting an offer the moment it committed) must not be refused
"not found" because the gateway chose an endorsing peer of another organisation that has not
committed that block yet. Threads pass tickets back and forth, each accept right after its
offer committed; every operation must succeed. A rule refused by a peer a block behind (the
ticket it holds is not accepted yet) waits for that peer and is asked again."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest
from fabric_checks import nodes
from support import PIN, TODAY, invoice, register

from goldticket import domain as d
from goldticket.services import Platform, financing, tickets, transfers

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


def test_a_refusal_from_a_peer_a_block_behind_waits_for_it(
    consortium, fabric_network, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bank's peer is frozen (kill -STOP) from the moment the ticket's acceptance was
    endorsed until it committed elsewhere; the bank's portal (its own peer its gateway) asks at
    once for a transfer of the ticket, and the bank's peer wakes holding the ticket unaccepted,
    the block in its socket: the transfer must be made, not refused "only a held piece"."""
    layout = fabric_network.layout
    platform = consortium.platform
    settings = platform.settings
    profile = json.loads(Path(settings.fabric_profile).read_text(encoding="utf-8"))
    profile["peers"].sort(key=lambda peer: peer["msp_id"] != "BankMSP")
    reordered = tmp_path / "bank-first.json"
    reordered.write_text(json.dumps(profile), encoding="utf-8")
    banks_portal = Platform.open(dataclasses.replace(settings, fabric_profile=reordered))
    bank_peer = next(peer.name for peer in layout.peers if peer.msp_id == "BankMSP")
    pid = nodes.running(layout, bank_peer)
    assert pid is not None
    for number in range(ROUNDS):
        issued = tickets.issue_ticket(
            platform,
            consortium.core,
            payee_org_id="tier1",
            amount_fen=2_000_00,
            maturity_date=TODAY + dt.timedelta(days=90),
            invoices=[invoice(f"INV-BEHIND-{number}", 2_000_00)],
            pin=PIN,
        )
        submit = platform.ledger.submit

        def frozen_submit(envelope: object, submit=submit) -> None:
            os.kill(pid, signal.SIGSTOP)  # endorsed; the bank's peer sees no block from now
            submit(envelope)

        monkeypatch.setattr(platform.ledger, "submit", frozen_submit)
        found: dict[str, object] = {}
        try:
            tickets.accept_ticket(platform, consortium.tier1, issued["id"], pin=PIN)
            monkeypatch.undo()
            request = {
                "ticket_id": issued["id"],
                "to_org_id": "tier2",
                "amount_fen": 1_000_00,
                "agreement_sha256": "a1" * 32,  # the move records its documents (#21)
                "notice_sha256": "2b" * 32,
            }

            def offer(request: dict[str, object] = request, found: dict[str, object] = found) -> None:
                try:
                    found["offer"] = banks_portal.submit(consortium.tier1, "OfferTransfer", request, pin=PIN)
                except Exception as error:  # noqa: BLE001 - the assertion below shows it
                    found["error"] = error

            thread = threading.Thread(target=offer)
            thread.start()
            time.sleep(0.5)  # the proposal waits at the frozen peer beside the block
        finally:
            os.kill(pid, signal.SIGCONT)
        thread.join(60)
        assert "error" not in found, f"round {number}: {found['error']!r}"
        assert found["offer"].result["offer_id"]
    banks_portal.close()


def test_private_terms_are_read_whichever_organisations_peer_is_the_gateway(
    consortium, issued_ticket, tmp_path: Path
) -> None:
    """The portal's gateway is the core enterprise's peer (the first of its profile, or the one
    it failed over to), outside the collection terms-BankMSP: the approval's answer and a later
    read of the terms still carry the rate, read on a peer of the reader's own organisation (a
    member of every terms collection), never "no terms" from a peer that cannot hold them."""
    settings = consortium.platform.settings
    profile = json.loads(Path(settings.fabric_profile).read_text(encoding="utf-8"))
    profile["peers"].sort(key=lambda peer: peer["msp_id"] != "CoreMSP")
    reordered = tmp_path / "core-first.json"
    reordered.write_text(json.dumps(profile), encoding="utf-8")
    portal = Platform.open(dataclasses.replace(settings, fabric_profile=reordered))
    try:
        application = financing.apply_financing(
            portal, consortium.tier1, ticket_id=issued_ticket["id"], bank_org_id="bank",
            max_annual_rate_bp=1_000, amount_fen=30_000_000, pin=PIN,
        )  # fmt: skip
        application_id = application["application_id"]
        register(portal, consortium.bank, application_id)
        approved = financing.approve_financing(
            portal, consortium.bank, application_id=application_id, annual_rate_bp=317, value_date=TODAY,
            pin=PIN,
        )  # fmt: skip
        assert approved["annual_rate_bp"] == 317
        terms = financing.financing_terms(portal, consortium.tier1, application_id)
        assert terms["annual_rate_bp"] == 317 and terms["proceeds_fen"] == approved["proceeds_fen"]
    finally:
        portal.close()
