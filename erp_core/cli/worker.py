"""``erp worker``: deliver events, purge what expired and run periodic jobs until stopped."""

from __future__ import annotations

import signal
import threading

import click

from erp_core.cli.context import cli_context


@click.command()
@click.option("--concurrency", default=8, show_default=True, type=click.IntRange(1, 256),
              help="Deliveries in flight at once in this process.")
@click.option("--once", is_flag=True, help="Deliver what is there now, then stop.")
@click.pass_context
def worker(ctx: click.Context, concurrency: int, once: bool) -> None:
    """Deliver the outbox to webhooks and event sinks until Ctrl-C or SIGTERM.

    Run as many as you like against one PostgreSQL database (one on SQLite); settings
    come from ERP_WORKER_* and ERP_DELIVERY_* variables (see the README).
    """
    from erp_core.worker import Worker

    kernel = cli_context(ctx).kernel(boot=True)
    runner = Worker(kernel, concurrency=concurrency)
    try:
        if once:
            click.echo(f"delivered {runner.drain()} events")
            return
        stop = threading.Event()
        for each in (signal.SIGINT, signal.SIGTERM):
            signal.signal(each, lambda *_: stop.set())
        click.echo(f"worker {runner.name} delivering (Ctrl-C to stop)")
        runner.run(stop)
    finally:
        runner.close()
