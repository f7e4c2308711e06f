"""``goldticket card``: BSIM cards at the operator desk. Every desk command is authenticated
as an operator admin (``--operator-pin``, their own card's PIN) and audit-logged."""

from __future__ import annotations

import click

from ._common import (
    as_option,
    desk_options,
    handles_errors,
    logged_in,
    open_desk,
    out,
    password_option,
    pin_option,
    platform,
    portal,
)


@click.group()
def card() -> None:
    """BSIM cards at the operator desk: open, issue, report-lost, replace, eliminate, unlock;
    a member's admin approves its new cards."""


def _desk(name: str, function: str, help_text: str, *, pin: bool = False) -> None:
    """A desk command on one card serial; with ``pin``, it also takes the card's PIN."""

    def run(desk_user: str, operator_pin: str, serial: str, *args: str) -> None:
        from goldticket.services import cards

        with platform() as opened:
            desk = open_desk(opened, desk_user, operator_pin)
            out(getattr(cards, function)(opened, desk, serial, *args))

    if pin:

        @card.command(name, help=help_text)
        @click.argument("serial")
        @desk_options
        @click.option("--pin", envvar="GOLDTICKET_PIN", prompt="card PIN", hide_input=True)
        @handles_errors
        def with_pin(serial: str, desk_user: str, operator_pin: str, pin: str) -> None:
            run(desk_user, operator_pin, serial, pin)

    else:

        @card.command(name, help=help_text)
        @click.argument("serial")
        @desk_options
        @handles_errors
        def without_pin(serial: str, desk_user: str, operator_pin: str) -> None:
            run(desk_user, operator_pin, serial)


@card.command("open")
@click.argument("username")
@click.option("--backend", type=click.Choice(["pkcs11", "software"]), default=None)
@desk_options
@handles_errors
def card_open(username: str, backend: str | None, desk_user: str, operator_pin: str) -> None:
    """Bind a blank card to a user (开卡)."""
    from goldticket.services import cards

    with platform() as opened:
        out(cards.open_card(opened, open_desk(opened, desk_user, operator_pin), username, backend))


@card.command("issue")
@click.argument("username")
@click.option("--backend", type=click.Choice(["pkcs11", "software"]), default=None)
@desk_options
@handles_errors
def card_issue(username: str, backend: str | None, desk_user: str, operator_pin: str) -> None:
    """Open and issue a card for a user (开卡 + 发卡): it waits for its user's PIN
    (`goldticket card set-pin`); the desk never chooses one."""
    from goldticket.services import cards

    with platform() as opened:
        out(cards.issue_card(opened, open_desk(opened, desk_user, operator_pin), username, backend))


@card.command("set-pin")
@as_option
@password_option
@click.argument("serial")
@click.option(
    "--old-pin", envvar="GOLDTICKET_OLD_PIN", default=None, help="to change the PIN: the current one"
)
@click.option(
    "--new-pin", envvar="GOLDTICKET_NEW_PIN", prompt="new card PIN", hide_input=True, confirmation_prompt=True
)
@handles_errors
def card_set_pin(username: str, password: str, serial: str, old_pin: str | None, new_pin: str) -> None:
    """Your own card's PIN (--as you, with your login password): the first time it makes the
    card's key and registers it; with --old-pin it changes the PIN."""
    from goldticket.services import self_service

    with portal() as opened:
        actor = logged_in(opened, username, password)
        out(self_service.set_card_pin(opened, actor, serial, new_pin=new_pin, old_pin=old_pin))


@card.command("recover")
@as_option
@password_option
@pin_option
@click.argument("serial")
@handles_errors
def card_recover(username: str, password: str, pin: str, serial: str) -> None:
    """Finish the replacement the desk started (--as you): your PIN moves your key onto SERIAL."""
    from goldticket.services import self_service

    with portal() as opened:
        actor = logged_in(opened, username, password)
        out(self_service.recover_card(opened, actor, serial, pin=pin))


