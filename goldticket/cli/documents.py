"""``goldticket document``: the documents signed by a member's card (#21), downloaded and
verified by a member of the ticket's path: the issuer's payment commitment (付款承诺函, of a
ticket), a transfer's assignment agreement (债权转让协议) and notice to the debtor (债权转让通知,
of an offer) and a financing's assignment to the bank (融资转让协议, of an application)."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import Any

import click

from ._common import as_option, authenticated, fail, handles_errors, out, platform, reader_options

# KIND: what the ID names and the service's document kind
KINDS = {
    "commitment": ("ticket", "payment_commitment"),
    "agreement": ("offer", "assignment_agreement"),
    "notice": ("offer", "assignment_notice"),
    "assignment": ("application", "financing_assignment"),
}
# Exit status of ``verify`` by verdict (as ``certificate verify``'s), so that scripts can branch on it.
VERDICT_EXIT = {"valid": 0, "forged": 11}
KIND_HELP = (
    "KIND is commitment (ID: a ticket id), agreement or notice (ID: an offer id) or assignment "
    "(ID: a financing application id)."
)


@click.group("document")
def document() -> None:
    """Documents signed by members' cards (#21): download and verify, for the ticket's path."""


def _download(opened: Any, actor: Any, kind: str, object_id: str) -> tuple[bytes, str]:
    from goldticket.services import signed_documents

    what, service_kind = KINDS[kind]
    if what == "ticket":
        return signed_documents.download(opened, actor, object_id, service_kind)
    if what == "offer":
        return signed_documents.download_offer_document(opened, actor, object_id, service_kind)
    return signed_documents.download_financing_assignment(opened, actor, object_id)


def _verify(opened: Any, actor: Any, kind: str, object_id: str, data: bytes) -> dict[str, Any]:
    from goldticket.services import signed_documents

    what, service_kind = KINDS[kind]
    if what == "ticket":
        return signed_documents.verify(opened, actor, object_id, service_kind, data)
    if what == "offer":
        return signed_documents.verify_offer_document(opened, actor, object_id, service_kind, data)
    return signed_documents.verify_financing_assignment(opened, actor, object_id, data)


KIND_ARGUMENT = click.argument("kind", type=click.Choice(sorted(KINDS)))


@document.command("download", epilog=KIND_HELP)
@as_option
@KIND_ARGUMENT
@click.argument("object_id", metavar="ID")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="where to write the PDF"
)
@reader_options
@handles_errors
def document_download(
    username: str, kind: str, object_id: str, output: Path | None, **credentials: Any
) -> None:
    """Write the signed PDF of document KIND of ID (--as a member of the ticket's path, with your
    login password or an API token); print its SHA-256, the one the ledger records."""
    with platform() as opened:
        actor = authenticated(opened, username, **credentials)
        data, filename = _download(opened, actor, kind, object_id)
    path = output or Path(filename)
    try:
        path.write_bytes(data)
    except OSError as error:
        fail("invalid_input", f"cannot write {path}: {error.strerror}")
        return
    out(
        {
            "kind": kind,
            KINDS[kind][0] + "_id": object_id,
            "sha256": hashlib.sha256(data).hexdigest(),
            "file": str(path),
            "bytes": len(data),
        }
    )


@document.command("verify", epilog=KIND_HELP)
@as_option
@KIND_ARGUMENT
@click.argument("object_id", metavar="ID")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@reader_options
@handles_errors
def document_verify(username: str, kind: str, object_id: str, file: Path, **credentials: Any) -> None:
    """Check FILE as document KIND of ID: valid when it is the file the ledger records, signed by
    the cards of the members who sign it; else forged, with the reason. Exit status 0 for valid,
    11 for forged."""
    from goldticket.certificates import MAX_PDF_BYTES

    try:
        with file.open("rb") as handle:
            data = handle.read(MAX_PDF_BYTES + 1)
    except OSError as error:
        fail("invalid_input", f"cannot read {file}: {error.strerror}")
        return
    with platform() as opened:
        actor = authenticated(opened, username, **credentials)
        verdict = _verify(opened, actor, kind, object_id, data)
    out(verdict)
    sys.exit(VERDICT_EXIT[verdict["verdict"]])
