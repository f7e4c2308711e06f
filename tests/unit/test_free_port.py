"""The tests' free port lies below the kernel's ephemeral range, where no bind to port 0 and no
outgoing connection can take it before the server that was given it binds it (CI: a signing
gateway on ``--port 0`` took a portal's port)."""

from __future__ import annotations

import socket

from support import PORT_SPAN, ephemeral_ports, free_port


def test_the_port_is_free_and_below_the_ephemeral_range() -> None:
    low = ephemeral_ports().start
    for _ in range(50):
        port = free_port()
        assert low - PORT_SPAN <= port < low
        with socket.socket() as server:
            server.bind(("127.0.0.1", port))  # free when it was given


def test_a_port_that_is_taken_is_never_given() -> None:
    taken = []
    try:
        low = ephemeral_ports().start
        for port in range(low - PORT_SPAN, low, 2):  # every other port of the span held
            held = socket.socket()
            try:
                held.bind(("127.0.0.1", port))
            except OSError:
                held.close()
                continue
            taken.append(held)
        held_ports = {sock.getsockname()[1] for sock in taken}
        for _ in range(50):
            assert free_port() not in held_ports
    finally:
        for sock in taken:
            sock.close()
