"""``init``, ``quote`` and ``demo``: the commands that stand outside any group."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from goldticket import domain as d
from goldticket.settings import ConfigError

from ._common import handles_errors, out, settings

if TYPE_CHECKING:
    from goldticket.services.platform import Platform


@click.command()
@handles_errors
def init() -> None:
    """Create the data directory, ledger, org CAs, database and the operator admin (idempotent)."""
    from goldticket.services import setup

    current = settings()
    portal = setup.init_portal(current)
    ledger = portal.platform.ledger
    click.echo(f"GoldTicket ready in {current.data_dir} ({ledger.kind} ledger, height {ledger.height()})")
    portal.close()


@click.command()
@click.option("--amount", "amount_text", default=None, help="yuan: 1,000.00, 1000, 1000.5 or 壹仟元整")
@click.option("--amount-fen", type=int, default=None)
@click.option("--annual-rate-bp", type=int, required=True)
@click.option("--value-date", required=True)
@click.option("--maturity-date", required=True)
@click.option("--day-basis", type=click.Choice(["360", "365"]), default="360")
@click.option("--fee-bp", type=int, default=0)
@click.option(
    "--json", "as_json", is_flag=True, help="print days, discount_interest_fen, fee_fen, proceeds_fen"
)
@handles_errors
def quote(
    amount_text: str | None,
    amount_fen: int | None,
    annual_rate_bp: int,
    value_date: str,
    maturity_date: str,
    day_basis: str,
    fee_bp: int,
    as_json: bool,
) -> None:
    """Days, discount interest and proceeds of discounting a ticket."""
    from goldticket.services.financing import quote as make_quote

    from ._common import amount_of

    result = make_quote(
        amount_fen=amount_of(amount_text, amount_fen),
        annual_rate_bp=annual_rate_bp,
        value_date=value_date,
        maturity_date=maturity_date,
        day_basis=int(day_basis),
        fee_bp=fee_bp,
    )
    if as_json:
        from ._common import JSON_FLAG

        click.get_current_context().find_root().meta[JSON_FLAG] = True
        out(
            {
                "days": result.days,
                "discount_interest_fen": result.discount_interest_fen,
                "fee_fen": result.fee_fen,
                "proceeds_fen": result.proceeds_fen,
            }
        )
        return
    click.echo(f"amount            {d.format_fen(result.amount_fen)}")
    click.echo(f"days              {result.days}")
    click.echo(f"discount interest {d.format_fen(result.discount_interest_fen)}")
    click.echo(f"fee               {d.format_fen(result.fee_fen)}")
    click.echo(f"proceeds          {d.format_fen(result.proceeds_fen)}")


@click.command()
@click.option("--again", is_flag=True, help="run another life cycle even if this data directory has its demo")
@handles_errors
def demo(again: bool) -> None:
    """Build a demo consortium and run a whole life cycle, printing each step: once per data
    directory (it is noted in demo.json there); run again, it says so and changes nothing."""
    from goldticket.services import accounts, setup
    from goldticket.services.demo import record_demo, recorded_demo, run_demo

    current = settings()
    if current.env == "prod":
        raise ConfigError(
            "the demo moves the clock to maturity; run it with GOLDTICKET_ENV=dev (make run does)"
        )
    portal = setup.init_portal(current)
    try:
        platform = portal.platform
        made = recorded_demo(current.data_dir, platform.ledger.kind)
        if made and not again and _on_ledger(platform, made.get("ticket_id")):
            click.echo(
                f"The demo is already in {current.data_dir} (ticket {made['ticket_id']}, made on"
                f" {made.get('made_on', '?')}): reusing it (`goldticket demo --again` runs another life cycle)"
            )
        else:
            statement = run_demo(platform, click.echo, portal)
            made = {"ticket_id": statement["root_id"], "made_on": platform.today().isoformat()}
        logins = accounts.ensure_demo_accounts(portal)
        portal.follower.catch_up()
        record_demo(current.data_dir, platform.ledger.kind, {**made, "logins": logins})
        click.echo("\nDemo logins for the portal and the API: " + ", ".join(logins))
        click.echo(
            f"  password {accounts.DEMO_PASSWORD!r} each; user operator logs in with GOLDTICKET_OPERATOR_PASSWORD;"
            " card PINs are in the README (never printed)"
        )
    finally:
        portal.close()


def _on_ledger(platform: Platform, ticket_id: object) -> bool:
    """Whether the demo's ticket is on this data directory's ledger (a ledger made again
    without its demo.json gets its demo again)."""
    if not isinstance(ticket_id, str):
        return False
    try:
        platform.evaluate("GetTicket", {"ticket_id": ticket_id})
    except d.NotFoundError:
        return False
    return True


@click.command()
@click.argument("destination", type=click.Path(path_type=Path))
@handles_errors
def backup(destination: Path) -> None:
    """Seal a consistent copy of the data directory into the new file DESTINATION, under the
    operator password (GOLDTICKET_OPERATOR_PASSWORD), while the service runs: SQLite files
    through SQLite's backup API, the card tokens, the audit log. Prints the organisation CAs'
    fingerprints, for `ledger verify --ca-sha256`. See docs/backup.md."""
    from goldticket.services import backup as backups

    current = settings()
    manifest = backups.backup(current, destination)
    click.echo(f"backed up {current.data_dir} to {destination} ({len(manifest['files'])} files, sealed)")
    for msp_id, fingerprint in sorted(manifest["cas"].items()):
        click.echo(f"  CA {msp_id} sha256 {fingerprint}")


@click.command()
@click.argument("source", type=click.Path(path_type=Path))
@click.option(
    "--operator-password",
    envvar="GOLDTICKET_OPERATOR_PASSWORD",
    prompt="operator password the backup was taken under",
    hide_input=True,
)
@handles_errors
def restore(source: Path, operator_password: str) -> None:
    """Restore the sealed backup SOURCE as GOLDTICKET_DATA_DIR (which must be new or empty),
    after checking every byte of it under the operator password it was taken under (a changed
    or foreign backup restores nothing: exit 2). Then run `goldticket ledger verify`."""
    from goldticket.services import backup as backups

    current = settings()
    manifest = backups.restore(source, current.data_dir, operator_password)
    click.echo(
        f"restored {len(manifest['files'])} files into {current.data_dir} (backup of {manifest['taken_at']});"
        " next: goldticket ledger verify"
    )
