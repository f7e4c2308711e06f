"""``goldticket notify run``: deliver the notices queued for e-mail and webhooks (#20)."""

from __future__ import annotations

import dataclasses
import time

import click

from ._common import handles_errors, out, portal


@click.group("notify")
def notify_group() -> None:
    """E-mail and webhook deliveries of the members' notices (docs/notifications.md)."""


@notify_group.command("run")
@click.option(
    "--every",
    type=click.FloatRange(min=0.1, max=3600),
    default=None,
    help="keep delivering, a round every so many seconds (default: one round, then exit)",
)
@click.option(
    "--rounds",
    type=click.IntRange(min=1),
    default=None,
    help="with --every, stop after this many rounds (default: until interrupted)",
)
@handles_errors
def notify_run(every: float | None, rounds: int | None) -> None:
    """Project the ledger's new blocks (which queues their notices), then send every delivery
    that is due: e-mail through GOLDTICKET_SMTP_HOST (waits while unset), webhooks signed with
    each member's secret; failures are retried with backoff, then marked failed."""
    from goldticket.services.notify import worker

    total = worker.Round()
    done = 0
    with portal() as opened:
        try:
            while True:
                opened.follower.catch_up()
                result = worker.run_once(opened)
                for field in dataclasses.fields(total):
                    setattr(total, field.name, getattr(total, field.name) + getattr(result, field.name))
                done += 1
                if every is None or (rounds is not None and done >= rounds):
                    break
                time.sleep(every)
        except KeyboardInterrupt:
            pass
    out({"rounds": done, **dataclasses.asdict(total)})
