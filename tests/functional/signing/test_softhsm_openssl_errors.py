"""SoftHSM2's C_Initialize leaves an OpenSSL error (NO_SUCH_ENGINE: it asks for the GOST engine)
on the calling thread's error queue, and libcrypto is the one Python's ssl module uses: that
thread's next TLS handshake then failed with the stale error ("TLS handshake failed:
NO_SUCH_ENGINE" on the signing gateway, once a thread had switched the module to another token
directory, as a CA token in an organisation's folder makes it). The module clears the queue
after every (re)initialisation."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest

from goldticket.signing import OrgCA
from goldticket.signing.cards.pkcs11 import Pkcs11CardFactory, default_module_path
from goldticket.signing.transport import client_context, issue_tls_files, server_context

MODULE = default_module_path()
pytestmark = pytest.mark.skipif(MODULE is None, reason="SoftHSM2 is not installed")


def test_a_thread_that_switched_token_directories_still_shakes_hands(tmp_path: Path) -> None:
    issue_tls_files(OrgCA.create("OperatorMSP", "Operator"), tmp_path / "tls")
    server = server_context(tmp_path / "tls")  # mutual TLS, as the signing gateway's
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        try:
            connection, _ = listener.accept()
            # a socket with a timeout, as the gateway's: OpenSSL's SSL_get_error reads the
            # thread's error queue first, so a stale error turned a WANT_READ into a failure
            connection.settimeout(10)
            with server.wrap_socket(connection, server_side=True) as tls:
                tls.sendall(tls.recv(5))  # the first request on a kept connection
                # a card of another token directory signs in this thread: the module
                # initialises again here
                for name in ("one", "two"):
                    Pkcs11CardFactory(MODULE, token_dir=tmp_path / name / "tokens").card("none").exists()  # type: ignore[arg-type]
                tls.sendall(tls.recv(5))  # the next request on the same connection
        except Exception as error:  # noqa: BLE001 - the test reports it
            outcome.append(error)

    outcome: list[object] = []
    serving = threading.Thread(target=serve, daemon=True)
    serving.start()

    def client() -> None:
        try:
            context = client_context(tmp_path / "tls")
            with (
                socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
                context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
            ):
                for word in (b"hello", b"again"):
                    tls.sendall(word)
                    outcome.append(tls.recv(5))
        except Exception as error:  # noqa: BLE001 - the test reports it
            outcome.append(error)

    thread = threading.Thread(target=client)
    thread.start()
    thread.join(30)
    serving.join(10)
    listener.close()
    assert outcome == [b"hello", b"again"], outcome