_desk("report-lost", "report_lost", "Suspend a card at once.")


@card.command("eliminate")
@click.argument("serial")
@desk_options
@handles_errors
def card_eliminate(serial: str, desk_user: str, operator_pin: str) -> None:
    """Revoke the identity on the ledger and destroy the key (销卡); the user's last card takes
    the login with it (tokens revoked, logins refused)."""
    from goldticket.services import cards, logins

    with platform() as opened:
        result = cards.eliminate_card(opened, open_desk(opened, desk_user, operator_pin), serial)
        logins.close_if_cardless_offline(opened, opened.cards.registry.get(serial).username)
        out(result)


_desk("unlock", "unlock_card", "Unlock a card locked by wrong PINs.")


@card.command("approve")
@as_option
@pin_option
@click.argument("serial")
@handles_errors
def card_approve(username: str, pin: str, serial: str) -> None:
    """An admin of the card's member approves the identity the desk proposed (signed in the
    admin's own card). Once a member has an admin, its new cards sign nothing until then."""
    from goldticket.services import cards

    with platform() as opened:
        out(cards.approve_card(opened, opened.actor(username), serial, pin))


@card.command("approve-recovery")
@as_option
@pin_option
@click.argument("serial")
@handles_errors
def card_approve_recovery(username: str, pin: str, serial: str) -> None:
    """An admin of ANOTHER member approves the recovery of a member left without an active admin:
    the admin card the desk proposed for it (SERIAL) becomes active once admins of more than half
    of the other members approved."""
    from goldticket.services import cards

    with platform() as opened:
        out(cards.approve_recovery(opened, opened.actor(username), serial, pin))


@card.command("replace")
@click.argument("serial")
@desk_options
@click.option("--operator-password", envvar="GOLDTICKET_OPERATOR_PASSWORD", prompt=True, hide_input=True)
@handles_errors
def card_replace(serial: str, desk_user: str, operator_pin: str, operator_password: str) -> None:
    """Start a replacement with the same key (补卡): a new card that its user finishes with
    their PIN (`goldticket card recover`)."""
    from goldticket.services import cards

    with platform() as opened:
        desk = open_desk(opened, desk_user, operator_pin)
        out(cards.replace_card(opened, desk, serial, operator_password=operator_password))


@card.command("operator-password")
@desk_options
@click.option("--operator-password", envvar="GOLDTICKET_OPERATOR_PASSWORD", prompt=True, hide_input=True)
@click.option(
    "--new-operator-password",
    envvar="GOLDTICKET_NEW_OPERATOR_PASSWORD",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
)
@handles_errors
def card_operator_password(
    desk_user: str, operator_pin: str, operator_password: str, new_operator_password: str
) -> None:
    """Change the operator password (the backup token's PIN, or the software key file): every
    version 1 seed backup is rewrapped first. Then set GOLDTICKET_OPERATOR_PASSWORD to the new
    one and restart `goldticket serve`."""
    from goldticket.services import operator_password as secrets_of_operator

    with platform() as opened:
        desk = open_desk(opened, desk_user, operator_pin)
        out(
            secrets_of_operator.change_operator_password(
                opened, desk, old_password=operator_password, new_password=new_operator_password
            )
        )


@card.command("list")
@click.argument("username", required=False)
@click.option("--member", "member_id", default=None, help="every card of this member's users")
@handles_errors
def card_list(username: str | None, member_id: str | None) -> None:
    """The cards of a user (or with --member, of every user of a member), newest last."""
    from goldticket.services import cards, members

    if (username is None) == (member_id is None):
        raise click.UsageError("give a USERNAME or --member MEMBER_ID")
    with platform() as opened:
        if member_id is None:
            out(cards.cards_of(opened, str(username)))
            return
        members.get_member(opened, member_id)
        found = []
        for user in members.list_users(opened, member_id):
            found.extend(cards.cards_of(opened, user["username"]))
        out(found)
