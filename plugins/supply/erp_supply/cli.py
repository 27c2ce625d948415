"""``erp supply replenish``: run replenishment from the shell (and the periodic job)."""

from __future__ import annotations

import json
from typing import Any

import click


def replenish_everything(kernel: Any) -> str:
    """The periodic job: every active rule, draft purchase orders proposed."""
    from erp_sdk import Principal
    from erp_supply.replenishment import replenish

    summary = kernel.run(lambda ctx: replenish(ctx), Principal.system("supply.replenishment"))
    return (f"{summary.suggestions} suggestions from {summary.rules} rules,"
            f" {len(summary.purchase_orders)} draft purchase orders")


@click.command("replenish")
@click.option("--warehouse", "warehouse_code", help="Only the rules of this warehouse (code).")
@click.option("--product", "product_ids", type=int, multiple=True,
              help="Only the rules of this product id (repeatable).")
@click.option("--no-orders", is_flag=True, help="Suggest only; propose no purchase order.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.pass_obj
def replenish_command(state: Any, warehouse_code: str | None, product_ids: tuple[int, ...],
                      no_orders: bool, as_json: bool) -> None:
    """Compute replenishment suggestions and propose draft purchase orders by supplier."""
    from erp_sdk import NotFoundError, Principal
    from erp_supply.replenishment import replenish

    kernel = state.kernel(boot=True)

    def work(ctx: Any) -> Any:
        warehouse_id = None
        if warehouse_code:
            found = ctx.records("inventory.warehouse").list(
                [("code", warehouse_code), ("limit", "1")])["items"]
            if not found:
                raise NotFoundError(f"no warehouse has the code {warehouse_code!r}")
            warehouse_id = found[0]["id"]
        return replenish(ctx, product_ids=list(product_ids) or None, warehouse_id=warehouse_id,
                         create_orders=not no_orders)

    summary = kernel.run(work, Principal.system("cli"))
    if as_json:
        click.echo(json.dumps(summary.as_json(), indent=2))
        return
    click.echo(f"{summary.rules} rules, {summary.suggestions} suggestions,"
               f" {len(summary.purchase_orders)} draft purchase orders"
               f" {summary.purchase_orders}, {summary.without_supplier} without a supplier")


COMMANDS = [replenish_command]
