"""``goldticket certificate``: get a ticket's signed PDF certificate, verify a file, get a
settlement's clearing statement."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from ._common import as_option, authenticated, fail, handles_errors, out, platform, reader_options

# Exit status of ``verify`` by verdict, so that scripts can branch on it.
VERDICT_EXIT = {"valid": 0, "stale": 10, "forged": 11}


@click.group("certificate")
def certificate() -> None:
    """PDF certificates of tickets (signed by the platform, recorded on the ledger)."""


@certificate.command("issue")
@as_option
@click.argument("ticket_id")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="where to write the PDF"
)
@reader_options
@handles_errors
def certificate_issue(username: str, ticket_id: str, output: Path | None, **credentials: Any) -> None:
    """Make, sign and record a certificate of TICKET_ID for its holder or issuer (--as you, with
    your login password or an API token); write the PDF."""
    from goldticket.services import certificates

    with platform() as opened:
        actor = authenticated(opened, username, **credentials)
        issued = certificates.issue_certificate(opened, actor, ticket_id)
    path = output or Path(issued.filename)
    path.write_bytes(issued.pdf)
    out(
        {
            "certificate_id": issued.certificate_id,
            "ticket_id": issued.ticket_id,
            "sha256": issued.sha256,
            "file": str(path),
            "bytes": len(issued.pdf),
        }
    )


@certificate.command("verify")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@handles_errors
def certificate_verify(file: Path) -> None:
    """Check FILE: prints the verdict (valid, stale or forged) with its reasons. Exit status 0
    for valid, 10 for stale, 11 for forged."""
    from goldticket.certificates import MAX_PDF_BYTES
    from goldticket.services import certificates

    try:
        with file.open("rb") as handle:
            data = handle.read(MAX_PDF_BYTES + 1)
    except OSError as error:
        fail("invalid_input", f"cannot read {file}: {error.strerror}")
        return
    with platform() as opened:
        verdict = certificates.verify_certificate(opened, data)
    out(verdict)
    sys.exit(VERDICT_EXIT[verdict["verdict"]])


@certificate.command("statement")
@as_option
@click.argument("root_id")
@click.argument("statement_id")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="where to write the PDF"
)
@reader_options
@handles_errors
def certificate_statement(
    username: str, root_id: str, statement_id: str, output: Path | None, **credentials: Any
) -> None:
    """Write the clearing statement STATEMENT_ID of the settlement of ROOT_ID as a signed PDF
    (--as you, with your login password or an API token)."""
    from goldticket.services import certificates

    with platform() as opened:
        actor = authenticated(opened, username, **credentials)
        data = certificates.statement_pdf(opened, actor, root_id, statement_id)
    path = output or Path(f"statement-{statement_id}.pdf")
    path.write_bytes(data)
    out({"statement_id": statement_id, "file": str(path), "bytes": len(data)})


@certificate.command("signing-certificate")
@handles_errors
def certificate_signing_certificate() -> None:
    """Print the platform's document-signing certificate and the operator CA (PEM)."""
    from goldticket.services import certificates

    with platform() as opened:
        click.echo(certificates.signing_certificates_pem(opened).decode(), nl=False)
