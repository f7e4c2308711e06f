"""``goldticket signer``: the signing gateway and its audit log."""

from __future__ import annotations

import sys

import click

from ._common import handles_errors, out, settings


@click.group()
def signer() -> None:
    """The signing gateway."""


@signer.command("serve")
@click.option("--host", default="127.0.0.1")
@click.option("--port", type=int, default=8700)
@handles_errors
def signer_serve(host: str, port: int) -> None:
    """Serve the cards of this data directory to callers holding the deployment secret."""
    from goldticket.services.keystore import KeyStore
    from goldticket.services.platform import Cards
    from goldticket.signing.gateway import GatewayServer

    current = settings()
    secret = current.signer_secret or KeyStore(current.data_dir).signer_secret()
    server = GatewayServer((host, port), Cards.open(current).service, secret.encode())
    click.echo(f"signing gateway on {server.url}", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


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
