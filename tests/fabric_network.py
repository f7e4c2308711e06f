"""A Fabric network for the tests that run with ``--ledger fabric``.

GOLDTICKET_TEST_NETWORK names the data directory of a network that is already up (``.ci/run``
brings one up with ``make network-up``); otherwise the session brings up its own in a temporary
folder on ports from 17050 (GOLDTICKET_TEST_PORT_BASE to run two sessions side by side) and
cleans it at the end. Each test gets a fresh chaincode
definition of the same package on the shared channel, so its world state starts empty, and a
data directory holding the network's organisation CAs.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY / "fabric-network"))

from fabnet import binaries, lifecycle, network, probe  # noqa: E402
from fabnet.layout import Layout  # noqa: E402

TEST_PORT_BASE = int(os.environ.get("GOLDTICKET_TEST_PORT_BASE") or 17050)


@dataclasses.dataclass
class TestNetwork:
    layout: Layout
    package_id: str

    def fresh_chaincode(self) -> str:
        """Approve and commit a new chaincode name on the channel; returns it once a
        transaction has committed through the Gateway with it."""
        name = f"t{secrets.token_hex(5)}"
        fabric = binaries.find_binaries()
        network.deploy_chaincode(self.layout, fabric, name, self.package_id)
        probe.ping(self.layout, chaincode=name)
        return name

    def data_dir(self, path: Path) -> Path:
        """A new data directory under ``path`` that holds the network's organisation CAs."""
        shutil.copytree(self.layout.data_dir / "msp", path / "msp")
        return path


def start(tmp_root: Path) -> Iterator[TestNetwork]:
    existing = os.environ.get("GOLDTICKET_TEST_NETWORK")
    if existing:
        environ = {**os.environ, "GOLDTICKET_DATA_DIR": existing}
        layout = network.with_recorded_mode(Layout.from_env(environ), environ)
        yield TestNetwork(layout, lifecycle.package_id(layout, binaries.find_binaries()))
        return
    environ = {
        "GOLDTICKET_DATA_DIR": str(tmp_root / "network-data"),
        "GOLDTICKET_ENV": "test",
        "GOLDTICKET_FABRIC_PORT_BASE": str(TEST_PORT_BASE),
        "GOLDTICKET_FABRIC_BATCH_TIMEOUT": "100ms",
        "ORDERERS": "3",
    }
    layout = Layout.from_env(environ)
    try:
        network.up(layout, say=lambda _: None, probe=lambda lay: probe.ping(lay) and None)
        yield TestNetwork(layout, lifecycle.package_id(layout, binaries.find_binaries()))
    finally:
        network.down(layout, say=lambda _: None)
        if layout.logs.exists():  # kept with pytest's temporary folders for a post-mortem
            shutil.copytree(layout.logs, tmp_root / "logs", dirs_exist_ok=True)
        network.clean(layout, say=lambda _: None)
