"""``goldticket ledger``: the embedded ledger's own checks."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ._common import fail, handles_errors, out, settings


@click.group("ledger")
def ledger_group() -> None:
    """The embedded ledger (GOLDTICKET_LEDGER=local)."""


@ledger_group.command("verify")
@click.option(
    "--ca-sha256",
    "pins",
    multiple=True,
    metavar="MSP_ID=SHA256",
    help="Pin an organisation CA by the SHA-256 of its certificate (as `backup` prints it); "
    "repeat for each organisation.",
)
@click.option(
    "--backup",
    "backup_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Trust the organisation CAs inside this sealed backup (opened with "
    "GOLDTICKET_OPERATOR_PASSWORD), not the data directory's msp/.",
)
@handles_errors
def ledger_verify(pins: tuple[str, ...], backup_file: Path | None) -> None:
    """Re-check the whole chain: block hashes and links, every creator's certificate and
    signature, every endorsement, and a replay of every valid transaction through the chaincode
    compared with the stored read and write sets and world state. The channel's organisation
    CAs must be the trusted ones: pinned with --ca-sha256, or those inside a sealed backup
    (--backup), or else the data directory's own msp/ (which whoever can write the directory can
    change: pin them). Exits 9 naming the first bad block."""
    from goldticket.ledger import verify_local_ledger
    from goldticket.services.backup import ca_fingerprint, trusted_cas
    from goldticket.signing.keystore import KeyStore

    current = settings()
    if current.ledger != "local":
        fail("invalid_input", "ledger verify checks the embedded ledger; GOLDTICKET_LEDGER is not local")
    if pins and backup_file is not None:
        fail("invalid_input", "give --ca-sha256 or --backup, not both")
    pinned: dict[str, str] = {}
    for pin in pins:
        msp_id, _, digest = pin.partition("=")
        digest = digest.strip().lower().replace(":", "")
        if not msp_id or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            fail("invalid_input", f"--ca-sha256 takes MSP_ID=<64 hex digits>, not {pin[:80]!r}")
        pinned[msp_id.strip()] = digest
    if backup_file is not None:
        trusted = trusted_cas(backup_file, current.operator_password)
        source = "backup"
    else:
        trusted = KeyStore(current.data_dir).trusted()
        source = "pinned" if pinned else "data directory"
    fingerprints = {msp_id: ca_fingerprint(pem) for msp_id, pem in sorted(trusted.items())}
    report = verify_local_ledger(current.data_dir, trusted or None)
    result = {**report.as_dict(), "trusted_cas": fingerprints, "cas_from": source}
    if pinned and fingerprints != pinned:
        differ = sorted(
            set(pinned) ^ set(fingerprints) | {m for m in pinned if fingerprints.get(m) != pinned[m]}
        )
        result.update(
            ok=False,
            first_bad_block=0,
            reason=f"the organisation CAs differ from the pinned ones: {', '.join(differ)}",
        )
    out(result)
    if not result["ok"]:
        click.echo(
            f"error: ledger_invalid: first bad block {result['first_bad_block']}: {result['reason']}",
            err=True,
        )
        sys.exit(9)
