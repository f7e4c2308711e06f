"""``goldticket signer``: the signing gateway and its audit log."""

from __future__ import annotations

import sys

import click

from ._common import handles_errors, out, settings


@click.group()
def signer() -> None:
    """The signing gateway."""


@signer.command("serve")
@click.option(
    "--socket",
    "socket_path",
    type=click.Path(),
    default=None,
    help="Unix socket (default <data>/signer.sock)",
)
@click.option("--host", default=None, help="listen on TCP (127.0.0.1 unless --tls)")
@click.option("--port", type=int, default=None, help="TCP port (0: any free port)")
@click.option(
    "--tls", "tls_dir", type=click.Path(), default=None, help="mutual TLS with the files `signer tls` wrote"
)
@click.option(
    "--metrics-port",
    type=int,
    default=None,
    envvar="GOLDTICKET_SIGNER_METRICS_PORT",
    help="also serve Prometheus metrics on 127.0.0.1:PORT (no secret there; none by default)",
)
@handles_errors
def signer_serve(
    socket_path: str | None, host: str | None, port: int | None, tls_dir: str | None, metrics_port: int | None
) -> None:
    """Serve the cards of this data directory to callers holding the deployment secret: on a
    Unix socket by default; on TCP with --port (plain HTTP on loopback only, else --tls).
    --metrics-port: signatures, refusals and locked cards for Prometheus on loopback."""
    from pathlib import Path

    from goldticket.services.signing_setup import Cards
    from goldticket.signing.gateway import GatewayServer, UnixGatewayServer
    from goldticket.signing.keystore import KeyStore
    from goldticket.signing.transport import SOCKET_NAME, TransportError, server_context

    current = settings()
    secret = (current.signer_secret or KeyStore(current.data_dir).signer_secret()).encode()
    service = Cards.open(current).service
    server: GatewayServer | UnixGatewayServer
    if port is None and host is None and tls_dir is None:
        server = UnixGatewayServer(
            Path(socket_path) if socket_path else current.data_dir / SOCKET_NAME, service, secret
        )
    else:
        if socket_path:
            raise TransportError("--socket and --host/--port/--tls exclude each other")
        tls = server_context(Path(tls_dir)) if tls_dir else None
        server = GatewayServer(
            (host or "127.0.0.1", 8700 if port is None else port), service, secret, tls=tls
        )
    click.echo(f"signing gateway on {server.url}", err=True)
    if metrics_port is not None:
        from prometheus_client import start_http_server

        from goldticket.signing import metrics

        start_http_server(metrics_port, addr="127.0.0.1", registry=metrics.registry_for(service.registry))
        click.echo(f"signing gateway metrics on http://127.0.0.1:{metrics_port}/metrics", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@signer.command("tls")
@click.option("--host", "hosts", multiple=True, default=("localhost", "127.0.0.1"), show_default=True)
@handles_errors
def signer_tls(hosts: tuple[str, ...]) -> None:
    """Issue the gateway's mutual-TLS certificates from the operator's CA into
    GOLDTICKET_SIGNER_TLS_DIR (default <data>/signer-tls): ca.pem, server.*, client.*."""
    from goldticket.signing.keystore import KeyStore
    from goldticket.signing.transport import issue_tls_files

    current = settings()
    cas = KeyStore(current.data_dir).cas()
    if "OperatorMSP" not in cas:
        raise click.ClickException(f"{current.data_dir} is not initialised; run `goldticket init`")
    issue_tls_files(cas["OperatorMSP"], current.signer_tls_path, tuple(hosts))
    out({"tls_dir": str(current.signer_tls_path), "hosts": list(hosts)})


@signer.command("verify-audit")
@handles_errors
def signer_verify_audit() -> None:
    """Check the audit log's hash chain."""
    from goldticket.signing.audit import verify

    result = verify(settings().data_dir / "cards" / "audit.jsonl")
    out(
        {
            "ok": result.ok,
            "entries": result.entries,
            "first_bad_line": result.first_bad_line,
            "reason": result.reason,
        }
    )
    if not result.ok:
        sys.exit(9)
