"""The command line a finance clerk uses: amounts in yuan, a confirmation before the PIN,
pending work found without being handed an id, readable output by default."""

from __future__ import annotations

import pytest
from test_cli import (  # noqa: F401
    MATURITY,
    PIN,
    Env,
    accepted,
    as_user,
    consortium,
    env,
    fail,
    height,
    issue_args,
    reader,
    run,
    run_json,
    serial_of,
)

pytestmark = pytest.mark.functional


def test_amounts_in_yuan_and_capitals(accepted: str, consortium: Env) -> None:  # noqa: F811
    transfer = ["ticket", "transfer", accepted, *as_user("s1.clerk"), "--to", "s2"]
    before = height(consortium)
    for bad in ("1.234", "10,00", "ten"):
        result = fail(consortium, *transfer, "--amount", bad, code=2, error="invalid_input")
        assert "1,000.00" in result.stderr
    fail(consortium, *transfer, "--amount", "1", "--amount-fen", "100", code=2, error="invalid_input")
    fail(consortium, *transfer, code=2, error="invalid_input")
    assert height(consortium) == before
    mine = ["offer", "list", *reader("s1.clerk"), "--from-me"]
    offer = run_json(consortium, *transfer, "--amount", "10,000.00")
    assert [o["amount_fen"] for o in run_json(consortium, *mine)] == [1_000_000]
    run(consortium, "offer", "cancel", *as_user("s1.clerk"), offer["offer_id"])
    run_json(consortium, *transfer, "--amount", "壹万元整")
    assert [o["amount_fen"] for o in run_json(consortium, *mine)] == [1_000_000]


def test_the_amount_is_confirmed_before_the_pin(accepted: str, consortium: Env) -> None:  # noqa: F811
    transfer = ["ticket", "transfer", accepted, "--as", "s1.clerk", "--to", "s2", "--amount", "1,000.5"]
    before = height(consortium)
    refused = run(consortium, *transfer, code=1, stdin="n\n")
    assert "1,000.50 yuan (壹仟元伍角)" in refused.stderr and "card PIN" not in refused.stderr
    assert height(consortium) == before
    done = run(consortium, *transfer, "--json", stdin=f"y\n{PIN}\n")
    assert "sign this with your card?" in done.stderr and "card PIN" in done.stderr
    offer_id = run_json(consortium, "offer", "list", *reader("s1.clerk"))[0]["id"]
    run(consortium, "offer", "cancel", *as_user("s1.clerk"), offer_id)
    scripted = run(consortium, *transfer, "--yes", stdin=f"{PIN}\n")  # --yes: no question, PIN still asked
    assert "sign this" not in scripted.stderr and "card PIN" in scripted.stderr


def test_pending_work_is_found_without_an_id(accepted: str, consortium: Env) -> None:  # noqa: F811
    assert run_json(consortium, "offer", "list", *reader("s2.clerk")) == []
    offer = run_json(
        consortium, "ticket", "transfer", accepted, *as_user("s1.clerk"), "--to", "s2", "--amount", "100"
    )
    (to_me,) = run_json(consortium, "offer", "list", *reader("s2.clerk"), "--to-me")
    assert (to_me["id"], to_me["amount_fen"], to_me["from_org_id"]) == (offer["offer_id"], 10_000, "s1")
    assert run_json(consortium, "offer", "list", *reader("s2.clerk"), "--from-me") == []
    assert [o["id"] for o in run_json(consortium, "offer", "list", *reader("s1.clerk"), "--from-me")] == [
        offer["offer_id"]
    ]
    readable = run(consortium, "offer", "list", *reader("s2.clerk")).stdout
    assert "amount (yuan)" in readable and "100.00" in readable and offer["offer_id"] in readable
    moved = run_json(consortium, "offer", "accept", *as_user("s2.clerk"), offer["offer_id"])
    assert run_json(consortium, "offer", "list", *reader("s2.clerk")) == []

    piece = moved["transferred"]["id"]
    application = run_json(
        consortium,
        "ticket",
        "finance",
        piece,
        *as_user("s2.clerk"),
        "--bank",
        "b1",
        "--amount",
        "100.00",
        "--max-rate",
        "3.5%",
    )
    (for_bank,) = run_json(consortium, "financing", "list", *reader("b1.clerk"), "--to-me")
    assert for_bank["id"] == application["application_id"]
    assert (
        run_json(consortium, "financing", "list", *reader("s2.clerk"), "--from-me")[0]["id"] == for_bank["id"]
    )
    assert run_json(consortium, "financing", "list", *reader("s1.clerk")) == []

    held = run_json(consortium, "ticket", "list", *reader("s1.clerk"))  # no filter: what s1 holds
    assert {t["holder_org_id"] for t in held} == {"s1"} and held
    assert run_json(consortium, "ticket", "list", "--status", "locked_financing") == run_json(
        consortium, "ticket", "list", "--status", "LOCKED_FINANCING"
    )
    result = fail(consortium, "ticket", "list", "--status", "lost", code=2, error="invalid_input")
    assert "ACTIVE" in result.stderr

    users = run_json(consortium, "user", "list", "--member", "s1")
    assert [u["username"] for u in users] == ["s1.clerk"]
    (card,) = run_json(consortium, "card", "list", "--member", "s1")
    assert card["username"] == "s1.clerk" and card["status"] == "ACTIVE"


