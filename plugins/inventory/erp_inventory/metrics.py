"""Stock figures, defined once for every report: what stock is worth now, what ran out,
how long it lasts, how fast it turns, what went out to customers and at what cost.

Stock value is on hand at the product's moving-average cost, in the product's currency.
Goods shipped are the ledger's moves into customer locations, at the cost they left at.
Days of cover and turnover compare the stock of each product in each warehouse with
what left that warehouse for customers over the last ``RECENT_DAYS`` days (counted back
from the moment the report runs): days of cover is how many days of such shipments the
stock on hand lasts, turnover how many times a year the stock's value goes out at that
pace.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from erp_inventory.alerts import StockAlert
from erp_inventory.catalogue import Category, Product
from erp_inventory.ledger import Move, StockLevel
from erp_inventory.warehouses import Location, LocationKind, Warehouse
from erp_sdk import (
    AwareDateTime,
    Dimension,
    Join,
    Measure,
    Metric,
    MetricSource,
    Unit,
    exact_product,
    hookimpl,
    utcnow,
)

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

RECENT_DAYS = 30
_recent_since = sa.bindparam(  # evaluated each time a report runs, not when defined
    "recent_shipments_since", type_=AwareDateTime(),
    callable_=lambda: utcnow() - dt.timedelta(days=RECENT_DAYS))
_shipped_to = Location.__table__.alias("recently_to")
_shipped_from = Location.__table__.alias("recently_from")


def _recently_shipped(amount: sa.ColumnElement[Any]) -> sa.ScalarSelect[Any]:
    """``amount`` summed over what left the stock row's warehouse for customers in the
    last ``RECENT_DAYS`` days (a subquery correlated with the stock row)."""
    return (sa.select(sa.func.coalesce(sa.func.sum(amount), 0))
            .select_from(move.join(_shipped_to, _shipped_to.c.id == move.c.to_location_id)
                         .join(_shipped_from, _shipped_from.c.id == move.c.from_location_id))
            .where(move.c.product_id == stock.c.product_id,
                   _shipped_from.c.warehouse_id == stock.c.warehouse_id,
                   _shipped_to.c.kind == LocationKind.CUSTOMER, move.c.state == "done",
                   move.c.done_at >= _recent_since)
            .correlate(stock).scalar_subquery())


_RECENT_UNITS = sa.type_coerce(_recently_shipped(move.c.quantity), stock.c.on_hand.type)
_RECENT_COST = sa.type_coerce(
    _recently_shipped(exact_product(move.c.unit_cost, move.c.quantity)), product.c.cost.type)


def _times(factor: int) -> sa.ColumnElement[int]:
    """A whole factor as an integer: bound with a decimal column's type, SQLite would
    store it scaled like an amount."""
    return sa.literal(factor, sa.Integer)


_READ = "inventory.stock_level.read"
_STOCK_VALUE = Measure.sum(exact_product(product.c.cost, stock.c.on_hand))
# integer factors keep SQLite's scaled integers exact: days = 30 x on hand / units shipped,
# turns a year = cost shipped x 365 / (stock value x 30) = 73 x cost / (6 x value)
_DAYS_OF_COVER = Measure.ratio(
    Measure.sum(sa.type_coerce(stock.c.on_hand * _times(RECENT_DAYS), stock.c.on_hand.type)),
    Measure.sum(_RECENT_UNITS))
_TURNOVER = Measure.ratio(
    Measure.sum(sa.type_coerce(_RECENT_COST * _times(73), product.c.cost.type)),
    Measure.sum(sa.type_coerce(exact_product(product.c.cost, stock.c.on_hand) * _times(6),
                               product.c.cost.type)))


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
        Metric("days_of_cover", "Days of cover", _DAYS_OF_COVER, STOCK, _READ, Unit.NUMBER,
               f"Days the stock on hand lasts at the last {RECENT_DAYS} days' shipments"),
        Metric("turnover", "Stock turnover", _TURNOVER, STOCK, _READ, Unit.NUMBER,
               f"Times a year the stock's value goes out, at the last {RECENT_DAYS} days'"
               " pace"),
        Metric("units_shipped", "Units shipped", Measure.sum(move.c.quantity), SHIPMENTS,
               "inventory.move.read", Unit.QUANTITY),
        Metric("cost_of_goods_shipped", "Cost of goods shipped",
               Measure.sum(exact_product(move.c.unit_cost, move.c.quantity)), SHIPMENTS,
               "inventory.move.read", Unit.MONEY),
        Metric("low_stock_alerts", "Low-stock alerts",
               Measure.count(sa.case((alert.c.kind == "low", alert.c.id))), OPEN_ALERTS,
               "inventory.stock_alert.read", Unit.COUNT, "Open alerts below a minimum"),
    ]
