"""``goldticket operations``: what a monitoring system needs to watch this deployment."""

from __future__ import annotations

import click

from ._common import handles_errors, settings


@click.group("operations")
def operations_group() -> None:
    """Watching GoldTicket (the portal's /operations page is the console)."""


@operations_group.command("prometheus-config")
@click.option("--web", default="127.0.0.1:8000", show_default=True, help="the web service's host:port")
@click.option(
    "--signer-metrics",
    default=None,
    help="host:port of `signer serve --metrics-port` (default: the web service's /metrics/signer)",
)
@click.option("--interval", default="15s", show_default=True, help="scrape interval")
@handles_errors
def prometheus_config(web: str, signer_metrics: str | None, interval: str) -> None:
    """Print a Prometheus configuration (YAML) scraping the web service, the signing gateway
    and every peer and orderer of the Fabric connection profile (their operations endpoints)."""
    import yaml

    from goldticket.services import operations

    config = operations.prometheus_config(
        settings(), web=web, signer_metrics=signer_metrics, interval=interval
    )
    click.echo(yaml.safe_dump(config, sort_keys=False), nl=False)
