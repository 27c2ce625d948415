"""Stock figures, defined once for every report: what stock is worth now, what ran out,
what went out to customers and at what cost.

Stock value is on hand at the product's moving-average cost, in the product's currency.
Goods shipped are the ledger's moves into customer locations, at the cost they left at.
"""

from __future__ import annotations

import sqlalchemy as sa

from erp_inventory.alerts import StockAlert
from erp_inventory.catalogue import Category, Product
from erp_inventory.ledger import Move, StockLevel
from erp_inventory.warehouses import Location, LocationKind, Warehouse
from erp_sdk import Dimension, Join, Measure, Metric, MetricSource, Unit, exact_product, hookimpl

stock = StockLevel.__table__
product = Product.__table__
category = Category.__table__
warehouse = Warehouse.__table__
move = Move.__table__
alert = StockAlert.__table__
source_location = Location.__table__.alias("shipped_from")
destination = Location.__table__.alias("shipped_to")

_CATEGORY = Join(category, category.c.id == product.c.category_id)


def _dimensions(product_id: sa.ColumnElement[int], warehouse_id: sa.ColumnElement[int],
                product_joined: bool) -> list[Dimension]:
    to_product = [] if product_joined else [Join(product, product.c.id == product_id)]
    return [
        Dimension("product", product_id, joins=to_product, label=product.c.name,
                  title="Product"),
        Dimension("category", product.c.category_id, joins=[*to_product, _CATEGORY],
                  label=category.c.name, title="Category"),
        Dimension("warehouse", warehouse_id,
                  joins=[Join(warehouse, warehouse.c.id == warehouse_id)],
                  label=warehouse.c.name, title="Warehouse"),
    ]


STOCK = MetricSource(
    "stock",
    stock,
    joins=[Join(product, product.c.id == stock.c.product_id, outer=False)],
    entities={"inventory.stock_level": stock, "inventory.product": product},
    currency=product.c.currency,
    record=("inventory.stock_level", stock.c.id),
    dimensions=[*_dimensions(stock.c.product_id, stock.c.warehouse_id, product_joined=True),
                Dimension("currency", product.c.currency, title="Currency")],
)

SHIPMENTS = MetricSource(
    "goods_shipped",
    move,
    joins=[Join(destination, destination.c.id == move.c.to_location_id, outer=False),
           Join(source_location, source_location.c.id == move.c.from_location_id,
                outer=False),
           Join(product, product.c.id == move.c.product_id, outer=False)],
    condition=sa.and_(destination.c.kind == LocationKind.CUSTOMER, move.c.state == "done"),
    time=move.c.done_at,
    entities={"inventory.move": move},
    currency=product.c.currency,
    record=("inventory.move", move.c.id),
    dimensions=[*_dimensions(move.c.product_id, source_location.c.warehouse_id,
                             product_joined=True),
                Dimension("currency", product.c.currency, title="Currency")],
)

OPEN_ALERTS = MetricSource(
    "stock_alerts",
    alert,
    condition=alert.c.cleared_at.is_(None),
    entities={"inventory.stock_alert": alert},
    record=("inventory.stock_alert", alert.c.id),
    dimensions=[*_dimensions(alert.c.product_id, alert.c.warehouse_id, product_joined=False),
                Dimension("alert_kind", alert.c.kind, title="Alert")],
)

_READ = "inventory.stock_level.read"
_STOCK_VALUE = Measure.sum(exact_product(product.c.cost, stock.c.on_hand))


@hookimpl
def erp_register_metrics():
    return [
        Metric("stock_value", "Stock value", _STOCK_VALUE, STOCK, _READ, Unit.MONEY,
               "On hand at moving-average cost"),
        Metric("units_on_hand", "Units on hand", Measure.sum(stock.c.on_hand), STOCK, _READ,
               Unit.QUANTITY),
        Metric("units_available", "Units available", Measure.sum(stock.c.available), STOCK,
               _READ, Unit.QUANTITY),
        Metric("stock_outs", "Stock-outs",
               Measure.count(sa.case((stock.c.available <= 0, stock.c.id))), STOCK, _READ,
               Unit.COUNT, "Products with nothing available in a warehouse"),
        Metric("units_shipped", "Units shipped", Measure.sum(move.c.quantity), SHIPMENTS,
               "inventory.move.read", Unit.QUANTITY),
        Metric("cost_of_goods_shipped", "Cost of goods shipped",
               Measure.sum(exact_product(move.c.unit_cost, move.c.quantity)), SHIPMENTS,
               "inventory.move.read", Unit.MONEY),
        Metric("low_stock_alerts", "Low-stock alerts",
               Measure.count(sa.case((alert.c.kind == "low", alert.c.id))), OPEN_ALERTS,
               "inventory.stock_alert.read", Unit.COUNT, "Open alerts below a minimum"),
    ]
