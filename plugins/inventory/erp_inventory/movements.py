"""Receiving, adjusting and moving stock outside of reservations."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa

from erp_inventory.alerts import check_alerts
from erp_inventory.catalogue import Product
from erp_inventory.ledger import COST_QUANTUM, Ledger, StockLevel
from erp_inventory.units import STOCK_QUANTITY, check_unit
from erp_inventory.warehouses import LocationKind, virtual_location, warehouse_location
from erp_sdk import (
    Context,
    NotFoundError,
    ValidationError,
    check_value,
    identifier,
    money,
    quantity,
    text,
)


def product(ctx: Context, product_id: int) -> Product:
    found = ctx.session.get(Product, product_id)
    if found is None:
        raise NotFoundError(f"product {product_id} does not exist")
    return found


def post_and_alert(ctx: Context, item: Product, quantity: Decimal, source: int, target: int,
                   **kwargs: object) -> int:
    check_unit(item.unit, quantity)
    move_id, changes = Ledger(ctx.session).post(item, quantity, source, target, **kwargs)
    for change in changes:
        check_alerts(ctx, item.id, change)
    return move_id


def receive(ctx: Context, warehouse_id: int, product_id: int, quantity: Decimal,
            unit_cost: Decimal, origin: str | None = None) -> int:
    """Units arriving from a supplier at ``unit_cost``; re-averages the product's cost."""
    ctx.principal.require("inventory.stock.receive")
    check_value("warehouse_id", identifier(), warehouse_id)
    product_id = check_value("product_id", identifier(), product_id)
    quantity = check_value("quantity", STOCK_QUANTITY, quantity)
    unit_cost = check_value("unit_cost", money("non_negative"), unit_cost)
    origin = check_value("origin", text(120), origin, nullable=True)
    return post_and_alert(
        ctx, product(ctx, product_id), quantity,
        virtual_location(ctx.session, LocationKind.SUPPLIER).id,
        warehouse_location(ctx.session, warehouse_id).id, origin=origin, unit_cost=unit_cost)


def add_cost_to_stock(ctx: Context, product_id: int, quantity: Decimal, unit_amount: Decimal,
                      origin: str | None = None) -> Decimal:
    """Cost that arrives after the goods (freight or duty entered after a receipt):
    ``unit_amount`` more (or less, when negative) for each of ``quantity`` units received
    earlier. Only the units still on hand carry it, at most ``quantity`` of them (under a
    moving average the units gone are the first to have gone): their value changes by
    ``unit_amount`` each and the product's average cost with it. Returns the value added
    to the stock. The change is recorded as an ``inventory.cost_adjustment`` (with the
    share of the units already gone, which belongs to the cost of what was sold), and the
    event ``inventory.product.cost_added`` says what changed."""
    ctx.principal.require("inventory.stock.receive")
    product_id = check_value("product_id", identifier(), product_id)
    quantity = check_value("quantity", STOCK_QUANTITY, quantity)
    unit_amount = check_value("unit_amount", money(), unit_amount)
    origin = check_value("origin", text(120), origin, nullable=True)
    item = product(ctx, product_id)
    ctx.session.refresh(item, with_for_update=True)  # one re-costing of a product at a time
    on_hand = Decimal(str(ctx.session.scalar(sa.select(sa.func.coalesce(
        sa.func.sum(StockLevel.on_hand), 0)).where(StockLevel.product_id == product_id)) or 0))
    carrying = max(min(quantity, on_hand), Decimal(0))
    if unit_amount == 0:
        return Decimal(0)
    value = (unit_amount * carrying).quantize(COST_QUANTUM, rounding=ROUND_HALF_UP)
    gone = (unit_amount * (quantity - carrying)).quantize(COST_QUANTUM, rounding=ROUND_HALF_UP)
    before = item.cost
    cost = ((before * on_hand + value) / on_hand).quantize(
        COST_QUANTUM, rounding=ROUND_HALF_UP) if carrying else before
    if cost < 0:
        raise ValidationError(f"the cost of product {product_id} would fall below zero",
                              {"unit_amount": "more than the stock is worth"})
    if cost != before:
        item.cost = cost
        ctx.session.flush()
        ctx.audit("inventory.product", product_id, "update", {"cost": str(before)},
                  {"cost": str(cost)})
    ctx.records("inventory.cost_adjustment").create({
        "product_id": product_id, "units": quantity, "on_hand": carrying,
        "unit_amount": unit_amount, "value": value, "value_gone": gone,
        "cost_before": before, "cost": cost, "origin": origin})
    if not carrying:
        return Decimal(0)
    ctx.emit("inventory.product.cost_added", "inventory.product", product_id, {
        "product_id": product_id, "units": str(carrying), "unit_amount": str(unit_amount),
        "value": str(value), "cost_before": str(before), "cost": str(cost), "origin": origin})
    return value


def adjust(ctx: Context, warehouse_id: int, product_id: int, delta: Decimal,
           reason: str, origin: str | None = None) -> int | None:
    """Correct on hand by ``delta`` (positive: found, negative: lost) through the
    adjustment location; found units come in at the current average cost."""
    ctx.principal.require("inventory.stock.adjust")
    check_value("warehouse_id", identifier(), warehouse_id)
    product_id = check_value("product_id", identifier(), product_id)
    delta = check_value("delta", quantity(), delta)
    reason = check_value("reason", text(200), reason)
    if delta == 0:
        return None
    item = product(ctx, product_id)
    storage = warehouse_location(ctx.session, warehouse_id).id
    adjustment = virtual_location(ctx.session, LocationKind.ADJUSTMENT).id
    if delta > 0:
        return post_and_alert(ctx, item, delta, adjustment, storage, origin=origin,
                              reason=reason, unit_cost=item.cost)
    return post_and_alert(ctx, item, -delta, storage, adjustment, origin=origin, reason=reason)


def return_to_stock(ctx: Context, warehouse_id: int, product_id: int, quantity: Decimal,
                    *, damaged: bool = False, origin: str | None = None) -> int:
    """Units coming back from a customer, into storage or to the damaged location."""
    ctx.principal.require("inventory.stock.receive")
    product_id = check_value("product_id", identifier(), product_id)
    quantity = check_value("quantity", STOCK_QUANTITY, quantity)
    item = product(ctx, product_id)
    target = (virtual_location(ctx.session, LocationKind.DAMAGED) if damaged
              else warehouse_location(ctx.session, warehouse_id))
    return post_and_alert(ctx, item, quantity,
                          virtual_location(ctx.session, LocationKind.CUSTOMER).id, target.id,
                          origin=origin, unit_cost=None)
