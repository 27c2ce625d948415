"""``erp sinks``: the message brokers (event-sink drivers) this database sends events to."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import click

from erp_core.cli.context import cli_context, delete_record, echo_records, key_values


@click.group()
def sinks() -> None:
    """Event sinks: NATS JetStream, RabbitMQ, Redis Streams and other erp.event_sinks drivers."""


@sinks.command("add")
@click.argument("name")
@click.option("--driver", required=True, help="An installed event_sink driver (erp drivers list).")
@click.option("--setting", "settings", multiple=True, metavar="KEY=VALUE",
              help="A driver setting (repeat).")
@click.option("--secret", "secrets", multiple=True, metavar="KEY=VALUE",
              help="A driver secret, never shown again (repeat).")
@click.option("--pattern", "patterns", multiple=True,
              help="Event names to send (default every event; repeat for more).")
@click.pass_context
def add(ctx: click.Context, name: str, driver: str, settings: tuple[str, ...],
        secrets: tuple[str, ...], patterns: tuple[str, ...]) -> None:
    """Send events to a sink; the driver is built once here to check its settings."""
    from erp_core.events.webhooks import check_patterns

    try:
        names = check_patterns(list(patterns or ("*",)))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    kernel = cli_context(ctx).kernel(boot=True)
    values = {"settings": key_values(settings, "setting"), "secrets": key_values(secrets, "secret")}
    sink = kernel.drivers.load("event_sink", driver, **values)
    closing = getattr(sink, "close", None)
    if closing is not None:
        closing()
    with kernel.context() as erp:
        record = erp.records("kernel.event_sink").create(
            {"name": name, "driver": driver, **values, "patterns": names, "active": True})
    click.echo(f"sink {record['id']} {name}: {driver} <- {', '.join(names)}")


@sinks.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def list_(ctx: click.Context, as_json: bool) -> None:
    """Every sink with its driver, patterns and last error."""

    def line(record: Mapping[str, Any]) -> str:
        status = "active" if record["active"] else "off"
        error = f"  last error: {record['last_error']}" if record["last_error"] else ""
        return (f"{record['id']:>4} {record['name']} ({record['driver']})"
                f"  {','.join(record['patterns'])}  {status}{error}")

    echo_records(ctx, "kernel.event_sink", as_json=as_json, none="no sinks", line=line)


@sinks.command("remove")
@click.argument("sink_id", type=int)
@click.pass_context
def remove(ctx: click.Context, sink_id: int) -> None:
    """Stop sending events to a sink."""
    delete_record(ctx, "kernel.event_sink", sink_id)
    click.echo(f"sink {sink_id} removed")
