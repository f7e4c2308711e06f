"""Data directories built once per test session and copied for each test that asks for the same
thing (the embedded ledger only: a Fabric test has a chaincode definition of its own).

A test's platform, and the demo consortium over it, cost 0.5-2 s to build (an operator card, the
organisations' CAs, six members with a card each, a credit line: each a signed, committed
transaction) and ~0.05 s to copy. The copy is the same data directory moved: its SQLite ledger,
read model, user directory, SoftHSM tokens (``softhsm2.conf`` is written again for where its
tokens are now, ``goldticket/signing/cards/pkcs11.py``) and the organisations' own folders
beside it (``<data dir>-orgs``), whose recorded place is moved with them. Nothing of one test
reaches another: each copy is its own directory, the template is never opened again.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support import PIN

from goldticket.services import Actor, Platform, credit, members, setup
from goldticket.settings import Settings, default_orgs_dir


class Templates:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._built: dict[str, tuple[Path, Any]] = {}

    def copy(self, settings: Settings, kind: str, build: Callable[[Settings], Any]) -> Any:
        """Make ``settings.data_dir`` (and its organisations' folders) a copy of what ``build``
        made once for the same settings and ``kind``; returns what ``build`` returned then."""
        key = kind + repr(
            sorted(dataclasses.asdict(dataclasses.replace(settings, data_dir=Path("data"))).items())
        )
        if key not in self._built:
            where = self.root / f"t{len(self._built)}"
            where.mkdir(mode=0o700)
            made = build(dataclasses.replace(settings, data_dir=where / "data"))
            self._built[key] = (where, made)
        where, made = self._built[key]
        shutil.copytree(where / "data", settings.data_dir, symlinks=True)
        orgs = default_orgs_dir(settings.data_dir)
        if (where / "data-orgs").exists():
            shutil.copytree(where / "data-orgs", orgs, symlinks=True)
        for record in (settings.data_dir / "msp").glob("*.json"):  # the organisations' folders moved
            data = json.loads(record.read_text(encoding="utf-8"))
            folder = data.get("folder")
            if folder and Path(folder).is_relative_to(where / "data-orgs"):
                data["folder"] = str(orgs / Path(folder).relative_to(where / "data-orgs"))
                record.write_text(json.dumps(data), encoding="utf-8")
        return made

    @staticmethod
    def usable(settings: Settings) -> bool:
        """Only what lives in the data directory and beside it is copied: not a PostgreSQL
        portal database, not organisations' folders set elsewhere, not a Fabric ledger."""
        return settings.ledger == "local" and not settings.database_url and settings.orgs_dir is None


MEMBERS = [
    ("core", "华东重工", "East China Heavy", "core", "core.clerk"),
    ("tier1", "苏州精密", "Suzhou Precision", "supplier", "tier1.clerk"),
    ("tier2", "无锡电机", "Wuxi Motors", "supplier", "tier2.clerk"),
    ("tier3", "常州铸钢", "Changzhou Steel", "supplier", "tier3.clerk"),
    ("bank", "江南银行", "Jiangnan Bank", "bank", "bank.credit"),
    ("factor", "海河保理", "Haihe Factoring", "bank", "factor.credit"),
]


# What a copied consortium's data directory holds: its actors and credit line, by data directory.
_CONSORTIA: dict[Path, tuple[dict[str, Actor], dict[str, object]]] = {}


def prepared_platform(settings: Settings, request: pytest.FixtureRequest) -> Platform:
    """``setup.init_platform(settings)``; on the embedded ledger a copy of the platform built
    once for the session instead, with the demo consortium in it when the test asks for one."""
    if not Templates.usable(settings):
        return setup.init_platform(settings)
    templates: Templates = request.getfixturevalue("templates")
    if "consortium" in request.fixturenames:
        _CONSORTIA[settings.data_dir] = templates.copy(settings, "consortium", _built_consortium)
    else:
        templates.copy(settings, "platform", lambda made: setup.init_platform(made).close())
    return Platform.open(settings)


def _built_consortium(settings: Settings) -> tuple[dict[str, Actor], dict[str, object]]:
    platform = setup.init_platform(settings)
    try:
        return add_consortium(platform)
    finally:
        platform.close()


def add_consortium(platform: Platform) -> tuple[dict[str, Actor], dict[str, object]]:
    """The demo members, each with a clerk and a card, and the bank's credit line to ``core``.
    On Fabric, where every write waits for its block, the members are made side by side (their
    writes share blocks); on the embedded ledger one after another, in the order of MEMBERS."""

    def member(row: tuple[str, str, str, str, str]) -> Actor:
        member_id, name, name_en, role, username = row
        members.register_member(
            platform, platform.desk(), member_id=member_id, name=name, name_en=name_en, role=role
        )
        return members.add_user(platform, platform.desk(), member_id=member_id, username=username, pin=PIN)

    if platform.ledger.kind == "fabric":
        with concurrent.futures.ThreadPoolExecutor(len(MEMBERS)) as pool:
            made = list(pool.map(member, MEMBERS))
    else:
        made = [member(row) for row in MEMBERS]
    actors = {row[0]: actor for row, actor in zip(MEMBERS, made, strict=True)}
    line = credit.grant_credit_line(
        platform, actors["bank"], core_org_id="core", limit_fen=10_000_000_000, pin=PIN
    )
    line = credit.accept_credit_line(platform, actors["core"], credit_line_id=line["id"], pin=PIN)
    return actors, line


def take_consortium(data_dir: Path) -> tuple[dict[str, Actor], dict[str, object]] | None:
    """The actors and credit line of the consortium copied into ``data_dir``, if one was."""
    return _CONSORTIA.pop(data_dir, None)
