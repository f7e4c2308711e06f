"""``goldticket member``: members (organisations), registered by the operator desk."""

from __future__ import annotations

import click

from ._common import handles_errors, out, platform


@click.group()
def member() -> None:
    """Members (organisations), registered by the operator desk."""


@member.command("add")
@click.option("--id", "member_id", required=True)
@click.option("--name", required=True)
@click.option("--name-en", default="")
@click.option("--role", type=click.Choice(["core", "supplier", "bank"]), required=True)
@click.option("--day-basis", type=click.Choice(["360", "365"]), default="360")
@click.option("--fee-bp", type=int, default=0)
@handles_errors
def member_add(member_id: str, name: str, name_en: str, role: str, day_basis: str, fee_bp: int) -> None:
    """Register a core enterprise, supplier or bank (signed by the operator desk)."""
    from goldticket.services import members

    with platform() as opened:
        out(
            members.register_member(
                opened,
                member_id=member_id,
                name=name,
                role=role,
                name_en=name_en,
                day_basis=int(day_basis),
                fee_bp=fee_bp,
            )
        )


@member.command("list")
@handles_errors
def member_list() -> None:
    """Every registered member."""
    from goldticket.services import members

    with platform() as opened:
        out(members.list_members(opened))


@member.command("term-cap")
@click.argument("months", type=int)
@handles_errors
def member_term_cap(months: int) -> None:
    """Set the longest payment term of new tickets, in months (1-12)."""
    from goldticket.services import members

    with platform() as opened:
        out(members.set_term_cap(opened, months))
