"""Integration tests run against a real Fabric network (``--ledger fabric``) and are skipped
otherwise. The network comes from the session's ``fabric_network`` fixture."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fabric-network"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--ledger") == "fabric":
        return
    skip = pytest.mark.skip(reason="needs a Fabric network: run with --ledger fabric")
    for item in items:
        if "tests/integration/" in str(item.fspath):
            item.add_marker(skip)
