"""The holes a new user found: a production clock that moved, a desk that asked for no
operator credentials, an init that left half a data directory, a data directory that could not
move. Each test attacks one and fails if its check is removed."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from support import OPERATOR_PASSWORD, OPERATOR_PIN, PIN

from goldticket import domain as d
from goldticket.cli import main
from goldticket.ledger import Contract, EndorseError, open_local_ledger
from goldticket.services import Platform, members, setup
from goldticket.services.pins import weak_pin
from goldticket.settings import ENVIRONMENT_FILE, ConfigError, ProductionRefusedError, Settings
from goldticket.signing.errors import CardLockedError, UnauthenticatedError, WrongPinError

pytestmark = pytest.mark.functional


def _settings(data_dir: Path, **changes: object) -> Settings:
    base = Settings(
        data_dir=data_dir,
        env="prod",
        card_kdf_n=2**14,
        signer_rate=1000.0,
        operator_password=OPERATOR_PASSWORD,
        operator_pin=OPERATOR_PIN,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


@pytest.fixture
def prod_dir(tmp_path: Path) -> Path:
    setup.init_platform(_settings(tmp_path / "prod")).close()
    return tmp_path / "prod"


# --------------------------------------------------------------- the clock
def test_a_prod_directory_refuses_a_set_clock_whatever_the_process_says(prod_dir: Path) -> None:
    with pytest.raises(ProductionRefusedError, match="GOLDTICKET_TODAY"):
        Platform.open(_settings(prod_dir, env="dev", today=dt.date(2027, 3, 1)))
    opened = Platform.open(_settings(prod_dir, env="dev"))  # GOLDTICKET_ENV=dev is overridden
    try:
        assert opened.settings.env == "prod" and opened.settings.today is None
        assert opened.evaluate("GetMember", {"id": "operator"})["environment"] == "prod"
    finally:
        opened.close()


def test_the_cli_on_a_prod_directory_refuses_a_moved_clock(prod_dir: Path) -> None:
    env = {
        "GOLDTICKET_DATA_DIR": str(prod_dir),
        "GOLDTICKET_ENV": "dev",
        "GOLDTICKET_TODAY": "2027-03-01",
        "GOLDTICKET_CARD_KDF_N": "16384",
    }
    result = CliRunner().invoke(main, ["member", "list"], env=env)
    assert result.exit_code == 4, result.output
    assert result.stderr.startswith("error: forbidden:")


def test_an_edited_environment_file_is_refused_by_the_ledger(prod_dir: Path) -> None:
    (prod_dir / ENVIRONMENT_FILE).write_text(json.dumps({"environment": "dev"}))
    with pytest.raises(ProductionRefusedError, match="initialised for prod"):
        Platform.open(_settings(prod_dir, env="dev"))


def test_a_prod_ledger_checks_the_time_window_whoever_opens_it(prod_dir: Path) -> None:
    platform = Platform.open(_settings(prod_dir))
    try:
        lax = open_local_ledger(prod_dir, check_time=False)  # asks for no time check
        later = dt.datetime.now(dt.UTC) + dt.timedelta(days=90)
        contract = Contract(lax, clock=lambda: later)
        # a software key, so that only the ledger (not the signing gateway) judges the time
        with pytest.raises(EndorseError, match="time"):
            contract.submit(platform.reader, "Ping", {})
        lax.close()
    finally:
        platform.close()


# ---------------------------------------------------------------- the desk
def _locked(platform: Platform, serial: str) -> None:
    record = platform.cards.registry.get(serial)
    with pytest.raises(CardLockedError):
        for _ in range(10):
            with contextlib.suppress(WrongPinError):
                platform.cards.service.check_pin(record, "999999")


def test_desk_actions_need_the_operator_pin_and_are_audit_logged(consortium) -> None:
    platform = consortium.platform
    serial = platform.cards.registry.active_card("tier1.clerk").serial
    _locked(platform, serial)
    env = {
        "GOLDTICKET_DATA_DIR": str(platform.settings.data_dir),
        "GOLDTICKET_ENV": "test",
        "GOLDTICKET_CARD_KDF_N": "16384",
        "GOLDTICKET_OPERATOR_PIN": None,
        # the process holds the operator password (its cards open through the operator's PIN
        # key); what it must still be given is the desk admin's own card PIN
        "GOLDTICKET_OPERATOR_PASSWORD": OPERATOR_PASSWORD,
    }
    runner = CliRunner()
    unset = runner.invoke(main, ["card", "unlock", serial], env=env, input="")
    assert unset.exit_code != 0
    wrong = runner.invoke(main, ["card", "unlock", serial, "--operator-pin", "999999"], env=env)
    assert wrong.exit_code == 4 and wrong.stderr.startswith("error: wrong_pin:"), wrong.output
    clerk = runner.invoke(
        main, ["card", "unlock", serial, "--desk-user", "tier2.clerk", "--operator-pin", PIN], env=env
    )
    assert clerk.exit_code == 4 and clerk.stderr.startswith("error: forbidden:"), clerk.output
    assert platform.cards.registry.get(serial).locked
    for command in (["card", "report-lost", serial], ["card", "eliminate", serial]):
        refused = runner.invoke(main, [*command, "--operator-pin", "999999"], env=env)
        assert refused.exit_code == 4, refused.output
    assert platform.cards.registry.get(serial).status == "ACTIVE"
    refused = runner.invoke(
        main,
        ["user", "add", "--member", "tier1", "--username", "tier1.sneak", "--operator-pin", "999999"],
        env=env,
    )
    assert refused.exit_code == 4 and not platform.users.has_user("tier1.sneak")
    platform.cards.registry.unlock(platform.cards.registry.active_card("operator").serial)  # the tries above

    done = runner.invoke(main, ["card", "unlock", serial, "--operator-pin", OPERATOR_PIN], env=env)
    assert done.exit_code == 0, done.output
    assert not platform.cards.registry.get(serial).locked
    lines = platform.cards.service.audit.path.read_text(encoding="utf-8").splitlines()
    entries = [json.loads(line)["entry"] for line in lines]
    assert {"desk": "card unlock", "user": "operator", "card": serial, "result": "ok"} in entries
    assert any(entry.get("desk") == "login" and entry["result"] == "refused" for entry in entries)


def test_the_desk_is_for_operator_admins_with_their_pin(consortium) -> None:
    platform = consortium.platform
    with pytest.raises(d.ForbiddenError):
        platform.desk(platform.actor("tier1.clerk"), PIN)
    with pytest.raises(WrongPinError):
        platform.desk(platform.actor("operator"), "999999")
    with pytest.raises(UnauthenticatedError):
        Platform(
            dataclasses.replace(platform.settings, operator_pin=""),
            platform.ledger,
            platform.keystore,
            platform.cards,
        ).desk()


# ---------------------------------------------------------------- init
def _nothing_left(tmp_path: Path, data_dir: Path) -> None:
    assert not data_dir.exists() or not any(data_dir.iterdir()), list(data_dir.iterdir())
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_init_checks_its_secrets_before_writing_anything(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    for changes in ({"operator_pin": "12"}, {"operator_pin": ""}, {"operator_password": "short"}):
        with pytest.raises(ConfigError):
            setup.init_platform(_settings(data_dir, env="test", **changes))
        _nothing_left(tmp_path, data_dir)


def test_a_failed_init_leaves_nothing(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with pytest.raises(d.InvalidInputError):  # the Bootstrap refuses an empty name, after the card
        setup.init_platform(_settings(data_dir, env="test"), operator_name="")
    _nothing_left(tmp_path, data_dir)
    setup.init_platform(_settings(data_dir, env="test")).close()  # and a right init then works
    assert (data_dir / "ledger.sqlite").exists()


def test_init_refuses_a_password_that_does_not_open_the_backups(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    setup.init_platform(_settings(data_dir, env="test")).close()
    with pytest.raises(ConfigError, match="do not open the seed backup"):
        setup.init_platform(_settings(data_dir, env="test", operator_password="another password here"))
    setup.init_platform(_settings(data_dir, env="test")).close()


@pytest.mark.parametrize(
    "changes",
    [
        {"operator_password": "eleven char"},
        {"operator_pin": "111111"},
        {"operator_pin": "123456"},
        {"operator_pin": "987654"},
        {"operator_pin": "121212"},
    ],
)
def test_production_refuses_weak_secrets(tmp_path: Path, changes: dict[str, str]) -> None:
    data_dir = tmp_path / "data"
    with pytest.raises(ProductionRefusedError):
        setup.init_platform(_settings(data_dir, **changes))
    _nothing_left(tmp_path, data_dir)


def test_weak_pins() -> None:
    assert all(weak_pin(pin) for pin in ("000000", "123456", "654321", "890123", "123123", "909090"))
    assert not any(weak_pin(pin) for pin in ("135790", "246810", "202612", "740319"))


def test_production_refuses_weak_card_pins(prod_dir: Path) -> None:
    platform = Platform.open(_settings(prod_dir))
    try:
        desk = platform.desk()
        members.register_member(platform, desk, member_id="s1", name="供应商", role="supplier")
        with pytest.raises(d.InvalidInputError, match="too easy"):
            members.add_user(platform, desk, member_id="s1", username="s1.clerk", pin="123456")
        assert not platform.users.has_user("s1.clerk")
    finally:
        platform.close()


# ------------------------------------------------------------- moving
def test_a_data_directory_can_be_copied_and_moved(consortium, tmp_path: Path) -> None:
    platform = consortium.platform
    source = platform.settings.data_dir
    platform.close()
    copy = tmp_path / "copied"
    shutil.copytree(source, copy, symlinks=True)
    moved = tmp_path / "moved"
    source.rename(moved)
    for where in (copy, moved):
        opened = Platform.open(dataclasses.replace(platform.settings, data_dir=where))
        try:
            assert {m["id"] for m in members.list_members(opened)} >= {"core", "tier1"}
            opened.submit(opened.actor("tier1.clerk"), "Ping", {}, pin=PIN)
        finally:
            opened.close()


def test_idempotency_fingerprints_hold_no_desk_secret() -> None:
    from goldticket.services.idempotency import fingerprint

    base = {"user_id": "s1.clerk", "pin": "135790"}
    one = fingerprint("POST", "/cards", {**base, "desk_pin": "246810", "operator_password": "a"})
    other = fingerprint("POST", "/cards", {**base, "desk_pin": "740319", "operator_password": "b"})
    assert one == other
    assert one != fingerprint("POST", "/cards", {**base, "user_id": "s2.clerk"})


def test_the_demo_refuses_a_prod_directory_whatever_the_process_says(prod_dir: Path) -> None:
    env = {
        "GOLDTICKET_DATA_DIR": str(prod_dir),
        "GOLDTICKET_ENV": "dev",
        "GOLDTICKET_CARD_KDF_N": "16384",
        "GOLDTICKET_OPERATOR_PIN": OPERATOR_PIN,
        "GOLDTICKET_OPERATOR_PASSWORD": OPERATOR_PASSWORD,
        "GOLDTICKET_TODAY": None,
    }
    before = open_local_ledger(prod_dir)
    height = before.height()
    before.close()
    result = CliRunner().invoke(main, ["demo"], env=env)
    assert result.exit_code == 2 and "moves the clock" in result.stderr, result.output
    after = open_local_ledger(prod_dir)
    assert after.height() == height
    after.close()
