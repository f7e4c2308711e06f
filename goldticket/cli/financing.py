"""``goldticket financing``: financing applications, approved or declined by the bank."""

from __future__ import annotations

from typing import Any

import click

from ._common import (
    as_option,
    authenticated,
    handles_errors,
    out,
    pin_option,
    platform,
    portal,
    reader_options,
)


@click.command("list")
@as_option
@click.option("--to-me", "direction", flag_value="to-me", help="applications to your bank")
@click.option("--from-me", "direction", flag_value="from-me", help="applications your member made")
@reader_options
@handles_errors
def financing_list(username: str, direction: str | None, **credentials: Any) -> None:
    """Open financing applications to your bank or from your member (both by default)."""
    from goldticket.services import pending

    with platform() as opened:
        actor = authenticated(opened, username, **credentials)
        out(pending.open_applications(opened, actor, direction or "all"))


@click.group("financing")
def financing_group() -> None:
    """Financing applications."""


financing_group.add_command(financing_list)


@financing_group.command("approve")
@as_option
@pin_option
@click.argument("application_id")
@click.option("--annual-rate-bp", type=int, required=True)
@click.option("--value-date", required=True)
@handles_errors
def financing_approve(
    username: str, pin: str, application_id: str, annual_rate_bp: int, value_date: str
) -> None:
    """The bank approves a financing application at an annual rate from a value date."""
    from goldticket.services import financing

    with platform() as opened:
        out(
            financing.approve_financing(
                opened,
                opened.actor(username),
                application_id=application_id,
                annual_rate_bp=annual_rate_bp,
                value_date=value_date,
                pin=pin,
            )
        )


@financing_group.command("reject")
@as_option
@pin_option
@click.argument("application_id")
@click.option("--reason", required=True)
@handles_errors
def financing_reject(username: str, pin: str, application_id: str, reason: str) -> None:
    """The bank declines a financing application."""
    from goldticket.services import financing

    with platform() as opened:
        out(
            financing.reject_financing(
                opened, opened.actor(username), application_id=application_id, reason=reason, pin=pin
            )
        )


# ---------------------------------------------------------------- registration (中登网, #21)
@financing_group.command("filing")
@as_option
@click.argument("application_id")
@click.option(
    "--out-dir", type=click.Path(file_okay=False), default=None, help="write filing-<id>.json and .pdf here"
)
@click.option(
    "--to-registry", is_flag=True, default=False, help="hand the filing to the registry adapter (outbox)"
)
@reader_options
@handles_errors
def financing_filing(
    username: str, application_id: str, out_dir: str | None, to_registry: bool, **credentials: Any
) -> None:
    """The registration filing prepared for the application's bank: its content and SHA-256;
    the JSON and PDF written to --out-dir (0600), or handed to the registry adapter."""
    import os
    from pathlib import Path

    from goldticket import registry
    from goldticket.services import registration

    with portal() as opened:
        actor = authenticated(opened.platform, username, **credentials)
        content = registration.prepare_portal_filing(opened, actor, application_id)
        shown: dict[str, Any] = {"sha256": registry.filing_sha256(content), "filing": content}
        if out_dir is not None:
            folder = Path(out_dir)
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            written = []
            for suffix, data in (
                ("json", registration.filing_json(content)),
                ("pdf", registration.filing_pdf(opened.platform, content)),
            ):
                path = folder / f"filing-{application_id}.{suffix}"
                descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(descriptor, "wb") as handle:
                    handle.write(data)
                written.append(str(path))
            shown["written"] = written
        if to_registry:
            receipt = registration.file_with_registry(opened, actor, application_id)
            shown["filed"] = list(receipt.locations)
        out(shown)


@financing_group.command("register")
@as_option
@pin_option
@click.argument("application_id")
@click.option("--number", "registration_number", default=None, help="the registration number obtained")
@click.option("--registered-on", default=None, help="YYYY-MM-DD (default today)")
@click.option("--expires-on", default=None, help="YYYY-MM-DD (default a year after registration)")
@click.option("--registry", "registry_name", default=None, help="default 中登网")
@click.option("--amends", default=None, help="the registration id this one replaces")
@click.option("--filing-sha256", default=None, help="the SHA-256 of the filing JSON filed")
@click.option(
    "--from-registry",
    is_flag=True,
    default=False,
    help="take number and dates from the registry's answer (inbox)",
)
@handles_errors
def financing_register(
    username: str,
    pin: str,
    application_id: str,
    registration_number: str | None,
    registered_on: str | None,
    expires_on: str | None,
    registry_name: str | None,
    amends: str | None,
    filing_sha256: str | None,
    from_registry: bool,
) -> None:
    """The bank records the registration (中登网) it obtained, before it approves."""
    from goldticket import domain as d
    from goldticket.services import registration

    with portal() as opened:
        actor = opened.platform.actor(username)
        if from_registry:
            answer = registration.registry_answer(opened, actor, application_id)
            if answer is None:
                raise d.NotFoundError(f"no answer from the registry to filing {application_id} yet")
            registration_number = answer.registration_number
            registered_on, expires_on = answer.registered_on.isoformat(), answer.expires_on.isoformat()
            registry_name = answer.registry
        if not registration_number:
            raise d.InvalidInputError("--number (or --from-registry) is required")
        out(
            registration.record_portal_registration(
                opened,
                actor,
                application_id=application_id,
                registration_number=registration_number,
                registered_on=registered_on or opened.platform.today(),
                expires_on=expires_on,
                registry_name=registry_name,
                amends=amends,
                filing_sha256=filing_sha256,
                pin=pin,
            )
        )


@financing_group.command("registrations")
@as_option
@click.argument("application_id")
@reader_options
@handles_errors
def financing_registrations(username: str, application_id: str, **credentials: Any) -> None:
    """An application's registrations and which is current."""
    from goldticket.services import registration

    with platform() as opened:
        actor = authenticated(opened, username, **credentials)
        out(registration.registrations(opened, actor, application_id))


@financing_group.command("search")
@as_option
@click.argument("application_id")
@reader_options
@handles_errors
def financing_search(username: str, application_id: str, **credentials: Any) -> None:
    """Search before funding: other registrations and financings of the application's invoices."""
    from goldticket.services import registration

    with platform() as opened:
        actor = authenticated(opened, username, **credentials)
        out(registration.search_before_funding(opened, actor, application_id))
