"""The library's logging set-up is undone; these fail if fabric-chaincode-python changes it."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.unit

PROBE = """
import logging, sys
{imports}
root = logging.getLogger()
print(logging.getLevelName(root.level), len(root.handlers), logging.getLevelName(logging.getLogger("asyncio").level))
"""


def probe(imports: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(imports=imports)], capture_output=True, text=True, check=True
    )
    return result.stdout.split()


def test_the_library_alone_configures_root_logging_at_debug():
    """If this fails, the library stopped touching root logging and shim_fixes can go."""
    assert probe("import fabric_chaincode_python.fabric_shim.logging") == ["DEBUG", "1", "NOTSET"]


def test_importing_our_chaincode_leaves_root_logging_alone():
    assert probe("import chaincode") == ["WARNING", "0", "WARNING"]


def test_the_embedded_ledger_does_not_turn_on_debug_logging():
    assert probe("import goldticket.ledger.local.peer") == ["WARNING", "0", "WARNING"]
