"""``goldticket card``: BSIM cards at the operator desk."""

from __future__ import annotations

import click

from ._common import as_option, handles_errors, out, pin_option, platform


@click.group()
def card() -> None:
    """BSIM cards at the operator desk: open, issue, report-lost, replace, eliminate, unlock;
    a member's admin approves its new cards."""


def _desk(name: str, function: str, help_text: str, *, pin: bool = False) -> None:
    """A desk command on one card serial; with ``pin``, it also takes the card's PIN."""

    def run(serial: str, *args: str) -> None:
        from goldticket.services import cards

        with platform() as opened:
            out(getattr(cards, function)(opened, serial, *args))

    if pin:

        @card.command(name, help=help_text)
        @click.argument("serial")
        @click.option("--pin", envvar="GOLDTICKET_PIN", prompt="card PIN", hide_input=True)
        @handles_errors
        def with_pin(serial: str, pin: str) -> None:
            run(serial, pin)

    else:

        @card.command(name, help=help_text)
        @click.argument("serial")
        @handles_errors
        def without_pin(serial: str) -> None:
            run(serial)


@card.command("open")
@click.argument("username")
@click.option("--backend", type=click.Choice(["pkcs11", "software"]), default=None)
@handles_errors
def card_open(username: str, backend: str | None) -> None:
    """Bind a blank card to a user (开卡)."""
    from goldticket.services import cards

    with platform() as opened:
        out(cards.open_card(opened, username, backend))


_desk("issue", "issue_card", "Issue an opened card: key, certificate, ledger identity (发卡).", pin=True)
_desk("report-lost", "report_lost", "Suspend a card at once.")
_desk("eliminate", "eliminate_card", "Revoke the identity on the ledger and destroy the key (销卡).")
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


@card.command("replace")
@click.argument("serial")
@click.option("--pin", envvar="GOLDTICKET_PIN", prompt="card PIN", hide_input=True)
@click.option("--operator-password", envvar="GOLDTICKET_OPERATOR_PASSWORD", prompt=True, hide_input=True)
@handles_errors
def card_replace(serial: str, pin: str, operator_password: str) -> None:
    """A new card with the same key, recovered from the backup (补卡)."""
    from goldticket.services import cards

    with platform() as opened:
        out(cards.replace_card(opened, serial, pin=pin, operator_password=operator_password))


@card.command("list")
@click.argument("username")
@handles_errors
def card_list(username: str) -> None:
    """The cards of a user, newest last."""
    from goldticket.services import cards

    with platform() as opened:
        out(cards.cards_of(opened, username))
