"""How the signing gateway is reached.

By default it listens on a Unix socket ``<data dir>/signer.sock`` (mode 0600: only the
deployment's own user may connect). Over TCP it speaks mutual TLS with certificates from the
operator's organisation CA (``goldticket signer tls``): the gateway presents ``server.pem``, the
caller ``client.pem``, each checks the other against ``ca.pem``, and the gateway accepts only a
client certificate named :data:`CLIENT_CN`. Plain HTTP is allowed on loopback only (tests and a
single machine); the gateway refuses to listen beyond loopback without TLS.

``GOLDTICKET_SIGNER_URL`` names it as ``unix:///path/signer.sock``, ``https://host:port`` (the
TLS files in ``GOLDTICKET_SIGNER_TLS_DIR``, default ``<data dir>/signer-tls``) or
``http://127.0.0.1:port``.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import ssl
import stat
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from .ca import OrgCA, new_member_key
from .errors import SigningError

SOCKET_NAME = "signer.sock"
TLS_DIR_NAME = "signer-tls"
SERVER_CN = "goldticket-signer"
CLIENT_CN = "goldticket-signer-client"
MAX_SOCKET_PATH = 107  # sun_path holds 108 bytes with the terminating NUL


class TransportError(SigningError):
    """The gateway cannot listen or be reached the way it was asked to."""

    code = "invalid_input"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_plain_tcp(host: str) -> None:
    """Refuse plain HTTP beyond loopback."""
    if not is_loopback(host):
        raise TransportError(
            f"the signing gateway listens on {host} only with mutual TLS (--tls DIR); "
            "plain HTTP is for loopback (127.0.0.1) or use its Unix socket"
        )


def issue_tls_files(ca: OrgCA, directory: Path, hosts: tuple[str, ...] = ("localhost", "127.0.0.1")) -> None:
    """Write ca.pem, server.pem/server.key and client.pem/client.key into ``directory`` (0700;
    files 0600), the certificates issued by ``ca`` (the operator's organisation CA)."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(directory, 0o700)
    _write_private(directory / "ca.pem", ca.certificate_pem)
    for name, common_name in (("server", SERVER_CN), ("client", CLIENT_CN)):
        key = new_member_key()
        certificate = ca.issue_tls(key.public_key(), common_name=common_name, hosts=hosts)
        key_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        _write_private(directory / f"{name}.key", key_pem)
        _write_private(directory / f"{name}.pem", certificate)


def server_context(directory: Path) -> ssl.SSLContext:
    """The gateway's side of mutual TLS: its certificate, and a client certificate required."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    _load(context, directory, "server")
    context.verify_mode = ssl.CERT_REQUIRED
    return context


def client_context(directory: Path) -> ssl.SSLContext:
    """The caller's side: the gateway's certificate checked against ca.pem, ours presented."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    _load(context, directory, "client")
    return context


def peer_is_client(peer_certificate: dict[str, object] | None) -> bool:
    """Whether a verified peer certificate is the gateway client's (by its common name)."""
    if not peer_certificate:
        return False
    subject = peer_certificate.get("subject") or ()
    names = [value for rdn in subject for key, value in rdn if key == "commonName"]  # type: ignore[attr-defined]
    return names == [CLIENT_CN]


def bind_unix_socket(path: Path) -> socket.socket:
    """A listening Unix socket at ``path``, mode 0600 from the start whatever the umask.
    Replaces a stale socket file; refuses when another gateway answers there."""
    if len(os.fsencode(path)) > MAX_SOCKET_PATH:
        raise TransportError(f"the socket path {path} is longer than {MAX_SOCKET_PATH} bytes")
    if path.exists() or path.is_symlink():
        if not stat.S_ISSOCK(path.lstat().st_mode):
            raise TransportError(f"{path} exists and is not a socket")
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            try:
                probe.connect(str(path))
            except OSError:
                path.unlink()
            else:
                raise TransportError(f"a signing gateway already listens on {path}")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)
    try:
        listener.bind(str(path))
    except OSError:
        listener.close()
        raise
    finally:
        os.umask(old)
    os.chmod(path, 0o600)
    listener.listen(64)
    return listener


def _load(context: ssl.SSLContext, directory: Path, name: str) -> None:
    try:
        context.load_cert_chain(directory / f"{name}.pem", directory / f"{name}.key")
        context.load_verify_locations(cafile=directory / "ca.pem")
    except (OSError, ssl.SSLError) as error:
        raise TransportError(
            f"no usable TLS files for the signing gateway in {directory} (run `goldticket signer tls`)"
        ) from error


def _write_private(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
