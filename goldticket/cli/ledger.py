"""``goldticket ledger``: the embedded ledger's own checks."""

from __future__ import annotations

import sys

import click

from ._common import fail, handles_errors, out, settings


@click.group("ledger")
def ledger_group() -> None:
    """The embedded ledger (GOLDTICKET_LEDGER=local)."""


@ledger_group.command("verify")
@handles_errors
def ledger_verify() -> None:
    """Re-check the whole chain: block hashes and links, every creator's certificate and
    signature, every endorsement, and a replay of every valid transaction through the chaincode
    compared with the stored read and write sets and world state. Exits 9 naming the first bad
    block."""
    from goldticket.ledger import verify_local_ledger
    from goldticket.signing.keystore import KeyStore

    current = settings()
    if current.ledger != "local":
        fail("invalid_input", "ledger verify checks the embedded ledger; GOLDTICKET_LEDGER is not local")
    trusted = {msp_id: ca.certificate_pem for msp_id, ca in KeyStore(current.data_dir).cas().items()}
    report = verify_local_ledger(current.data_dir, trusted or None)
    out(report.as_dict())
    if not report.ok:
        click.echo(
            f"error: ledger_invalid: first bad block {report.first_bad_block}: {report.reason}", err=True
        )
        sys.exit(9)
