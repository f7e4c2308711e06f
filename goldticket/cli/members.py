"""``goldticket member``: members (organisations), registered by the operator desk."""

from __future__ import annotations

import click

from ._common import desk_options, handles_errors, open_desk, out, platform


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
@desk_options
@handles_errors
def member_add(
    member_id: str,
    name: str,
    name_en: str,
    role: str,
    day_basis: str,
    fee_bp: int,
    desk_user: str,
    operator_pin: str,
) -> None:
    """Register a core enterprise, supplier or bank (signed by the operator desk)."""
    from goldticket.services import members

    with platform() as opened:
        out(
            members.register_member(
                opened,
                open_desk(opened, desk_user, operator_pin),
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
@desk_options
@handles_errors
def member_term_cap(months: int, desk_user: str, operator_pin: str) -> None:
    """Set the longest payment term of new tickets, in months (1-12)."""
    from goldticket.services import members

    with platform() as opened:
        out(members.set_term_cap(opened, open_desk(opened, desk_user, operator_pin), months))
