"""``erp crm ...`` commands."""

from __future__ import annotations

import datetime as dt
from typing import Any

import click

from erp_crm.tiers import customers_to_recompute, recompute_every_tier


@click.command("recompute-tiers")
@click.option("--as-of", "as_of", type=click.DateTime(["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d"]),
              help="Evaluate recency as of this time (default: now), e.g. 2026-01-31.")
@click.option("--batch-size", default=500, show_default=True, type=click.IntRange(1, 10_000),
              help="Customers per transaction.")
@click.pass_obj
def recompute_tiers_command(state: Any, as_of: dt.datetime | None, batch_size: int) -> None:
    """Recompute every customer's behaviour summary and tier from their purchases.

    Recency decays with time alone: the job crm.recompute_tiers runs this daily. Each
    batch of customers is one transaction, run again if it meets a transient conflict
    (a deadlock with concurrent purchases): an interrupted run keeps the batches it
    finished.
    """
    if as_of is not None and as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=dt.UTC)
    kernel = state.kernel(boot=True)
    with kernel.transaction() as session:
        total = len(customers_to_recompute(session))
    with click.progressbar(length=total, label="Recomputing tiers", show_pos=True) as bar:
        customers, changed = recompute_every_tier(kernel, as_of, batch_size, bar.update)
    click.echo(f"{customers} customers recomputed, {changed} tier"
               f" change{'s' if changed != 1 else ''}")


COMMANDS = [recompute_tiers_command]
