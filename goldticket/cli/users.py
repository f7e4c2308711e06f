"""``goldticket user``: users of members, at the operator desk."""

from __future__ import annotations

import click

from ._common import desk_options, handles_errors, open_desk, out, platform


@click.group()
def user() -> None:
    """Users (the operator desk)."""


@user.command("add")
@click.option("--member", "member_id", required=True)
@click.option("--username", required=True)
@click.option("--role", type=click.Choice(["admin", "clerk"]), default="clerk")
@click.option("--pin", envvar="GOLDTICKET_PIN", default=None, help="issue the user's card with this PIN too")
@desk_options
@handles_errors
def user_add(
    member_id: str, username: str, role: str, pin: str | None, desk_user: str, operator_pin: str
) -> None:
    """Add a user to a member; with --pin, open and issue their card too."""
    from goldticket.services import cards, members

    with platform() as opened:
        desk = open_desk(opened, desk_user, operator_pin)
        actor = members.add_user(opened, desk, member_id=member_id, username=username, role=role, pin=pin)
        out(
            {
                "username": actor.username,
                "member_id": actor.member_id,
                "role": actor.role,
                "cards": cards.cards_of(opened, username),
            }
        )


@user.command("list")
@click.option("--member", "member_id", default=None, help="only this member's users")
@handles_errors
def user_list(member_id: str | None) -> None:
    """Users, with their member and role."""
    from goldticket.services import members

    with platform() as opened:
        out(members.list_users(opened, member_id))


@user.command("revoke")
@click.argument("username")
@desk_options
@handles_errors
def user_revoke(username: str, desk_user: str, operator_pin: str) -> None:
    """Eliminate the user's cards: the identity is revoked on the ledger and the login disabled."""
    from goldticket.services import logins, members

    with platform() as opened:
        result = members.revoke_user(opened, open_desk(opened, desk_user, operator_pin), username)
        logins.close_if_cardless_offline(opened, username)
        out(result)
