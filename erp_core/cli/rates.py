"""``erp rates``: exchange rates by date, shared by every plugin."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import click

from erp_core.cli.context import cli_context, echo_records


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
