"""Issue #17, point 8: a copy of the data directory or a backup must not let anyone search a
card's PIN offline. The attacker (pin_search.py, no GoldTicket code) takes the copy, finds the
card's token files and tries PINs against them with SoftHSM2 in a scratch configuration, or with
the software card's published record format. It is told the PIN is one of 200 candidates and
gets a minute: enough for every candidate on today's tokens, where only the PIN protects them."""

from __future__ import annotations

import dataclasses
import json
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support import OPERATOR_PIN, PIN

from goldticket.services import backup as backups
from goldticket.services import members, setup
from goldticket.settings import Settings
from goldticket.signing.cards.pkcs11 import default_module_path

pytestmark = pytest.mark.functional

ATTACKER = Path(__file__).with_name("pin_search.py")
SECONDS = 60
BACKENDS = [
    pytest.param(
        "pkcs11",
        marks=pytest.mark.skipif(default_module_path() is None, reason="SoftHSM2 is not installed"),
    ),
    "software",
]


def _candidates(pin: str, tmp_path: Path) -> Path:
    rng = random.Random(17)
    guesses = {f"{rng.randrange(10**6):06d}" for _ in range(400)} - {pin}
    candidates = [*sorted(guesses)[:199], pin]
    rng.shuffle(candidates)
    path = tmp_path / "candidates.txt"
    path.write_text("\n".join(candidates))
    return path


def _search(where: Path, serial: str, pin: str, tmp_path: Path) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, str(ATTACKER), str(where), serial, str(_candidates(pin, tmp_path)), str(SECONDS)],
        capture_output=True,
        text=True,
        timeout=SECONDS + 60,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


@pytest.fixture(params=BACKENDS)
def data(request: pytest.FixtureRequest, settings: Settings) -> tuple[Settings, dict[str, str]]:
    """A data directory with the operator's card and a member user's card; which PIN is whose."""
    settings = dataclasses.replace(settings, card_backend=request.param)
    platform = setup.init_platform(settings)
    try:
        members.register_member(
            platform, platform.desk(), member_id="s1", name="苏州精密", name_en="Suzhou", role="supplier"
        )
        members.add_user(platform, platform.desk(), member_id="s1", username="s1.clerk", pin=PIN)
        registry = platform.cards.registry
        serials = {
            registry.cards_of("operator")[0].serial: OPERATOR_PIN,
            registry.cards_of("s1.clerk")[0].serial: PIN,
        }
    finally:
        platform.close()
    return settings, serials


def test_a_copy_of_the_live_data_directory_allows_no_offline_pin_search(
    data: tuple[Settings, dict[str, str]], tmp_path: Path
) -> None:
    settings, serials = data
    copy = tmp_path / "stolen"
    shutil.copytree(settings.data_dir, copy, symlinks=True)
    for serial, pin in serials.items():
        outcome = _search(copy, serial, pin, tmp_path)
        assert outcome["token"] is not None, "the attacker found the card's token files to attack"
        assert outcome["found"] is None, f"the PIN of card {serial} was found offline from a copy"
        assert outcome["tried"] == 200


def test_a_backup_allows_no_offline_pin_search(data: tuple[Settings, dict[str, str]], tmp_path: Path) -> None:
    settings, serials = data
    backup = tmp_path / "backup"
    backups.backup(settings, backup)
    for serial, pin in serials.items():
        outcome = _search(backup, serial, pin, tmp_path)
        assert outcome["found"] is None, f"the PIN of card {serial} was found offline from a backup"
