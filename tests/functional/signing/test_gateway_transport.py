"""The gateway's transport: a Unix socket only its owner may use, or mutual TLS with the
operator CA's certificates; never plain HTTP beyond loopback."""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import ssl
import stat
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from support import PIN, free_port

from goldticket.services import Platform, transfers
from goldticket.signing.ca import OrgCA
from goldticket.signing.client import GatewayClient
from goldticket.signing.errors import GatewayUnavailableError, UnauthenticatedError
from goldticket.signing.gateway import GatewayServer, UnixGatewayServer
from goldticket.signing.transport import TransportError, client_context, issue_tls_files, server_context

pytestmark = pytest.mark.functional
SECRET = "a deployment secret of some length"


@pytest.fixture
def short_dir():
    """A directory with a short path (a Unix socket's path holds at most 107 bytes)."""
    with tempfile.TemporaryDirectory(prefix="gt") as directory:
        yield Path(directory)


def remote(consortium, url: str, tls_dir: Path | None = None) -> Platform:
    return Platform(
        dataclasses.replace(
            consortium.platform.settings, signer_url=url, signer_secret=SECRET, signer_tls_dir=tls_dir
        ),
        consortium.platform.ledger,
        consortium.platform.keystore,
        consortium.platform.cards,
    )


def serve(server):
    server.start_in_thread()
    return server


def stop(server) -> None:
    server.shutdown()
    server.server_close()


def test_a_relative_socket_path_gives_an_absolute_url(consortium, short_dir, monkeypatch):
    monkeypatch.chdir(short_dir)
    server = serve(UnixGatewayServer(Path("signer.sock"), consortium.platform.cards.service, SECRET.encode()))
    try:
        assert (
            server.url == f"unix://{short_dir.resolve() / 'signer.sock'}"
            or server.url == f"unix://{short_dir / 'signer.sock'}"
        )
        identity = GatewayClient(server.url, SECRET).identity(
            consortium.platform.cards.registry.active_card(consortium.tier1.username).serial
        )
        assert identity.msp_id == "OperatorMSP"
    finally:
        stop(server)


def test_the_unix_socket_is_the_owner_s_alone_whatever_the_umask(consortium, issued_ticket, short_dir):
    path = short_dir / "signer.sock"
    old = os.umask(0)
    try:
        server = serve(UnixGatewayServer(path, consortium.platform.cards.service, SECRET.encode()))
    finally:
        os.umask(old)
    try:
        assert stat.S_ISSOCK(path.stat().st_mode) and stat.S_IMODE(path.stat().st_mode) == 0o600
        assert server.url == f"unix://{path}"
        platform = remote(consortium, server.url)
        offer = transfers.offer_transfer(
            platform,
            consortium.tier1,
            ticket_id=issued_ticket["id"],
            to_org_id="tier2",
            amount_fen=500,
            pin=PIN,
        )
        assert transfers.accept_offer(platform, consortium.tier2, offer["offer_id"], pin=PIN)["transferred"]
        with pytest.raises(TransportError, match="already listens"):
            UnixGatewayServer(path, consortium.platform.cards.service, SECRET.encode())
    finally:
        stop(server)
    assert not path.exists()
    with pytest.raises(GatewayUnavailableError):
        GatewayClient(f"unix://{path}", SECRET).identity("BS0000000000000000")


def test_a_stale_socket_is_replaced_and_a_file_is_not(consortium, short_dir):
    path = short_dir / "signer.sock"
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(path))
    stale.close()  # the file stays, nobody listens
    server = serve(UnixGatewayServer(path, consortium.platform.cards.service, SECRET.encode()))
    stop(server)
    path.write_text("not a socket")
    with pytest.raises(TransportError, match="not a socket"):
        UnixGatewayServer(path, consortium.platform.cards.service, SECRET.encode())


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.1", "gateway.example"])
def test_plain_http_beyond_loopback_is_refused(consortium, host):
    with pytest.raises(TransportError, match="only with mutual TLS"):
        GatewayServer((host, 0), consortium.platform.cards.service, SECRET.encode())


