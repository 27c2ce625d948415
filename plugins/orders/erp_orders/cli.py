"""``erp orders ...`` commands: pull orders from a channel and push stock to it, once or
periodically."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import click

from erp_orders.channels_import import ImportResult, import_orders, push_stock
from erp_sdk.drivers import DriverFailure


def _repeat(run: Callable[[], bool], every: float | None, times: int | None) -> bool:
    """Call ``run`` once, or every ``every`` seconds until it ran ``times`` times or the
    user interrupts (Ctrl-C); true when no run failed."""
    failed = False
    runs = 0
    try:
        while True:
            failed |= not run()
            runs += 1
            if (times is not None and runs >= times) or (every is None and times is None):
                break
            time.sleep(every or 0)
    except KeyboardInterrupt:
        # An order in progress was rolled back; every committed order and page stays.
        click.echo(f"interrupted after {runs} run{'s' if runs != 1 else ''}", err=True)
    return not failed


def _report(result: ImportResult) -> bool:
    click.echo(result.summary())
    for failure in result.failed:
        click.echo(f"  failed {failure.external_reference}: {failure.reason}", err=True)
    for failure in result.unconfirmed:
        click.echo(f"  left in draft {failure.external_reference}: {failure.reason}", err=True)
    if result.error:
        click.echo(f"  stopped: {result.error}", err=True)
    if result.superseded:
        click.echo("  stopped: another import of this channel is ahead of this one", err=True)
    return result.ok


_channel = click.option("--channel", "code", required=True, metavar="CODE",
                        help="The channel's code (see GET /api/v1/orders/channels).")
_every = click.option("--every", type=click.FloatRange(min=0.1), metavar="SECONDS",
                      help="Run again every SECONDS until interrupted (Ctrl-C).")
_times = click.option("--times", type=click.IntRange(min=1), metavar="N",
                      help="Stop after N runs (default: once, or forever with --every).")


@click.command("import")
@_channel
@_every
@_times
@click.pass_obj
def import_command(state: Any, code: str, every: float | None, times: int | None) -> None:
    """Pull new orders from a sales channel through its driver.

    Orders are imported once per channel reference, so running it again (or alongside
    another import) never doubles an order. Exits with status 1 when an order failed
    or the channel could not be reached.
    """
    kernel = state.kernel(boot=True)
    if not _repeat(lambda: _report(import_orders(kernel, code)), every, times):
        raise click.exceptions.Exit(1)


@click.command("push-stock")
@_channel
@_every
@_times
@click.pass_obj
def push_stock_command(state: Any, code: str, every: float | None, times: int | None) -> None:
    """Send a sales channel the available stock of its warehouse, per SKU.

    Exits with status 1 when the channel failed to take it.
    """
    kernel = state.kernel(boot=True)

    def run() -> bool:
        try:
            click.echo(f"{code}: {push_stock(kernel, code)} stock levels pushed")
        except DriverFailure as exc:  # the channel failed: report it, try again next time
            click.echo(f"{code}: stock push failed: {exc.message}", err=True)
            return False
        return True

    if not _repeat(run, every, times):
        raise click.exceptions.Exit(1)


COMMANDS = [import_command, push_stock_command]
