"""Constants and helpers shared by the tests (fixtures live in conftest.py)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import random
import socket
import sys
from pathlib import Path

from goldticket.services import Platform

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fabric-network"))
from fabnet.nodes import ephemeral_ports  # noqa: E402  the range the Fabric network's ports avoid too

TODAY = dt.date(2026, 12, 1)
PIN = "135790"
OPERATOR_PIN = "246810"
OPERATOR_PASSWORD = "operator desk password"


def on(platform: Platform, day: dt.date) -> Platform:
    """The same platform with its clock set to ``day`` (GOLDTICKET_TODAY in dev and test)."""
    return Platform(
        dataclasses.replace(platform.settings, today=day), platform.ledger, platform.keystore, platform.cards
    )


def invoice(number: str, amount_fen: int) -> dict[str, object]:
    return {"number": number, "amount_fen": amount_fen, "sha256": hashlib.sha256(number.encode()).hexdigest()}


def replace_card(
    platform: Platform, serial: str, pin: str, operator_password: str = OPERATOR_PASSWORD
) -> dict:
    """补卡 both halves: the desk starts it with the operator password, the card's user finishes
    it with their PIN."""
    from goldticket.services import cards

    started = cards.replace_card(platform, platform.desk(), serial, operator_password=operator_password)
    owner = platform.actor(platform.cards.registry.get(serial).username)
    return cards.recover_card(platform, owner, started["serial"], pin)


def register(
    platform: Platform, banker, application_id: str, pin: str = PIN, number: str | None = None
) -> dict:
    """#21: the bank records a registration (中登网) for ``application_id`` dated the platform's
    today, as it must before it approves."""
    from goldticket.services import registration

    return registration.record_registration(
        platform,
        banker,
        application_id=application_id,
        registration_number=number or f"ZD-{application_id}",
        registered_on=platform.today(),
        pin=pin,
    )


PORT_SPAN = 4000  # the ports tried lie in the span just below the kernel's ephemeral range


def free_port(host: str = "127.0.0.1") -> int:
    """A free port for a server that another process will bind later, drawn below the kernel's
    ephemeral range (net.ipv4.ip_local_port_range; 32768-60999 by default). The kernel hands
    out ports from that range to every bind to port 0 and every outgoing connection, so a port
    found free there can be taken before the server binds it. In CI a signing gateway started
    with ``--port 0`` took a portal's port and answered its health check. Fabric networks of the
    tests use port bases from 10,000 to 26,190, below this span."""
    low = ephemeral_ports().start
    for _ in range(200):
        port = random.randrange(max(1024, low - PORT_SPAN), low)
        with socket.socket() as probe:
            try:
                probe.bind((host, port))
            except OSError:
                continue
        return port
    raise RuntimeError(f"no free port on {host} below {low}")
