"""bench/fabric_throughput.py --network DATA_DIR measures the network that is up there, as
`make network-up` laid it out from the environment: its port base (GOLDTICKET_FABRIC_PORT_BASE),
its raft cluster (ORDERERS) and its directory (GOLDTICKET_FABRIC_DIR), not the defaults."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]


def load_bench():  # type: ignore[no-untyped-def]
    sys.path.insert(0, str(REPOSITORY / "bench"))
    try:
        spec = importlib.util.spec_from_file_location(
            "bench_fabric_throughput", REPOSITORY / "bench" / "fabric_throughput.py"
        )
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # its dataclasses look their module up
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(REPOSITORY / "bench"))


def test_the_network_layout_follows_the_environment(tmp_path: Path) -> None:
    bench = load_bench()
    environ = {
        "GOLDTICKET_FABRIC_PORT_BASE": "27050",
        "ORDERERS": "3",
        "GOLDTICKET_FABRIC_DIR": str(tmp_path / "fabric-elsewhere"),
        "GOLDTICKET_DATA_DIR": str(tmp_path / "not-this-one"),
    }
    layout = bench.network_layout(str(tmp_path / "data"), environ)
    assert layout.data_dir == (tmp_path / "data").resolve()
    assert layout.root == (tmp_path / "fabric-elsewhere").resolve()
    assert [orderer.port for orderer in layout.orderers] == [27050, 27051, 27052]
    assert layout.peers[0].port == 27150


def test_without_those_variables_the_network_is_the_default_one(tmp_path: Path) -> None:
    layout = load_bench().network_layout(str(tmp_path / "data"), {})
    assert layout.root == (tmp_path / "data" / "fabric").resolve()
    assert [orderer.port for orderer in layout.orderers] == [7050]