def test_mutual_tls_with_the_operator_ca(consortium, issued_ticket, tmp_path):
    tls_dir = tmp_path / "tls"
    issue_tls_files(consortium.platform.keystore.cas()["OperatorMSP"], tls_dir)
    assert stat.S_IMODE(tls_dir.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in tls_dir.iterdir())
    server = serve(
        GatewayServer(
            ("127.0.0.1", 0), consortium.platform.cards.service, SECRET.encode(), tls=server_context(tls_dir)
        )
    )
    try:
        assert server.url.startswith("https://127.0.0.1:")
        platform = remote(consortium, server.url, tls_dir)
        offer = transfers.offer_transfer(
            platform,
            consortium.tier1,
            ticket_id=issued_ticket["id"],
            to_org_id="tier2",
            amount_fen=500,
            pin=PIN,
        )
        assert offer["offer_id"]
        port = server.server_address[1]
        # no client certificate: the handshake fails
        anonymous = ssl.create_default_context(cafile=str(tls_dir / "ca.pem"))
        with pytest.raises((urllib.error.URLError, ssl.SSLError, ConnectionError)):
            urllib.request.urlopen(f"https://127.0.0.1:{port}/healthz", context=anonymous, timeout=5)
        audit = consortium.platform.settings.data_dir / "cards" / "audit.jsonl"
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and "TLS handshake failed" not in audit.read_text():
            time.sleep(0.05)
        last = json.loads(audit.read_text().splitlines()[-1])["entry"]
        assert (last["result"], last["code"]) == ("refused", "unauthenticated")
        assert last["reason"].startswith("TLS handshake failed")
        # a certificate of another CA: the handshake fails
        foreign = tmp_path / "foreign"
        issue_tls_files(OrgCA.create("OperatorMSP", "Impostor"), foreign)
        with pytest.raises(GatewayUnavailableError):
            GatewayClient(server.url, SECRET, tls_dir=foreign).identity("BS0000000000000000")
        # a certificate of our CA that is not the gateway client's (a member's TLS pair)
        member = tmp_path / "member"
        issue_tls_files(consortium.platform.keystore.cas()["OperatorMSP"], member)
        (member / "client.pem").write_bytes((member / "server.pem").read_bytes())
        (member / "client.key").write_bytes((member / "server.key").read_bytes())
        with pytest.raises(UnauthenticatedError, match="client certificate"):
            GatewayClient(server.url, SECRET, tls_dir=member).identity("BS0000000000000000")
        # plain HTTP to the TLS port gets nothing
        with pytest.raises(GatewayUnavailableError):
            GatewayClient(f"http://127.0.0.1:{port}", SECRET).identity("BS0000000000000000")
    finally:
        stop(server)
    assert client_context(tls_dir)


def test_https_needs_the_tls_files_and_urls_need_a_known_scheme(tmp_path):
    with pytest.raises(TransportError, match="TLS files"):
        GatewayClient("https://127.0.0.1:8700", SECRET)
    with pytest.raises(TransportError, match="signer tls"):
        GatewayClient("https://127.0.0.1:8700", SECRET, tls_dir=tmp_path)
    with pytest.raises(TransportError, match="must be unix"):
        GatewayClient("ftp://127.0.0.1:8700", SECRET)


def test_the_cli_refuses_plain_http_beyond_loopback(consortium):
    import subprocess
    import sys

    settings = consortium.platform.settings
    env = {
        **os.environ,
        "GOLDTICKET_DATA_DIR": str(settings.data_dir),
        "GOLDTICKET_ENV": settings.env,
        "GOLDTICKET_CARD_BACKEND": settings.card_backend,
    }
    result = subprocess.run(
        [sys.executable, "-m", "goldticket.cli", "signer", "serve", "--host", "0.0.0.0", "--port", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0 and "only with mutual TLS" in result.stderr


# ------------------------------------------------------------------ kept connections
def _ask(client: GatewayClient, serial: str) -> str:
    """A request that always reaches the gateway (identity() is remembered by the client)."""
    return str(client._call("GET", f"/v1/cards/{serial}/identity")["msp_id"])


@pytest.mark.parametrize("transport", ["unix", "tls"])
def test_a_thread_keeps_its_connection_and_a_stopped_gateway_serves_it_no_more(
    consortium, short_dir, transport
):
    """#22: one connection per calling thread carries its requests (no connect, no server
    thread per signature); closing the gateway closes the connections callers keep, so a
    stopped gateway answers nothing more; one started again is reached on a new connection."""
    serial = consortium.platform.cards.registry.active_card(consortium.tier1.username).serial
    service = consortium.platform.cards.service

    def start():
        if transport == "unix":
            return serve(UnixGatewayServer(short_dir / "signer.sock", service, SECRET.encode()))
        return serve(GatewayServer(("127.0.0.1", port), service, SECRET.encode(), tls=server_context(tls)))

    tls = short_dir / "tls"
    issue_tls_files(OrgCA.create("OperatorMSP", "Operator"), tls)
    port = free_port()
    server = start()
    client = GatewayClient(server.url, SECRET, tls_dir=tls if transport == "tls" else None)
    try:
        assert [_ask(client, serial) for _ in range(5)] == ["OperatorMSP"] * 5
        assert len(server._open) == 1  # five requests, one connection
        other = []
        worker = threading.Thread(target=lambda: other.append(_ask(client, serial)))
        worker.start()
        worker.join()
        assert other == ["OperatorMSP"]
        stop(server)
        with pytest.raises(GatewayUnavailableError):
            _ask(client, serial)  # the kept connection was closed with the gateway
        server = start()
        assert _ask(client, serial) == "OperatorMSP"
        restarted = server
        server = None
        stop(restarted)
        server = start()  # a gateway restarted under a kept connection: sent again once
        assert _ask(client, serial) == "OperatorMSP"
    finally:
        client.close()
        if server is not None:
            stop(server)
