"""``erp rates``: exchange rates by date, shared by every plugin."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import click

from erp_core.cli.context import cli_context, delete_record, echo_records, key_values


@click.group()
def rates() -> None:
    """Exchange rates: units of one currency per unit of another, from a date on."""


@rates.command("set")
@click.argument("currency")
@click.argument("rate")
@click.option("--in", "quote_currency", required=True, metavar="CURRENCY",
              help="The currency the rate is expressed in (the company's, usually).")
@click.option("--date", "day", metavar="YYYY-MM-DD", help="Valid from this day (default today).")
@click.option("--source", default="manual", show_default=True, help="Where the rate came from.")
@click.pass_context
def set_(ctx: click.Context, currency: str, rate: str, quote_currency: str, day: str | None,
         source: str) -> None:
    """Enter (or correct) the rate of CURRENCY: RATE units of --in per unit of CURRENCY."""
    try:
        valid_from = dt.date.fromisoformat(day) if day else dt.datetime.now(dt.UTC).date()
    except ValueError:
        raise click.ClickException(f"--date {day!r} is not a YYYY-MM-DD date") from None
    values = {"currency": currency.upper(), "quote_currency": quote_currency.upper(),
              "rate_date": valid_from.isoformat(), "rate": rate, "source": source}
    kernel = cli_context(ctx).kernel(boot=True)
    with kernel.context() as erp:
        records = erp.records("kernel.exchange_rate")
        same = records.list([("currency", values["currency"]),
                             ("quote_currency", values["quote_currency"]),
                             ("rate_date", values["rate_date"])])["items"]
        if same:
            records.update(same[0]["id"], {"rate": rate, "source": source},
                           expected_version=same[0]["version"])
        else:
            records.create(values)
    click.echo(f"1 {values['currency']} = {rate} {values['quote_currency']}"
               f" from {values['rate_date']}")


@rates.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def list_(ctx: click.Context, as_json: bool) -> None:
    """Every rate entered (up to 500)."""

    def line(record: Mapping[str, Any]) -> str:
        return (f"{record['rate_date']}  1 {record['currency']} = {record['rate']}"
                f" {record['quote_currency']}  ({record['source'] or '-'})")

    echo_records(ctx, "kernel.exchange_rate", as_json=as_json, none="no exchange rates",
                 line=line)


@rates.command("fetch")
@click.option("--date", "day", metavar="YYYY-MM-DD", help="The day to fetch (default today).")
@click.option("--source", "names", multiple=True, metavar="NAME",
              help="Only this source, active or not (repeat for more; default every active"
                   " source).")
@click.pass_context
def fetch(ctx: click.Context, day: str | None, names: tuple[str, ...]) -> None:
    """Fetch a day's rates from the exchange-rate sources now, as the daily job does; exits
    non-zero when a source failed (the others' rates are stored)."""
    from erp_core.exchange_rate_sources import fetch_exchange_rates

    try:
        wanted = dt.date.fromisoformat(day) if day else dt.datetime.now(dt.UTC).date()
    except ValueError:
        raise click.ClickException(f"--date {day!r} is not a YYYY-MM-DD date") from None
    kernel = cli_context(ctx).kernel(boot=True)
    fetches = fetch_exchange_rates(kernel, wanted, names)
    if not fetches:
        click.echo("no active exchange-rate sources; add one with `erp rates sources add`")
    for each in fetches:
        click.echo(each.describe())
    failed = [each.source for each in fetches if each.failed]
    if failed:
        raise click.ClickException(f"not fetched: {', '.join(failed)}")


@rates.group()
def sources() -> None:
    """Exchange-rate sources: erp.exchange_rate_sources drivers whose rates are fetched daily."""


@sources.command("add")
@click.argument("name")
@click.option("--driver", required=True,
              help="An installed exchange_rate_source driver (erp drivers list).")
@click.option("--in", "quote_currency", required=True, metavar="CURRENCY",
              help="The currency the rates are stored in (the company's, usually).")
@click.option("--setting", "settings", multiple=True, metavar="KEY=VALUE",
              help="A driver setting (repeat).")
@click.option("--secret", "secrets", multiple=True, metavar="KEY=VALUE",
              help="A driver secret, never shown again (repeat).")
@click.pass_context
def sources_add(ctx: click.Context, name: str, driver: str, quote_currency: str,
                settings: tuple[str, ...], secrets: tuple[str, ...]) -> None:
    """Fetch rates from a source; the driver is built once here to check its settings."""
    kernel = cli_context(ctx).kernel(boot=True)
    values = {"settings": key_values(settings, "setting"), "secrets": key_values(secrets, "secret")}
    kernel.drivers.load("exchange_rate_source", driver, **values)
    with kernel.context() as erp:
        record = erp.records("kernel.exchange_rate_source").create(
            {"name": name, "driver": driver, "quote_currency": quote_currency, **values,
             "active": True})
    click.echo(f"source {record['id']} {name}: {driver}, rates in {record['quote_currency']}")


@sources.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def sources_list(ctx: click.Context, as_json: bool) -> None:
    """Every source with its driver, last fetch and last error."""

    def line(record: Mapping[str, Any]) -> str:
        status = "active" if record["active"] else "off"
        error = f"  last error: {record['last_error']}" if record["last_error"] else ""
        return (f"{record['id']:>4} {record['name']} ({record['driver']}) in"
                f" {record['quote_currency']}  {status}"
                f"  last fetched: {record['last_fetched_at'] or '-'}{error}")

    echo_records(ctx, "kernel.exchange_rate_source", as_json=as_json, none="no sources",
                 line=line)


@sources.command("remove")
@click.argument("source_id", type=int)
@click.pass_context
def sources_remove(ctx: click.Context, source_id: int) -> None:
    """Stop fetching rates from a source (the rates it fetched stay)."""
    delete_record(ctx, "kernel.exchange_rate_source", source_id)
    click.echo(f"source {source_id} removed")