def test_statement_show_and_readable_output(consortium: Env) -> None:  # noqa: F811
    ticket_id = run_json(consortium, *issue_args())["id"]
    run(consortium, "ticket", "accept", *as_user("s1.clerk"), ticket_id)
    offer = run_json(
        consortium, "ticket", "transfer", ticket_id, *as_user("s1.clerk"), "--to", "s2", "--amount", "100"
    )
    run(consortium, "offer", "accept", *as_user("s2.clerk"), offer["offer_id"])  # the root is SPLIT
    fail(consortium, "statement", "show", ticket_id, code=3, error="not_found")
    at_maturity = {**consortium, "GOLDTICKET_TODAY": MATURITY.isoformat()}
    settled = run_json(at_maturity, "ticket", "settle", ticket_id, *as_user("c1.clerk"))
    assert run_json(consortium, "statement", "show", ticket_id) == settled
    root = run_json(consortium, "ticket", "show", ticket_id)
    assert (root["status"], root["display_status"]) == ("SPLIT", "SETTLED")
    assert root["statement"] == settled
    history = run_json(consortium, "ticket", "history", ticket_id)
    assert history[-1]["action"] == "settle" and history[-1]["statement_id"] == settled["statement_id"]
    issued = history[0]
    assert issued["card"] == serial_of(consortium, "c1.clerk") and issued["certificate_serial"]
    text = run(consortium, "statement", "show", ticket_id).stdout
    assert "total paid 50,000.00 yuan (伍万元整)" in text
    listing = run(consortium, "ticket", "list", "--root", ticket_id).stdout
    assert listing.splitlines()[0].startswith("id") and "amount (yuan)" in listing
    assert "50,000.00" in listing


def test_errors_say_the_next_step(consortium: Env) -> None:  # noqa: F811
    ticket_id = run_json(consortium, *issue_args())["id"]
    transfer = ["ticket", "transfer", ticket_id, *as_user("s1.clerk"), "--to", "s2", "--amount", "100"]
    result = fail(consortium, *transfer, code=5, error="conflict")
    assert "its payee accepts it first (goldticket ticket accept)" in result.stderr
    run(consortium, "ticket", "accept", *as_user("s1.clerk"), ticket_id)
    offer_id = run_json(consortium, *transfer)["offer_id"]
    result = fail(consortium, *transfer, code=5, error="conflict")
    assert (
        f"offer {offer_id} is open on ticket {ticket_id}: cancel it (goldticket offer cancel {offer_id})"
        in (result.stderr)
    )
    too_big = issue_args(number="INV-SMALL", amount_fen=100)
    too_big[too_big.index("--amount-fen") + 1] = "200"  # a ticket of 2.00 on an invoice of 1.00
    result = fail(consortium, *too_big, code=6, error="rule_violation")
    assert "less than the ticket's 2.00: add invoices" in result.stderr
    for _ in range(5):
        run(consortium, "offer", "cancel", "--as", "s1.clerk", "--pin", "999999", offer_id, code=4)
    result = fail(consortium, "offer", "cancel", *as_user("s1.clerk"), offer_id, code=7, error="card_locked")
    assert "goldticket card unlock BS" in result.stderr
