"""Scenario fixtures: every scenario runs twice, signing in-process and through a real signing
gateway process (``goldticket signer serve``) over HTTP."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from templates import prepared_platform

from goldticket.services import Platform
from goldticket.settings import Settings


@pytest.fixture(params=["in-process", "gateway"])
def platform(settings: Settings, request: pytest.FixtureRequest) -> Iterator[Platform]:
    platform = prepared_platform(settings, request)
    if request.param == "in-process":
        yield platform
        platform.close()
        return
    secret = platform.keystore.signer_secret()
    env = {
        **os.environ,
        "GOLDTICKET_DATA_DIR": str(settings.data_dir),
        "GOLDTICKET_CARD_BACKEND": settings.card_backend,
        "GOLDTICKET_CARD_KDF_N": str(settings.card_kdf_n),
        "GOLDTICKET_SIGNER_SECRET": secret,
        "GOLDTICKET_ENV": settings.env,
        "GOLDTICKET_CHANNEL": settings.channel,
        "GOLDTICKET_CHAINCODE": settings.chaincode,
        "GOLDTICKET_SIGNER_RATE": str(settings.signer_rate),
        # the cards here open through the operator's PIN key (docs/backup.md)
        "GOLDTICKET_OPERATOR_PASSWORD": settings.operator_password,
    }
    gateway = subprocess.Popen(
        [sys.executable, "-m", "goldticket.cli", "signer", "serve", "--port", "0"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = gateway.stderr.readline() if gateway.stderr else ""
        if "signing gateway on " not in line:
            raise RuntimeError(f"the signing gateway did not start: {line}")
        url = line.strip().rsplit(" ", 1)[-1]
        remote = Platform(
            dataclasses.replace(settings, signer_url=url, signer_secret=secret),
            platform.ledger,
            platform.keystore,
            platform.cards,
        )
        yield remote
    finally:
        gateway.terminate()
        gateway.wait(timeout=10)
        if gateway.stderr:
            gateway.stderr.close()
        platform.close()
