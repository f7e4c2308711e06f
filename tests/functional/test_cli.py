"""The ``goldticket`` command line, run in-process with click's CliRunner on a fresh data dir.

Every ledger write is signed inside the acting user's card (SoftHSM2 tokens through PKCS#11, the
default backend) with the PIN given to that command; the operator desk signs with
GOLDTICKET_OPERATOR_PIN. Reads take no user.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from goldticket.cli import main

pytestmark = pytest.mark.functional

TODAY = dt.date(2026, 12, 1)
PIN = "135790"
WRONG_PIN = "999999"
OPERATOR_PIN = "246810"
OPERATOR_PASSWORD = "desk password 1"
SECRETS = (PIN, WRONG_PIN, OPERATOR_PIN, OPERATOR_PASSWORD)
SERIAL = re.compile(r"^BS[0-9A-F]{16}$")
QUOTE = [
    "quote",
    "--amount-fen",
    "100000000",
    "--annual-rate-bp",
    "262",
    "--value-date",
    "2026-01-01",
    "--maturity-date",
    "2026-03-17",
]
# (member id, name, role); each member gets one user "<id>.clerk" whose card PIN is PIN.
MEMBERS = [
    ("c1", "核心企业一", "core"),
    ("s1", "供应商一", "supplier"),
    ("s2", "供应商二", "supplier"),
    ("b1", "银行一", "bank"),
]
LIMIT_FEN = 100_000_000
AMOUNT_FEN = 5_000_000
MATURITY = TODAY + dt.timedelta(days=30)

Env = dict[str, str | None]


@pytest.fixture
def env(tmp_path: Path) -> Env:
    """A fresh data directory, a fixed clock and the operator desk's secrets; every other
    GOLDTICKET_* setting unset, so cards use the default (PKCS#11) backend in-process."""
    return {
        "GOLDTICKET_DATA_DIR": str(tmp_path / "var"),
        "GOLDTICKET_ENV": "test",
        "GOLDTICKET_TODAY": TODAY.isoformat(),
        "GOLDTICKET_OPERATOR_PASSWORD": OPERATOR_PASSWORD,
        "GOLDTICKET_OPERATOR_PIN": OPERATOR_PIN,
        "GOLDTICKET_CARD_KDF_N": "16384",
        "GOLDTICKET_PIN": None,
        "GOLDTICKET_PASSWORD": None,
        "GOLDTICKET_NEW_PASSWORD": None,
        "GOLDTICKET_NEW_PIN": None,
        "GOLDTICKET_OLD_PIN": None,
        "GOLDTICKET_ACTIVATION_CODE": None,
        "GOLDTICKET_CARD_BACKEND": None,
        "GOLDTICKET_PKCS11_MODULE": None,
        "GOLDTICKET_SIGNER_URL": None,
        "GOLDTICKET_SIGNER_SECRET": None,
        "GOLDTICKET_LEDGER": None,
        "GOLDTICKET_CHANNEL": None,
        "GOLDTICKET_CHAINCODE": None,
    }


def run(env: Env, *args: str, code: int = 0, stdin: str | None = None) -> Result:
    """Run one command; check its exit code and that no PIN or password is ever printed."""
    result = CliRunner().invoke(main, list(args), env=env, input=stdin, catch_exceptions=False)
    assert result.exit_code == code, (args, result.exit_code, result.stdout, result.stderr)
    for secret in SECRETS:
        assert secret not in result.stdout, (args, "a secret on stdout")
        assert secret not in result.stderr, (args, "a secret on stderr")
    return result


def run_json(env: Env, *args: str) -> Any:
    return json.loads(run(env, *args, "--json").stdout)


def fail(env: Env, *args: str, code: int, error: str) -> Result:
    result = run(env, *args, code=code)
    assert result.stderr.startswith(f"error: {error}:"), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""
    return result


def height(env: Env) -> int:
    """Run ``init`` (idempotent) and read the ledger height it prints."""
    match = re.search(r"height (\d+)", run(env, "init").stdout)
    assert match, "init prints the ledger height"
    return int(match.group(1))


def cards(env: Env, username: str) -> list[dict[str, Any]]:
    return run_json(env, "card", "list", username)  # type: ignore[no-any-return]


def serial_of(env: Env, username: str) -> str:
    (active,) = [card for card in cards(env, username) if card["status"] == "ACTIVE"]
    return active["serial"]  # type: ignore[no-any-return]


def as_user(username: str, pin: str = PIN) -> list[str]:
    return ["--as", username, "--pin", pin]


def reader(username: str) -> list[str]:
    """``--as`` for a read: the user's login password (enrol's), never the card PIN."""
    return ["--as", username, "--password", USER_PASSWORD]


def issue_args(
    username: str = "c1.clerk", pin: str | None = PIN, *, number: str = "INV1", amount_fen: int = AMOUNT_FEN
) -> list[str]:
    """``ticket issue`` by ``username`` to s1; without ``--pin`` when ``pin`` is None."""
    digest = hashlib.sha256(number.encode()).hexdigest()
    return [
        "ticket",
        "issue",
        "--as",
        username,
        *(["--pin", pin] if pin is not None else []),
        "--payee",
        "s1",
        "--maturity-date",
        MATURITY.isoformat(),
        "--amount-fen",
        str(amount_fen),
        "--invoice",
        f"{number}:{amount_fen}:{digest}",
    ]


def grant(username: str = "b1.clerk", pin: str = PIN) -> list[str]:
    """A small write: ``username`` grants c1 a (further) credit line."""
    return ["credit", "grant", *as_user(username, pin), "--core", "c1", "--limit-fen", "1000"]


USER_PASSWORD = "the clerk's own password"


def enrol(env: Env, member_id: str, username: str, pin: str = PIN) -> dict[str, Any]:
    """The desk adds the user and opens a card; the user activates the account with the code
    and chooses the card's PIN: the CLI's whole path for a new user. Returns the card."""
    added = run_json(env, "user", "add", "--member", member_id, "--username", username)
    run(
        env, "user", "activate", username, "--code", added["activation_code"], "--new-password", USER_PASSWORD
    )
    opened = run_json(env, "card", "issue", username)
    return run_json(  # type: ignore[no-any-return]
        env,
        "card",
        "set-pin",
        "--as",
        username,
        "--password",
        USER_PASSWORD,
        opened["serial"],
        "--new-pin",
        pin,
    )


@pytest.fixture
def consortium(env: Env) -> Env:
    """init, four members each with a clerk holding an issued card, and a credit line b1 -> c1."""
    run(env, "init")
    for member_id, name, role in MEMBERS:
        run(env, "member", "add", "--id", member_id, "--name", name, "--role", role)
        enrol(env, member_id, f"{member_id}.clerk")
    line = run_json(
        env, "credit", "grant", *as_user("b1.clerk"), "--core", "c1", "--limit-fen", str(LIMIT_FEN)
    )
    assert line["status"] == "offered"
    assert run_json(env, "credit", "accept", *as_user("c1.clerk"), line["id"])["status"] == "active"
    return env


@pytest.fixture
def accepted(consortium: Env) -> str:
    """A ticket of AMOUNT_FEN issued by c1 to s1 and accepted; its id."""
    ticket_id: str = run_json(consortium, *issue_args())["id"]
    run(consortium, "ticket", "accept", *as_user("s1.clerk"), ticket_id)
    return ticket_id


# ---------------------------------------------------------------------- quote
def test_quote_json(env: Env) -> None:
    assert run_json(env, *QUOTE, "--json") == {
        "days": 75,
        "discount_interest_fen": 545833,
        "fee_fen": 0,
        "proceeds_fen": 99454167,
    }


def test_quote_human(env: Env) -> None:
    out = run(env, *QUOTE).stdout
    assert "1,000,000.00" in out
    assert re.search(r"^days\s+75$", out, re.M)
    assert "5,458.33" in out
    assert "994,541.67" in out


def test_quote_day_basis_365(env: Env) -> None:
    # 100,000,000 x 2.62% x 75 / 365 = 538,356.16... fen -> 538,356
    assert run_json(env, *QUOTE, "--day-basis", "365", "--json") == {
        "days": 75,
        "discount_interest_fen": 538356,
        "fee_fen": 0,
        "proceeds_fen": 100000000 - 538356,
    }


def test_quote_with_fee(env: Env) -> None:
    # fee 10 bp of 1,000,000.00 = 1,000.00
    result = run_json(env, *QUOTE, "--fee-bp", "10", "--json")
    assert result == {
        "days": 75,
        "discount_interest_fen": 545833,
        "fee_fen": 100000,
        "proceeds_fen": 99354167,
    }


@pytest.mark.parametrize("bad", ["2026-02-30", "2026/01/01", "20260101", "tomorrow", "2026-1-1"])
def test_quote_bad_date_is_invalid_input(env: Env, bad: str) -> None:
    args = [*QUOTE]
    args[args.index("--value-date") + 1] = bad
    fail(env, *args, code=2, error="invalid_input")


def test_quote_bad_amount_is_invalid_input(env: Env) -> None:
    args = [*QUOTE]
    args[args.index("--amount-fen") + 1] = "0"
    fail(env, *args, code=2, error="invalid_input")


def test_quote_value_date_after_maturity_is_rule_violation(env: Env) -> None:
    args = [*QUOTE]
    args[args.index("--value-date") + 1] = "2026-04-01"
    fail(env, *args, code=6, error="rule_violation")


# ---------------------------------------------------------------- init, demo
def test_init_is_idempotent(env: Env, tmp_path: Path) -> None:
    first = height(env)
    assert first >= 1
    assert (tmp_path / "var").is_dir()
    assert height(env) == first
    (card,) = cards(env, "operator")  # one operator card, not one per init
    assert card["status"] == "ACTIVE"
    assert card["backend"] == "pkcs11"
    assert SERIAL.match(card["serial"])


@pytest.mark.parametrize("variable", ["GOLDTICKET_OPERATOR_PIN", "GOLDTICKET_OPERATOR_PASSWORD"])
def test_init_needs_the_operator_secrets(env: Env, tmp_path: Path, variable: str) -> None:
    result = fail({**env, variable: None}, "init", code=2, error="invalid_input")
    assert variable in result.stderr
    assert not (tmp_path / "var").exists()


def test_today_without_test_env_is_refused(env: Env, tmp_path: Path) -> None:
    env = {**env, "GOLDTICKET_ENV": None, "GOLDTICKET_TODAY": "2027-01-01"}
    result = fail(env, "init", code=2, error="invalid_input")
    assert "GOLDTICKET_TODAY" in result.stderr
    assert not (tmp_path / "var").exists()


def test_demo_twice_on_one_data_directory_makes_one_demo(env: Env) -> None:
    first = run(env, "demo").stdout
    assert "Clearing statement" in first
    assert "total paid 1,000,000.00" in first
    assert "壹佰万元整" in first
    match = re.search(r"issues ticket (\S+):", first)
    assert match
    ticket = match.group(1)
    made = height(env)
    second = run(env, "demo").stdout
    assert "issues ticket" not in second
    assert f"already in {env['GOLDTICKET_DATA_DIR']} (ticket {ticket}" in second
    assert "Demo logins for the portal and the API: hdzg.clerk" in second
    assert height(env) == made, "the second demo wrote to the ledger"
    again = run(env, "demo", "--again").stdout
    match = re.search(r"issues ticket (\S+):", again)
    assert match and match.group(1) != ticket
    assert height(env) > made


def test_a_demo_json_naming_a_ticket_its_ledger_lacks_makes_the_demo_again(env: Env) -> None:
    """A ledger made again under the same data directory (a Fabric network cleaned and brought
    up again) has no demo whatever demo.json says."""
    run(env, "demo")
    path = Path(str(env["GOLDTICKET_DATA_DIR"])) / "demo.json"
    recorded = json.loads(path.read_text(encoding="utf-8"))
    recorded["local"]["ticket_id"] = "TK00000000000000000000"
    path.write_text(json.dumps(recorded), encoding="utf-8")
    assert "issues ticket" in run(env, "demo").stdout


def test_nothing_the_demo_writes_is_dated_after_the_business_date(env: Env) -> None:
    """The demo's ticket matures and is settled on the business date (GOLDTICKET_TODAY), and
    every transaction on the ledger is dated on or before it (the portal shows no future)."""
    from fabric_protos.common import common_pb2

    from goldticket import messages as m
    from goldticket.ledger import open_local_ledger

    out = run(env, "demo").stdout
    settled = re.search(r"statement \S+ for ticket \S+ on (\S+)", out)
    maturity = re.search(r"maturity (\d{4}-\d{2}-\d{2})", out)
    assert settled and maturity
    assert settled.group(1) == maturity.group(1) == TODAY.isoformat()
    china = dt.timezone(dt.timedelta(hours=8))
    ledger = open_local_ledger(Path(str(env["GOLDTICKET_DATA_DIR"])), check_time=False)
    days = set()
    for block in ledger.blocks(1):
        for envelope in block.envelopes:
            payload = common_pb2.Envelope.FromString(envelope).payload
            header = common_pb2.ChannelHeader.FromString(m.decode_transaction(payload).channel_header_bytes)
            days.add(header.timestamp.ToDatetime(dt.UTC).astimezone(china).date())
    ledger.close()
    assert max(days) == TODAY
    assert min(days) == TODAY - dt.timedelta(days=90)


def test_show_unknown_ticket_is_not_found(env: Env) -> None:
    run(env, "init")
    fail(env, "ticket", "show", "NOSUCH", code=3, error="not_found")


def test_reads_take_no_user(env: Env) -> None:
    run(env, "init")
    for args in (["ticket", "show", "X"], ["credit", "list"]):
        result = run(env, *args[:2], "--as", "operator", *args[2:], code=2)
        assert "No such option '--as'" in result.stderr
    # ticket list takes --as only to know whose holdings to list when no filter is given
    fail(env, "ticket", "list", code=2, error="invalid_input")


def test_unknown_user_is_not_found(env: Env) -> None:
    run(env, "init")
    fail(env, *issue_args("nobody"), code=3, error="not_found")


# ------------------------------------------------------- members, users, cards
def test_members_users_and_cards(env: Env) -> None:
    run(env, "init")
    created = run_json(env, "member", "add", "--id", "s1", "--name", "供应商一", "--role", "supplier")
    assert (created["id"], created["name"], created["role"]) == ("s1", "供应商一", "supplier")
    # The operator desk signs member registrations itself: there is no --as any more.
    refused = run(
        env, "member", "add", "--as", "operator", "--id", "s2", "--name", "x", "--role", "core", code=2
    )
    assert "No such option '--as'" in refused.stderr
    listed = run_json(env, "member", "list")
    assert sorted(member["id"] for member in listed) == ["operator", "s1"]

    enrol(env, "s1", "s1.clerk")
    (card,) = cards(env, "s1.clerk")
    assert card["status"] == "ACTIVE"
    assert SERIAL.match(card["serial"])
    assert card["backend"] == "pkcs11"
    assert card["locked"] is False
    assert card["certificate_pem"].startswith("-----BEGIN CERTIFICATE-----")
    assert "backup" not in card

    fail(env, "user", "add", "--member", "s1", "--username", "s1.clerk", code=5, error="conflict")
    fail(env, "user", "add", "--member", "ghost", "--username", "ghost.clerk", code=3, error="not_found")


def test_the_desk_opens_a_card_and_only_its_user_chooses_the_pin(env: Env) -> None:
    run(env, "init")
    run(env, "member", "add", "--id", "s1", "--name", "供应商一", "--role", "supplier")
    added = run_json(env, "user", "add", "--member", "s1", "--username", "s1.clerk")
    assert set(added) >= {"activation_code", "expires_at"}
    refused = run(env, "user", "add", "--member", "s1", "--username", "s1.x", "--pin", PIN, code=2)
    assert "No such option '--pin'" in refused.stderr
    code = added["activation_code"]
    fail(env, "user", "activate", "s1.clerk", "--code", "WRONG-CODE", "--new-password", USER_PASSWORD,
         code=4, error="unauthenticated")  # fmt: skip
    run(env, "user", "activate", "s1.clerk", "--code", code, "--new-password", USER_PASSWORD)
    opened = run_json(env, "card", "issue", "s1.clerk")
    assert opened["status"] == "OPENED" and opened["certificate_pem"] is None
    set_pin = ["card", "set-pin", "--as", "s1.clerk", opened["serial"]]
    fail(env, *set_pin, "--password", "not the password", "--new-pin", PIN, code=4, error="unauthenticated")
    fail(env, *set_pin, "--password", USER_PASSWORD, "--new-pin", "12", code=2, error="invalid_input")
    issued = run_json(env, *set_pin, "--password", USER_PASSWORD, "--new-pin", PIN)
    assert (issued["serial"], issued["status"]) == (opened["serial"], "active")
    fail(env, *set_pin, "--password", USER_PASSWORD, "--new-pin", PIN, code=2, error="invalid_input")
    run_json(env, *set_pin, "--password", USER_PASSWORD, "--old-pin", PIN, "--new-pin", "740319")
    run(
        env,
        "user",
        "password",
        "--as",
        "s1.clerk",
        "--password",
        USER_PASSWORD,
        "--new-password",
        "another password",
    )


# -------------------------------------------------------------- operations
def test_life_cycle(consortium: Env) -> None:
    env = consortium
    (line,) = run_json(env, "credit", "list", "--core", "c1")
    assert (line["bank_org_id"], line["limit_fen"], line["used_fen"]) == ("b1", LIMIT_FEN, 0)

    issued = run_json(env, *issue_args())
    ticket_id = issued["id"]
    assert issued["status"] == "PENDING_ACCEPTANCE"
    assert (issued["amount_fen"], issued["issuer_org_id"]) == (AMOUNT_FEN, "c1")
    assert issued["maturity_date"] == MATURITY.isoformat()

    # The PIN may come from GOLDTICKET_PIN instead of --pin.
    accepted = run_json({**env, "GOLDTICKET_PIN": PIN}, "ticket", "accept", "--as", "s1.clerk", ticket_id)
    assert (accepted["id"], accepted["status"], accepted["holder_org_id"]) == (ticket_id, "ACTIVE", "s1")

    held = run_json(env, "ticket", "list", "--holder", "s1")
    assert [(t["id"], t["status"], t["amount_fen"]) for t in held] == [(ticket_id, "ACTIVE", AMOUNT_FEN)]
    assert run_json(env, "ticket", "show", ticket_id)["status"] == "ACTIVE"
    history = run_json(env, "ticket", "history", ticket_id)
    assert [entry["action"] for entry in history] == ["issue", "accept"]
    assert [entry["by_user"] for entry in history] == ["c1.clerk", "s1.clerk"]
    assert history[0]["tx_id"] == issued["tx_id"]  # a ticket's tx_id is the one that created it
    assert 0 < history[0]["block"] < history[1]["block"]
    (line,) = run_json(env, "credit", "list", "--core", "c1")
    assert line["used_fen"] == AMOUNT_FEN

    # s1 passes 2,000,000 on to s2, who discounts 1,500,000 of it with b1.
    offer = run_json(
        env, "ticket", "transfer", ticket_id, *as_user("s1.clerk"), "--to", "s2", "--amount-fen", "2000000"
    )
    assert offer["ticket"]["status"] == "LOCKED_TRANSFER"
    moved = run_json(env, "offer", "accept", *as_user("s2.clerk"), offer["offer_id"])
    part, kept = moved["transferred"], moved["remainder"]
    assert (part["holder_org_id"], part["amount_fen"]) == ("s2", 2_000_000)
    assert (kept["holder_org_id"], kept["amount_fen"]) == ("s1", 3_000_000)

    # at the keyboard the holder sees what it gets at worst before its PIN is asked (#21): the
    # 15,000.00 for 30 days at 2.62 %: interest 32.75, no fee, proceeds 14,967.25; the cost on
    # the proceeds 2.66 % a year
    finance = ["ticket", "finance", part["id"], "--as", "s2.clerk", "--bank", "b1", "--amount-fen", "1500000"]
    result = run(env, *finance, "--max-rate", "2.62", "--json", stdin=f"y\n{PIN}\n")
    assert "30 days: interest at most 32.75, fee 0.00, proceeds at least 14,967.25" in result.stderr
    assert "annualised total cost at most 2.66 %" in result.stderr, result.stderr
    applied = json.loads(result.stdout)
    assert applied["ticket"]["status"] == "LOCKED_FINANCING"
    # #21: approval needs the registration (中登网) first
    refused = ["financing", "approve", applied["application_id"], *as_user("b1.clerk")]
    fail(
        env,
        *refused,
        "--annual-rate-bp",
        "262",
        "--value-date",
        TODAY.isoformat(),
        code=6,
        error="rule_violation",
    )
    register = [
        "financing",
        "register",
        applied["application_id"],
        *as_user("b1.clerk"),
        "--number",
        "ZD-CLI-1",
    ]
    registered = run_json(env, *register)
    assert registered["status"] == "current" and registered["registration_number"] == "ZD-CLI-1"
    approve = ["financing", "approve", applied["application_id"], *as_user("b1.clerk")]
    approved = run_json(env, *approve, "--annual-rate-bp", "262", "--value-date", TODAY.isoformat())
    assert approved["days"] == 30
    assert approved["financed"]["holder_org_id"] == "b1"
    assert approved["financed"]["amount_fen"] == 1_500_000
    assert approved["remainder"]["amount_fen"] == 500_000
    assert approved["proceeds_fen"] == 1_500_000 - approved["discount_interest_fen"]

    # Only the operator freezes, with the operator desk's card.
    freeze = ["ticket", "freeze", kept["id"], "--reason", "court order 2026-001"]
    fail(env, *freeze, *as_user("s1.clerk"), code=4, error="forbidden")
    frozen = run_json(env, *freeze, *as_user("operator", OPERATOR_PIN))
    assert frozen["status"] == "FROZEN"

    lineage = run_json(env, "ticket", "lineage", approved["financed"]["id"])
    assert lineage["ticket"]["id"] == ticket_id
    pieces = {child["ticket"]["id"]: child for child in lineage["children"]}
    assert set(pieces) == {part["id"], kept["id"]}
    assert pieces[kept["id"]]["children"] == []
    financed = {(c["ticket"]["id"], c["ticket"]["holder_org_id"]) for c in pieces[part["id"]]["children"]}
    assert financed == {(approved["financed"]["id"], "b1"), (approved["remainder"]["id"], "s2")}

    # Settlement: the issuer, at or after maturity; the frozen piece is withheld.
    settle = ["ticket", "settle", ticket_id, *as_user("c1.clerk")]
    fail(env, *settle, code=6, error="rule_violation")
    at_maturity = {**env, "GOLDTICKET_TODAY": MATURITY.isoformat()}
    statement = run_json(at_maturity, *settle)
    assert sorted((p["holder_org_id"], p["amount_fen"]) for p in statement["paid"]) == [
        ("b1", 1_500_000),
        ("s2", 500_000),
    ]
    assert [(p["holder_org_id"], p["amount_fen"]) for p in statement["withheld"]] == [("s1", 3_000_000)]
    assert statement["total_paid_fen"] == 2_000_000
    assert statement["settled_on"] == MATURITY.isoformat()
    assert run_json(env, "ticket", "show", kept["id"])["status"] == "FROZEN"


def test_refused_requests_write_nothing(accepted: str, consortium: Env) -> None:
    env = consortium
    before = height(env)
    credit = run(env, "credit", "list", "--core", "c1").stdout
    listing = run(env, "ticket", "list", "--holder", "s1").stdout
    fail(env, *issue_args(amount_fen=0), code=2, error="invalid_input")
    bad_invoice = issue_args()
    bad_invoice[-1] = "INV2-5000000"
    fail(env, *bad_invoice, code=2, error="invalid_input")
    bad_invoice[-1] = f"INV2:5e6:{hashlib.sha256(b'INV2').hexdigest()}"
    fail(env, *bad_invoice, code=2, error="invalid_input")
    fail(env, "ticket", "accept", *as_user("s1.clerk"), accepted, code=5, error="conflict")
    assert height(env) == before
    assert run(env, "credit", "list", "--core", "c1").stdout == credit
    assert run(env, "ticket", "list", "--holder", "s1").stdout == listing


def test_pin_is_asked_for_without_echo(consortium: Env) -> None:
    result = run(consortium, *issue_args(pin=None), "--json", stdin=f"y\n{PIN}\n")
    assert "card PIN" in result.stderr and "sign this with your card?" in result.stderr
    assert "50,000.00 yuan (伍万元整)" in result.stderr
    assert json.loads(result.stdout)["status"] == "PENDING_ACCEPTANCE"


# ----------------------------------------------------------------- PINs
def test_wrong_pin_is_refused_and_writes_nothing(consortium: Env) -> None:
    env = consortium
    before = height(env)
    result = fail(env, *issue_args(pin=WRONG_PIN), code=4, error="wrong_pin")
    assert "4 tries left" in result.stderr
    assert height(env) == before
    # A right PIN forgets the wrong one: the next wrong PIN has 4 tries left again.
    run(env, *grant())
    assert "4 tries left" in fail(env, *grant(pin=WRONG_PIN), code=4, error="wrong_pin").stderr


def test_five_wrong_pins_lock_the_card_until_the_desk_unlocks_it(consortium: Env) -> None:
    env = consortium
    for left in (4, 3, 2, 1, 0):
        result = run(env, *grant(pin=WRONG_PIN), code=4)
        assert result.stderr.startswith("error: wrong_pin:")
        assert f"{left} tries left" in result.stderr
    before = height(env)
    fail(env, *grant(), code=7, error="card_locked")
    assert height(env) == before
    serial = serial_of(env, "b1.clerk")
    assert cards(env, "b1.clerk")[0]["locked"] is True
    # Other users' cards are not affected.
    run(env, *issue_args())

    unlocked = run_json(env, "card", "unlock", serial)
    assert (unlocked["serial"], unlocked["locked"], unlocked["status"]) == (serial, False, "ACTIVE")
    run(env, *grant())
    assert height(env) == before + 2


# -------------------------------------------------------------- card desk
def test_report_lost_then_replace_keeps_the_certificate(accepted: str, consortium: Env) -> None:
    env = consortium
    (old,) = cards(env, "s1.clerk")
    assert run_json(env, "card", "report-lost", old["serial"]) == {
        "status": "suspended",
        "serial": old["serial"],
    }
    transfer = ["ticket", "transfer", accepted, *as_user("s1.clerk"), "--to", "s2", "--amount-fen", "1000000"]
    fail(env, *transfer, code=7, error="card_revoked")
    assert cards(env, "s1.clerk")[0]["status"] == "SUSPENDED"

    # The desk starts it with the operator password; the user finishes it with their PIN.
    suspended = cards(env, "s1.clerk")
    replace = ["card", "replace", old["serial"]]
    fail(env, *replace, "--operator-password", "not the password", code=4, error="forbidden")
    assert cards(env, "s1.clerk") == suspended
    started = run_json(env, *replace, "--operator-password", OPERATOR_PASSWORD)
    recover = ["card", "recover", "--as", "s1.clerk", "--password", USER_PASSWORD, started["serial"]]
    fail(env, *recover, "--pin", WRONG_PIN, code=4, error="wrong_pin")
    fail(env, *transfer, code=7, error="card_revoked")

    new = run_json(env, *recover, "--pin", PIN)
    assert new["serial"] != old["serial"]
    assert SERIAL.match(new["serial"])
    assert new["status"] == "active"
    listed = {card["serial"]: card for card in cards(env, "s1.clerk")}
    assert listed[old["serial"]]["status"] == "REPLACED"
    assert listed[new["serial"]]["status"] == "ACTIVE"
    assert listed[new["serial"]]["certificate_pem"] == old["certificate_pem"]

    # The new card signs as the same user with the same (still registered) identity.
    offer = run_json(env, *transfer)
    assert offer["ticket"]["status"] == "LOCKED_TRANSFER"
    history = run_json(env, "ticket", "history", accepted)
    assert history[-1]["action"] == "offer_transfer"
    assert history[-1]["by_user"] == "s1.clerk"
    assert history[-1]["card_serial"] == history[-2]["card_serial"]  # the certificate's serial
    fail(env, *replace, "--operator-password", OPERATOR_PASSWORD, code=5, error="conflict")


def test_replace_takes_the_operator_password_from_the_environment(consortium: Env) -> None:
    env = consortium
    old = serial_of(env, "b1.clerk")
    started = run_json(env, "card", "replace", old)
    new = run_json(env, "card", "recover", "--as", "b1.clerk", "--password", USER_PASSWORD, "--pin", PIN,
                   started["serial"])  # fmt: skip
    assert new["serial"] != old
    run(env, *grant())


def test_eliminated_card_signs_nothing(consortium: Env) -> None:
    env = consortium
    serial = serial_of(env, "b1.clerk")
    assert run_json(env, "card", "eliminate", serial) == {"status": "eliminated", "serial": serial}
    fail(env, *grant(), code=7, error="card_revoked")
    fail(env, "card", "eliminate", serial, code=5, error="conflict")
    fail(env, "card", "replace", serial, code=5, error="conflict")
    (card,) = cards(env, "b1.clerk")
    assert card["status"] == "ELIMINATED"

    # A new card (a new key and certificate, the PIN chosen by its user) lets the user sign again.
    opened = run_json(env, "card", "issue", "b1.clerk")
    run(env, "card", "set-pin", "--as", "b1.clerk", "--password", USER_PASSWORD, opened["serial"],
        "--new-pin", PIN)  # fmt: skip
    run(env, *grant())


def test_revoked_user_signs_nothing(consortium: Env) -> None:
    env = consortium
    serial = serial_of(env, "c1.clerk")
    assert run_json(env, "user", "revoke", "c1.clerk") == [{"status": "eliminated", "serial": serial}]
    fail(env, *issue_args("c1.clerk"), code=7, error="card_revoked")
    assert [card["status"] for card in cards(env, "c1.clerk")] == ["ELIMINATED"]
    assert run_json(env, "user", "revoke", "c1.clerk") == []


def test_the_desk_keeps_off_its_own_card_and_a_user_has_one_card(consortium: Env) -> None:
    env = consortium
    own = serial_of(env, "operator")
    for command in ("report-lost", "eliminate", "unlock"):
        fail(env, "card", command, own, code=4, error="forbidden")
    fail(env, "card", "open", "s1.clerk", code=5, error="conflict")
    # a member's recovery is approved by admins of the other members, never by the operator
    recovery = ["card", "approve-recovery", serial_of(env, "s1.clerk")]
    fail(env, *recovery, *as_user("operator", OPERATOR_PIN), code=4, error="forbidden")
    fail(env, *recovery, *as_user("c1.clerk"), code=4, error="forbidden")
    assert [card["status"] for card in cards(env, "operator")] == ["ACTIVE"]


# ------------------------------------------------------------------- audit
def test_audit_log_verifies_and_reveals_an_edit(accepted: str, consortium: Env, tmp_path: Path) -> None:
    env = consortium
    transfer = ["ticket", "transfer", accepted, "--to", "s2", "--amount-fen", "1"]
    fail(env, *transfer, *as_user("s1.clerk", WRONG_PIN), code=4, error="wrong_pin")
    report = run_json(env, "signer", "verify-audit")
    assert report["ok"] is True
    assert report["entries"] > 0
    assert report["first_bad_line"] is None

    log = tmp_path / "var" / "cards" / "audit.jsonl"
    text = log.read_text(encoding="utf-8")
    for secret in SECRETS:
        assert secret not in text
    lines = text.splitlines(keepends=True)
    assert len(lines) == report["entries"]
    assert any('"result":"refused"' in line and '"code":"wrong_pin"' in line for line in lines)

    # a signature's line near the middle (desk actions have lines without a digest)
    middle = next(n for n in range(len(lines) // 2, len(lines)) if '"digest"' in lines[n])
    record = json.loads(lines[middle])
    digest = record["entry"]["digest"]
    record["entry"]["digest"] = ("0" if digest[0] != "0" else "1") + digest[1:]  # one character
    edited = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"
    assert len(edited) == len(lines[middle]) and edited != lines[middle]
    lines[middle] = edited
    log.write_text("".join(lines), encoding="utf-8")

    result = run(env, "signer", "verify-audit", "--json", code=9)
    broken = json.loads(result.stdout)
    assert broken["ok"] is False
    assert broken["first_bad_line"] == middle + 1
    assert broken["entries"] == middle
    assert broken["reason"]


# ------------------------------------------------------ once bugs, now fixed
def test_desk_commands_without_a_pin_ignore_goldticket_pin(consortium: Env) -> None:
    serial = serial_of(consortium, "s1.clerk")
    run({**consortium, "GOLDTICKET_PIN": PIN}, "card", "report-lost", serial)


def test_a_bad_new_pin_leaves_the_card_waiting(env: Env) -> None:
    run(env, "init")
    run(env, "member", "add", "--id", "s1", "--name", "供应商一", "--role", "supplier")
    with pytest.raises(AssertionError):
        enrol(env, "s1", "s1.clerk", pin="12")
    (card,) = cards(env, "s1.clerk")
    assert card["status"] == "OPENED" and card["certificate_pem"] is None
    run(
        env,
        "card",
        "set-pin",
        "--as",
        "s1.clerk",
        "--password",
        USER_PASSWORD,
        card["serial"],
        "--new-pin",
        PIN,
    )


# ---------------------------------------------------------------- certificates
def test_certificate_issue_and_verify(consortium: Env, accepted: str, tmp_path: Path) -> None:
    path = tmp_path / "certificate.pdf"
    issued = run_json(consortium, "certificate", "issue", *reader("s1.clerk"), accepted, "-o", str(path))
    assert issued["file"] == str(path) and path.read_bytes().startswith(b"%PDF-")
    readable = run(consortium, "certificate", "verify", str(path)).stdout
    assert readable.startswith("verdict") and "valid" in readable.splitlines()[0]
    verdict = run_json(consortium, "certificate", "verify", str(path))
    assert (verdict["verdict"], verdict["certificate_id"]) == ("valid", issued["certificate_id"])
    changed = bytearray(path.read_bytes())
    changed[len(changed) // 3] ^= 0x04
    path.write_bytes(bytes(changed))
    assert (
        json.loads(run(consortium, "certificate", "verify", str(path), "--json", code=11).stdout)["verdict"]
        == "forged"
    )
    fail(consortium, "certificate", "verify", str(tmp_path / "missing.pdf"), code=2, error="invalid_input")
    fail(consortium, "certificate", "issue", *reader("s2.clerk"), accepted, code=4, error="forbidden")
    pem = run(consortium, "certificate", "signing-certificate").stdout
    assert pem.count("-----BEGIN CERTIFICATE-----") == 2


# ------------------------------------------------------------- invoice files
def test_an_invoice_document_is_named_by_its_file_with_its_amount_in_yuan(
    consortium: Env, tmp_path: Path
) -> None:
    document = tmp_path / "发票 INV-77.pdf"
    document.write_bytes(b"%PDF-1.7 an invoice document")
    base = ["ticket", "issue", *as_user("c1.clerk"), "--payee", "s1", "--maturity-date", MATURITY.isoformat()]
    issued = run_json(
        consortium, *base, "--amount", "1,234.56", "--invoice-file", f"INV-77:1,234.56:{document}"
    )
    [invoice] = issued["invoices"]
    assert invoice["amount_fen"] == 123456 and invoice["number"] == "INV-77"
    assert invoice["sha256"] == hashlib.sha256(document.read_bytes()).hexdigest()
    # the same document cannot back a second ticket under another number
    fail(
        consortium,
        *base,
        "--amount",
        "1",
        "--invoice-file",
        f"INV-78:1:{document}",
        code=6,
        error="rule_violation",
    )
    fail(consortium, *base, "--amount", "1", "--invoice-file", "INV-79:1", code=2, error="invalid_input")
    missing = tmp_path / "missing.pdf"
    fail(
        consortium,
        *base,
        "--amount",
        "1",
        "--invoice-file",
        f"INV-79:1:{missing}",
        code=2,
        error="invalid_input",
    )
    fail(
        consortium,
        *base,
        "--amount",
        "1",
        "--invoice-file",
        f"INV-79:1.234:{document}",
        code=2,
        error="invalid_input",
    )
    fail(consortium, *base, "--amount", "1", code=2, error="invalid_input")


def test_the_demo_settlement_has_its_payment_file(env: Env) -> None:
    """#21: the demo registers its members with KYC records (a valid 统一社会信用代码, an account
    in the member's own name), so its settlement's payment file is there for the issuer and
    validates against the official pain.001.001.09 schema, paying the whole 1,000,000.00."""
    from goldticket.payments import schema
    from goldticket.services import payments, setup
    from goldticket.settings import Settings

    out = run(env, "demo").stdout
    found = re.search(r"statement (\S+) for ticket (\S+) on", out)
    assert found
    statement_id, root_id = found.groups()
    environ = {key: value for key, value in env.items() if value is not None}
    portal = setup.init_portal(Settings.from_env(environ))
    try:
        core = portal.platform.actor("hdzg.clerk")
        name, xml = payments.statement_payment_file(portal, core, root_id, statement_id)
    finally:
        portal.close()
    schema().validate(xml.decode())
    assert name == f"payment-{statement_id}.xml"
    assert b"<CtrlSum>1000000.00</CtrlSum>" in xml


def test_the_statement_files_from_the_command_line(env: Env, tmp_path: Path) -> None:
    """#21 on the CLI: the demo settlement's payment file (pain.001 XML, and its transfers as
    CSV and XLSX) for the issuer only, the clearing statement and the reconciliation as files,
    the reconciliation shown, a list of tickets exported; a payee gets no payment file."""
    import openpyxl

    from goldticket.payments import schema
    from goldticket.services.accounts import DEMO_PASSWORD
    from goldticket.services.demo import DEMO_PIN

    out = run(env, "demo").stdout
    found = re.search(r"statement (\S+) for ticket (\S+) on", out)
    assert found
    statement_id, root_id = found.groups()
    issuer = ["--as", "hdzg.clerk", "--password", DEMO_PASSWORD]
    xml = tmp_path / "payment.xml"
    run(env, "statement", "payment-file", *issuer, root_id, statement_id, "--out", str(xml))
    schema().validate(xml.read_text(encoding="utf-8"))
    csv_file = tmp_path / "payment.csv"
    run(env, "statement", "payment-file", *issuer, root_id, statement_id, "--format", "csv", "--lang", "en",
        "--out", str(csv_file))  # fmt: skip
    lines = csv_file.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("Statement no.,Root ticket no.,Execution date,End-to-end id")
    assert lines[-1].split(",")[8] == "1000000.00" and lines[-1].startswith("Total")
    xlsx = tmp_path / "payment.xlsx"
    run(
        env,
        "statement",
        "payment-file",
        *issuer,
        root_id,
        statement_id,
        "--format",
        "xlsx",
        "--out",
        str(xlsx),
    )
    sheet = openpyxl.load_workbook(xlsx).active
    assert sheet.cell(1, 1).value == "清分单号" and sheet.max_row == len(lines)
    # a payee of the statement: no payment file for it
    refused = run(env, "statement", "payment-file", "--as", "szjm.clerk", "--password", DEMO_PASSWORD, root_id,
                  statement_id, "--out", str(tmp_path / "no.xml"), code=3)  # fmt: skip
    assert refused.stderr.startswith("error: not_found:") and not (tmp_path / "no.xml").exists()
    statement_csv = tmp_path / "statement.csv"
    run(env, "statement", "export", *issuer, root_id, statement_id, "--out", str(statement_csv))
    assert statement_csv.read_text(encoding="utf-8-sig").startswith("清分单号")
    shown = run_json(env, "statement", "reconciliation", *issuer, root_id, statement_id)
    assert shown["due_fen"] == 100_000_000
    report = tmp_path / "reconciliation.xlsx"
    run(
        env,
        "statement",
        "reconciliation",
        *issuer,
        root_id,
        statement_id,
        "--format",
        "xlsx",
        "--out",
        str(report),
    )
    assert openpyxl.load_workbook(report).active.cell(1, 1).value == "清分单号"
    fail(env, "statement", "reconciliation", *issuer, root_id, statement_id, "--format", "csv", code=2,
         error="invalid_input")  # fmt: skip
    listed = tmp_path / "tickets.csv"
    run(env, "ticket", "export", *issuer, "--root", root_id, "--out", str(listed))
    assert root_id in listed.read_text(encoding="utf-8-sig")
    # the issuer imports its bank's camt.053 for every transfer of the payment file: all paid
    from decimal import Decimal

    import camt053

    transfers = [line.split(",") for line in lines[1:-1]]
    booked = [(row[3], int(Decimal(row[8]) * 100), f"BK{n}") for n, row in enumerate(transfers)]
    camt = tmp_path / "camt053.xml"
    camt.write_bytes(camt053.statement(transfers[0][12], booked, dt.date.fromisoformat(transfers[0][2])))
    imported = run_json(env, "statement", "import-bank", "--as", "hdzg.clerk", "--pin", DEMO_PIN, root_id,
                        statement_id, "--file", str(camt))  # fmt: skip
    assert imported["complete"] and imported["paid_fen"] == imported["due_fen"] == 100_000_000


# ------------------------------------------------ a change of settlement account (#21)
def test_a_settlement_account_change_by_the_members_admin_and_the_desk(env: Env) -> None:
    from stdnum.cn import uscc

    run(env, "init")
    base = "911100006000379"
    kyc = [
        "--uscc", base + "00" + uscc.calc_check_digit(base + "00"),
        "--legal-representative", "张三", "--registered-address", "上海市一号",
        "--account-name", "供应商九", "--account-number", "6222020000000009",
        "--bank-name", "老银行", "--cnaps-code", "102100000009",
    ]  # fmt: skip
    fail(env, "member", "add", "--id", "s9", "--name", "供应商九", "--role", "supplier",
         *[a if a != "6222020000000009" else "12" for a in kyc], code=2, error="invalid_input")  # fmt: skip
    run(env, "member", "add", "--id", "s9", "--name", "供应商九", "--role", "supplier", *kyc)
    added = run_json(env, "user", "add", "--member", "s9", "--username", "s9.admin", "--role", "admin")
    run(
        env,
        "user",
        "activate",
        "s9.admin",
        "--code",
        added["activation_code"],
        "--new-password",
        USER_PASSWORD,
    )
    opened = run_json(env, "card", "issue", "s9.admin")
    run(
        env,
        "card",
        "set-pin",
        "--as",
        "s9.admin",
        "--password",
        USER_PASSWORD,
        opened["serial"],
        "--new-pin",
        PIN,
    )
    new = ["--account-name", "供应商九", "--account-number", "6222020000000099", "--bank-name", "新银行",
           "--cnaps-code", "103100000099"]  # fmt: skip
    fail(
        env, "member", "account-request", *as_user("operator", OPERATOR_PIN), *new, code=4, error="forbidden"
    )
    fail(env, "member", "account-request", *as_user("s9.admin"), "--account-name", "别人", *new[2:],
         code=6, error="rule_violation")  # fmt: skip
    change = run_json(env, "member", "account-request", *as_user("s9.admin"), *new)
    assert change["status"] == "PENDING" and change["account"]["account_number"] == "6222020000000099"
    listed = run_json(env, "member", "account-changes", *reader("s9.admin"), "--status", "PENDING")
    assert [item["id"] for item in listed] == [change["id"]]
    fail(
        env,
        "member",
        "account-confirm",
        "s9",
        change["id"],
        "--operator-pin",
        "999999",
        code=4,
        error="wrong_pin",
    )
    confirmed = run_json(env, "member", "account-confirm", "s9", change["id"])
    assert confirmed["status"] == "CONFIRMED"
    fail(env, "member", "account-decline", "s9", change["id"], code=5, error="conflict")
    again = run_json(
        env, "member", "account-request", *as_user("s9.admin"), *new[:3], "6222020000000777", *new[4:]
    )
    assert (
        run_json(env, "member", "account-withdraw", *as_user("s9.admin"), again["id"])["status"] == "REJECTED"
    )


def test_the_demo_leaves_one_piece_overdue_with_a_demand(env: Env) -> None:
    """#21: `make run` shows the overdue page populated: a piece of the demo issuer's unpaid after
    its maturity and grace days, marked OVERDUE by its holder with a demand of the issuer; every
    date on or before the business date."""
    from goldticket.services import Platform, recourse
    from goldticket.settings import Settings

    out = run(env, "demo").stdout
    assert "marks it OVERDUE and demands 200,000.00" in out
    opened = Platform.open(Settings.from_env({k: str(v) for k, v in env.items() if v is not None}))
    try:
        (item,) = recourse.list_overdue(opened, opened.actor("szjm.clerk"))
        assert item["holder_org_id"] == "szjm" and item["issuer_org_id"] == "hdzg"
        maturity = dt.date.fromisoformat(item["maturity_date"])
        assert maturity + dt.timedelta(days=3) < TODAY and item["marked_on"] <= TODAY.isoformat()
        (demand,) = item["demands"]
        assert (demand["obligor_org_id"], demand["amount_fen"], demand["status"]) == (
            "hdzg",
            20_000_000,
            "OPEN",
        )
        assert demand["demanded_on"] <= TODAY.isoformat()
        assert [i["ticket_id"] for i in recourse.list_overdue(opened, opened.actor("hdzg.clerk"))] == [
            item["ticket_id"]
        ]
    finally:
        opened.close()


def test_the_ledger_rules_and_turning_the_documents_rule_on(env: Env, tmp_path: Path) -> None:
    """#21: `goldticket init` bootstraps a ledger that requires each move's signed document; a
    test ledger made without the rule gets it from the operator desk, once and for good."""
    run(env, "init")
    assert run_json(env, "member", "rules")["documents"] == "required"
    fail(env, "member", "require-documents", code=5, error="conflict")

    optional = {**env, "GOLDTICKET_DATA_DIR": str(tmp_path / "optional"), "GOLDTICKET_DOCUMENTS": "optional"}
    run(optional, "init")
    assert run_json(optional, "member", "rules")["documents"] == "optional"
    assert run_json(optional, "member", "require-documents")["documents"] == "required"
    assert run_json(optional, "member", "rules")["documents"] == "required"
    fail(optional, "member", "require-documents", code=5, error="conflict")
    # a production data directory is never made without it
    prod = {**optional, "GOLDTICKET_ENV": "prod", "GOLDTICKET_DATA_DIR": str(tmp_path / "prod")}
    prod.pop("GOLDTICKET_TODAY")
    refused = run(prod, "init", code=2)
    assert "GOLDTICKET_DOCUMENTS=optional is only allowed" in refused.stderr, refused.stderr


def test_an_organisation_is_trusted_only_on_a_fabric_channel(env: Env, tmp_path: Path) -> None:
    """#19: `member trust-org` takes an organisation's public file; the embedded ledger's
    organisations are fixed when it is made, and a file that is not one is refused."""
    from goldticket.signing import OrgCA

    run(env, "init")
    public = tmp_path / "jnyh.json"
    ca = OrgCA.create("BankJnyhMSP", "江南银行")
    public.write_text(json.dumps({"msp_id": "BankJnyhMSP", "ca_pem": ca.certificate_pem.decode()}))
    refused = fail(env, "member", "trust-org", "--file", str(public), code=2, error="invalid_input")
    assert "fixed when it is made" in refused.stderr
    public.write_text("not json")
    fail(env, "member", "trust-org", "--file", str(public), code=2, error="invalid_input")
    added = run(
        env,
        "member",
        "add",
        "--id",
        "jnyh",
        "--name",
        "江南银行",
        "--role",
        "bank",
        "--msp",
        "BankJnyhMSP",
        code=2,
    )
    assert "does not trust BankJnyhMSP" in added.stderr
