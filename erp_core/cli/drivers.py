"""``erp drivers``: the installed drivers of every kind."""

from __future__ import annotations

import json

import click


@click.group()
def drivers() -> None:
    """Carriers, payment providers, sales channels and event sinks installed here."""


@drivers.command("list")
@click.option("--kind", help="Only this kind: carrier, payment_provider, sales_channel"
              " or event_sink.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_(kind: str | None, as_json: bool) -> None:
    """Every installed driver with its distribution; broken ones with their error."""
    from erp_core.drivers import Drivers

    found = Drivers().list(kind)
    if as_json:
        click.echo(json.dumps([info.as_dict() for info in found], indent=2))
        return
    if not found:
        click.echo("no drivers installed")
        return
    for info in found:
        status = f"broken: {info.error}" if info.error else "ok"
        click.echo(f"{info.kind:<17} {info.name:<20} {info.distribution or '-'}"
                   f" {info.version or ''}  {status}")
