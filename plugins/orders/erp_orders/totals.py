"""Keeping line amounts and order totals exact whenever lines change."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa

from erp_inventory.catalogue import Product
from erp_orders.line_rules import check_line
from erp_orders.money import line_amounts, order_amounts
from erp_orders.order import Order, OrderLine, OrderState
from erp_sdk import ConflictError, Context, WriteEvent, on_write

EDITABLE_STATES = {OrderState.DRAFT}


def recompute_totals(ctx: Context, order_id: int) -> None:
    """Rewrite every line's amounts and the order's totals from quantities and prices."""
    lines = list(ctx.session.scalars(sa.select(OrderLine).where(OrderLine.order_id == order_id)))
    for line in lines:
        amounts = line_amounts(line.quantity, line.unit_price, line.discount, line.tax_rate)
        line.line_net, line.line_tax, line.line_total = amounts.net, amounts.tax, amounts.total
    order = ctx.session.get(Order, order_id)
    totals = order_amounts(((ln.quantity, ln.unit_price, ln.discount, ln.tax_rate)
                            for ln in lines), order.shipping_amount)
    order.subtotal, order.discount_total = totals.subtotal, totals.discount_total
    order.tax_total, order.total = totals.tax_total, totals.total
    ctx.session.flush()


def _order_id(event: WriteEvent) -> int | None:
    return (event.before or event.after or {}).get("order_id") or event.changes.get("order_id")


@on_write("orders.order_line", when="before")
def lines_change_only_in_draft(ctx: Context, event: WriteEvent) -> None:
    order_id = _order_id(event)
    order = ctx.session.execute(sa.select(Order.state, Order.currency).where(
        Order.id == order_id)).first()
    if order is not None and order.state not in EDITABLE_STATES:
        raise ConflictError(f"order {order_id} is {order.state}: its lines can no longer"
                            " change; cancel it, or split or return instead")
    priced = ("product_id", "quantity", "unit_price", "discount")
    if order is not None and event.action != "delete" and set(event.changes) & set(priced):
        line = {**(event.before or {}), **event.changes}
        product = ctx.session.get(Product, line["product_id"])
        if product is not None and line.get("quantity") is not None \
                and line.get("unit_price") is not None:
            check_line(product, order.currency, Decimal(line["quantity"]),
                       Decimal(line["unit_price"]), Decimal(line.get("discount") or 0))


@on_write("orders.order_line", when="after")
def line_changed(ctx: Context, event: WriteEvent) -> None:
    order_id = _order_id(event)
    if order_id is not None:
        recompute_totals(ctx, order_id)


@on_write("orders.order", actions=("update",), when="after")
def order_changed(ctx: Context, event: WriteEvent) -> None:
    if "shipping_amount" in event.changes:
        recompute_totals(ctx, event.record_id)  # type: ignore[arg-type]
