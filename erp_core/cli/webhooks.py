"""``erp webhooks``: subscribe URLs to events, list, remove and replay."""

from __future__ import annotations

import datetime as dt
import secrets as _secrets
import urllib.parse
from collections.abc import Mapping
from typing import Any

import click

from erp_core.cli.context import cli_context, delete_record, echo_records


@click.group()
def webhooks() -> None:
    """Webhook subscriptions: signed HTTP POSTs of the events they match."""


@webhooks.command("add")
@click.argument("url")
@click.option("--pattern", "patterns", multiple=True, required=True,
              help="Event names to send, '*' for a dotted part or the rest:"
                   " orders.order.* (repeat for more).")
@click.option("--secret", help="The signing secret (default: a new random one, printed once).")
@click.option("--description", help="What the subscription is for.")
@click.pass_context
def add(ctx: click.Context, url: str, patterns: tuple[str, ...], secret: str | None,
        description: str | None) -> None:
    """Subscribe URL to the events matching the patterns; prints the secret once."""
    from erp_core.events.webhooks import check_patterns

    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise click.ClickException(f"{url!r} is not an http(s) URL")
    try:
        names = check_patterns(list(patterns))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    if secret is not None and len(secret) < 16:
        raise click.ClickException("a secret must be at least 16 characters")
    secret = secret or "whsec_" + _secrets.token_urlsafe(32)
    kernel = cli_context(ctx).kernel(boot=True)
    with kernel.context() as erp:
        record = erp.records("kernel.webhook").create(
            {"url": url, "patterns": names, "secret": secret, "active": True,
             "description": description})
    click.echo(f"webhook {record['id']}: {url} <- {', '.join(names)}")
    click.echo(f"Secret (shown once): {secret}")


@webhooks.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def list_(ctx: click.Context, as_json: bool) -> None:
    """Every subscription, active or switched off (with the reason)."""

    def line(record: Mapping[str, Any]) -> str:
        status = "active" if record["active"] else f"off: {record['disabled_reason'] or '-'}"
        return f"{record['id']:>4} {record['url']}  {','.join(record['patterns'])}  {status}"

    echo_records(ctx, "kernel.webhook", as_json=as_json, none="no webhooks", line=line)


@webhooks.command("remove")
@click.argument("webhook_id", type=int)
@click.pass_context
def remove(ctx: click.Context, webhook_id: int) -> None:
    """Delete a subscription; events not yet sent to it are not sent."""
    delete_record(ctx, "kernel.webhook", webhook_id)
    click.echo(f"webhook {webhook_id} removed")


@webhooks.command("replay")
@click.argument("webhook_id", type=int)
@click.option("--event", "event_id", type=int, help="One event, by id.")
@click.option("--since", help="Every matching event since this ISO 8601 time (UTC if no zone).")
@click.pass_context
def replay(ctx: click.Context, webhook_id: int, event_id: int | None, since: str | None) -> None:
    """Deliver an event, or all events since a time, to the subscription again."""
    from erp_core.worker.replay import replay_to_webhook

    when = None
    if since is not None:
        try:
            when = dt.datetime.fromisoformat(since)
        except ValueError:
            raise click.ClickException(f"--since {since!r} is not an ISO 8601 time") from None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
    kernel = cli_context(ctx).kernel(boot=True)
    with kernel.engine.begin() as connection:
        count = replay_to_webhook(connection, webhook_id, event_id=event_id, since=when)
    click.echo(f"{count} events queued for webhook {webhook_id}")
