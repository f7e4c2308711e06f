"""``goldticket user``: users of members, at the operator desk."""

from __future__ import annotations

import click

from ._common import (
    as_option,
    desk_options,
    handles_errors,
    open_desk,
    out,
    password_option,
    platform,
    portal,
)


@click.group()
def user() -> None:
    """Users (the operator desk)."""


@user.command("add")
@click.option("--member", "member_id", required=True)
@click.option("--username", required=True)
@click.option("--role", type=click.Choice(["admin", "clerk"]), default="clerk")
@desk_options
@handles_errors
def user_add(member_id: str, username: str, role: str, desk_user: str, operator_pin: str) -> None:
    """Add a user to a member: prints the one-time activation code (shown once) that the user
    activates with `goldticket user activate`; the desk never chooses a password."""
    from goldticket.services import accounts, members

    with portal() as opened:
        desk = open_desk(opened.platform, desk_user, operator_pin)
        actor = members.add_user(opened.platform, desk, member_id=member_id, username=username, role=role)
        activation = accounts.issue_activation(opened, username=actor.username, org_id=member_id, role=role)
        opened.platform.audit_desk(desk, "activation code", for_user=actor.username)
        out({"username": actor.username, "member_id": actor.member_id, "role": actor.role, **activation})


@user.command("activate")
@click.argument("username")
@click.option("--code", envvar="GOLDTICKET_ACTIVATION_CODE", prompt="activation code", hide_input=True)
@click.option(
    "--new-password",
    envvar="GOLDTICKET_NEW_PASSWORD",
    prompt="your new password",
    hide_input=True,
    confirmation_prompt=True,
)
@handles_errors
def user_activate(username: str, code: str, new_password: str) -> None:
    """The user sets their own password with the desk's one-time activation code."""
    from goldticket.services import accounts

    with portal() as opened:
        answer = accounts.activate(opened, username, code, new_password, "cli")
        out({"username": username, "activated": True, "expires_at": answer["expires_at"]})


@user.command("password")
@as_option
@password_option
@click.option(
    "--new-password",
    envvar="GOLDTICKET_NEW_PASSWORD",
    prompt="your new password",
    hide_input=True,
    confirmation_prompt=True,
)
@handles_errors
def user_password(username: str, password: str, new_password: str) -> None:
    """Change your own login password (--as you); every token of yours is revoked."""
    from goldticket.services import accounts

    with portal() as opened:
        actor = opened.platform.actor(username)
        out(accounts.change_password(opened, actor, "", password, new_password, "cli"))


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
