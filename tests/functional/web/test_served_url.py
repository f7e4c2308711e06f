"""`goldticket serve` on a port other than 8000, with GOLDTICKET_PUBLIC_URL unset: the QR code
and link in the certificates it signs name the port it serves on (they named :8000, where
nothing answers), and once its first page answers it says where the portal is."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import time
from pathlib import Path

import pytest
from liveserver import Server, build_consortium, request, server_env
from pypdf import PdfReader
from support import PIN, TODAY

from goldticket.services import setup, tickets
from goldticket.settings import Settings

pytestmark = [pytest.mark.functional, pytest.mark.slow]


def _held_ticket(env: dict[str, str]) -> str:
    """A ticket the core issued and tier1 accepted (tier1 may certify it)."""
    portal = setup.init_portal(Settings.from_env(env))
    try:
        platform = portal.platform
        invoice = {
            "number": "INV-URL-1",
            "amount_fen": 10_000,
            "sha256": hashlib.sha256(b"INV-URL-1").hexdigest(),
        }
        ticket = tickets.issue_ticket(
            platform,
            platform.actor("core.clerk"),
            payee_org_id="tier1",
            amount_fen=10_000,
            maturity_date=TODAY + dt.timedelta(days=30),
            invoices=[invoice],
            pin=PIN,
        )
        tickets.accept_ticket(platform, platform.actor("tier1.clerk"), ticket["id"], pin=PIN)
        portal.follower.catch_up()
        return str(ticket["id"])
    finally:
        portal.close()


def test_the_certificates_link_follows_the_served_port(tmp_path: Path):
    env = server_env(tmp_path / "var")
    for name in ("GOLDTICKET_PUBLIC_URL", "GOLDTICKET_HOST", "GOLDTICKET_PORT"):
        env.pop(name, None)
    build_consortium(env)
    ticket_id = _held_ticket(env)
    log = tmp_path / "serve.log"
    with Server(env, log) as server:
        assert server.port != 8000
        token = server.token("tier1.clerk")
        status, headers, pdf = request(
            f"{server.url}/api/v1/tickets/{ticket_id}/certificate",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert status == 200, pdf[:500]
        text = re.sub(r"\s+", "", "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages))
        certificate_id = headers["X-Certificate-Id"]
        assert f"http://127.0.0.1:{server.port}/verify/{certificate_id}" in text
        assert "127.0.0.1:8000" not in text
        deadline = time.monotonic() + 10
        while "GoldTicket is ready" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert f"GoldTicket is ready: the portal at http://127.0.0.1:{server.port}/" in log.read_text()
