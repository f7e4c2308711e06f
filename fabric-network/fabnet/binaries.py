"""Fabric's binaries: a user's own release (FABRIC_BIN), else the archive in ../shared/fabric
unpacked once into fabric-network/bin/ after its SHA-256 is checked against SHA256SUMS."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import tarfile
from pathlib import Path

from .errors import NetworkError

HERE = Path(__file__).resolve().parent.parent
ARCHIVE_NAME = "fabric-3.1.5-linux-amd64.tar.xz"
TOOLS = ("peer", "orderer", "configtxgen", "osnadmin")


@dataclasses.dataclass(frozen=True)
class Binaries:
    bin_dir: Path
    config_dir: Path  # FABRIC_CFG_PATH: Fabric's sample core.yaml and orderer.yaml, overridden by env

    def tool(self, name: str) -> str:
        return str(self.bin_dir / name)


def default_archive() -> Path:
    """The archive beside the repository (../shared/fabric), or GOLDTICKET_FABRIC_ARCHIVE."""
    configured = os.environ.get("GOLDTICKET_FABRIC_ARCHIVE")
    if configured:
        return Path(configured)
    return HERE.parent.parent / "shared" / "fabric" / ARCHIVE_NAME


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def expected_sums(archive: Path) -> dict[str, str]:
    sums = archive.parent / "SHA256SUMS"
    if not sums.exists():
        raise NetworkError(f"{sums} is missing: cannot check {archive.name}")
    result = {}
    for line in sums.read_text().splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            result[name.strip().lstrip("*")] = digest
    return result


def _check(bin_dir: Path, config_dir: Path) -> Binaries:
    missing = [name for name in TOOLS if not os.access(bin_dir / name, os.X_OK)]
    if missing:
        raise NetworkError(f"{bin_dir} lacks {', '.join(missing)}")
    if not (config_dir / "core.yaml").exists() or not (config_dir / "orderer.yaml").exists():
        raise NetworkError(f"{config_dir} lacks Fabric's core.yaml and orderer.yaml")
    return Binaries(bin_dir, config_dir)


def find_binaries(unpack_dir: Path = HERE / "bin", archive: Path | None = None) -> Binaries:
    """FABRIC_BIN (with FABRIC_CFG_PATH, or its sibling config/), else the shared archive,
    unpacked once. Raises NetworkError saying what to set when neither exists."""
    own = os.environ.get("FABRIC_BIN")
    if own:
        bin_dir = Path(own).resolve()
        config = os.environ.get("FABRIC_CFG_PATH") or str(bin_dir.parent / "config")
        return _check(bin_dir, Path(config).resolve())
    archive = archive or default_archive()
    target = unpack_dir / ARCHIVE_NAME.removesuffix("-linux-amd64.tar.xz")
    if (target / "bin" / "peer").exists():
        return _check(target / "bin", target / "config")
    if not archive.exists():
        raise NetworkError(
            f"no Fabric binaries: set FABRIC_BIN to the bin/ folder of a Fabric 3.1.x release "
            f"(with its config/ beside it, or FABRIC_CFG_PATH), or provide {archive} "
            f"(GOLDTICKET_FABRIC_ARCHIVE names another copy)"
        )
    sums = expected_sums(archive)
    actual = sha256_of(archive)
    if sums.get(archive.name) != actual:
        raise NetworkError(f"{archive} has SHA-256 {actual}, SHA256SUMS says {sums.get(archive.name)}")
    staging = unpack_dir / ".unpacking"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    with tarfile.open(archive) as tar:
        tar.extractall(staging, filter="data")
    unpacked = staging / target.name
    for name, digest in sums.items():
        if name == archive.name:
            continue
        if sha256_of(unpacked / name) != digest:
            raise NetworkError(f"{name} in {archive.name} does not match SHA256SUMS")
    unpacked.rename(target)
    shutil.rmtree(staging, ignore_errors=True)
    return _check(target / "bin", target / "config")
