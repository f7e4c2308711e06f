"""``goldticket member``: members (organisations), registered by the operator desk."""

from __future__ import annotations

from typing import Any

import click

from ._common import (
    as_option,
    authenticated,
    desk_options,
    handles_errors,
    open_desk,
    out,
    pin_option,
    platform,
    portal,
    reader_options,
)


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
@click.option(
    "--msp",
    "msp_id",
    default=None,
    help="a bank or core enterprise with its own node: its organisation's MSP id (trusted first: member trust-org)",
)
@click.option("--uscc", default=None, help="KYC (all or none): the 统一社会信用代码")
@click.option("--legal-representative", default=None)
@click.option("--registered-address", default=None)
@click.option("--account-name", default=None, help="the settlement account's name: the member's name")
@click.option("--account-number", default=None)
@click.option("--bank-name", default=None)
@click.option("--cnaps-code", default=None)
@desk_options
@handles_errors
def member_add(
    member_id: str,
    name: str,
    name_en: str,
    role: str,
    day_basis: str,
    fee_bp: int,
    msp_id: str | None,
    desk_user: str,
    operator_pin: str,
    **kyc: str | None,
) -> None:
    """Register a core enterprise, supplier or bank (signed by the operator desk), with its KYC
    record when the KYC options are given (#21: kept in the portal's database, its SHA-256 on
    the ledger)."""
    from goldticket.services import desk, members

    if any(value is not None for value in kyc.values()):
        with portal() as opened:
            out(
                desk.create_org(
                    opened,
                    opened.platform.actor(desk_user),
                    desk_pin=operator_pin,
                    name=name,
                    role=role,
                    org_id=member_id,
                    name_en=name_en,
                    day_basis=int(day_basis),
                    fee_bp=fee_bp,
                    kyc={field: value or "" for field, value in kyc.items()},
                    msp_id=msp_id,
                )
            )
        return
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
                msp_id=msp_id,
            )
        )


@member.command("trust-org")
@click.option("--file", "public_file", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--folder", default=None, type=click.Path(file_okay=False), help="its own folder on this machine"
)
@desk_options
@handles_errors
def member_trust_org(public_file: str, folder: str | None, desk_user: str, operator_pin: str) -> None:
    """Trust the CA of an organisation that joined the Fabric channel (#19), from its public file
    (network.py org export): then members registered under it (member add --msp) get cards its
    own CA certifies."""
    import json
    from pathlib import Path

    from goldticket import domain as d
    from goldticket.services import members

    try:
        public = json.loads(Path(public_file).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise d.InvalidInputError(f"{public_file} is not an organisation's public file: {error}") from error
    with platform() as opened:
        desk = open_desk(opened, desk_user, operator_pin)
        out(members.trust_organisation(opened, desk, public, Path(folder) if folder else None))


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


@member.command("rules")
@handles_errors
def member_rules() -> None:
    """The ledger's rules: the longest payment term, whether moves need their signed documents."""
    from goldticket.services import members

    with platform() as opened:
        out(members.ledger_rules(opened))


@member.command("require-documents")
@desk_options
@handles_errors
def member_require_documents(desk_user: str, operator_pin: str) -> None:
    """Turn on the documents rule of a ledger bootstrapped before it (#21; for good): every later
    issue, transfer offer and financing application must record its card-signed document."""
    from goldticket.services import members

    with platform() as opened:
        out(members.require_documents(opened, open_desk(opened, desk_user, operator_pin)))


# A change of settlement account (#21): the member's admin asks, the operator desk confirms.
@member.command("account-request")
@as_option
@pin_option
@click.option("--account-name", required=True, help="the member's name, exactly")
@click.option("--account-number", required=True)
@click.option("--bank-name", required=True)
@click.option("--cnaps-code", required=True, help="the bank's 12-digit CNAPS code (大额支付系统行号)")
@handles_errors
def member_account_request(username: str, pin: str, **account: str) -> None:
    """Ask to change your member's settlement account (an admin of the member, its own card);
    nothing changes until the operator desk confirms it."""
    from goldticket.services import account_changes

    with portal() as opened:
        out(account_changes.request_change(opened, opened.platform.actor(username), account, pin=pin))


@member.command("account-changes")
@as_option
@reader_options
@click.option(
    "--member", "member_id", default=None, help="the operator: one member's (default every member's)"
)
@click.option("--status", type=click.Choice(["PENDING", "CONFIRMED", "REJECTED"]), default=None)
@handles_errors
def member_account_changes(
    username: str, member_id: str | None, status: str | None, **credentials: Any
) -> None:
    """Settlement account changes: your member's, or (the operator) any member's."""
    from goldticket.services import account_changes

    with portal() as opened:
        actor = authenticated(opened.platform, username, **credentials)
        out(account_changes.changes(opened, actor, member_id=member_id, status=status))


@member.command("account-confirm")
@click.argument("member_id")
@click.argument("change_id")
@desk_options
@handles_errors
def member_account_confirm(member_id: str, change_id: str, desk_user: str, operator_pin: str) -> None:
    """Confirm a member's settlement account change (the operator desk): paid from then on."""
    from goldticket.services import account_changes

    with portal() as opened:
        actor = opened.platform.actor(desk_user)
        out(account_changes.confirm_change(opened, actor, member_id, change_id, desk_pin=operator_pin))


@member.command("account-decline")
@click.argument("member_id")
@click.argument("change_id")
@click.option("--reason", default="")
@desk_options
@handles_errors
def member_account_decline(
    member_id: str, change_id: str, reason: str, desk_user: str, operator_pin: str
) -> None:
    """Decline a member's settlement account change (the operator desk)."""
    from goldticket.services import account_changes

    with portal() as opened:
        actor = opened.platform.actor(desk_user)
        out(
            account_changes.reject_change(
                opened, actor, member_id, change_id, reason=reason, desk_pin=operator_pin
            )
        )


@member.command("account-withdraw")
@as_option
@pin_option
@click.argument("change_id")
@handles_errors
def member_account_withdraw(username: str, pin: str, change_id: str) -> None:
    """Withdraw your member's pending settlement account change (an admin of the member)."""
    from goldticket.services import account_changes

    with portal() as opened:
        actor = opened.platform.actor(username)
        out(account_changes.reject_change(opened, actor, actor.member_id, change_id, pin=pin))
