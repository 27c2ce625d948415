"""A small shop with known sales, for the reports' tests: its master data through the
plugins' services, its orders written straight into the tables with the times and states
a test needs (the reports read the tables; how an order got there is the orders
plugin's business and its own tests')."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from typing import Any

import attrs
import sqlalchemy as sa

from erp_sdk import Kernel

UTC = dt.UTC
_numbers = itertools.count(1)


@attrs.define
class Shop:
    kernel: Kernel
    warehouses: dict[str, int]
    channels: dict[str, int]
    categories: dict[str, int]
    products: dict[str, int]
    customers: dict[str, int]

    def order(self, placed_at: dt.datetime, channel: str, customer: str,
              lines: list[tuple[str, str, str]], *, state: str = "completed",
              currency: str = "EUR", discount: str = "0", returned: str = "0",
              warehouse: str = "main", country: str = "FR") -> int:
        """An order with ``lines`` of ``(product, quantity, unit price)``; ``discount``
        and ``returned`` apply to its first line."""
        from erp_orders.order import Order, OrderLine

        number = next(_numbers)
        with self.kernel.transaction() as session:
            record = Order(number=f"T-{number:06d}", channel_id=self.channels[channel],
                           customer_id=self.customers[customer],
                           warehouse_id=self.warehouses[warehouse], currency=currency,
                           state=state, placed_at=placed_at, ship_country=country,
                           subtotal=Decimal(0), total=Decimal(0))
            session.add(record)
            session.flush()
            total = Decimal(0)
            for index, (product, quantity, price) in enumerate(lines):
                gross = Decimal(quantity) * Decimal(price)
                off = Decimal(discount) if index == 0 else Decimal(0)
                session.add(OrderLine(order_id=record.id, product_id=self.products[product],
                                      quantity=Decimal(quantity), unit_price=Decimal(price),
                                      discount=off, line_net=gross - off, line_tax=Decimal(0),
                                      line_total=gross - off,
                                      quantity_returned=Decimal(returned if index == 0
                                                                else "0")))
                total += gross - off
            record.subtotal = record.total = total
            return record.id


def make_shop(kernel: Kernel) -> Shop:
    """Two warehouses, two channels, two categories of three products, three customers in
    two tiers."""
    with kernel.context() as ctx:
        warehouses = {code: ctx.records("inventory.warehouse").create(
            {"code": code.upper(), "name": f"{code.title()} warehouse"})["id"]
            for code in ("main", "south")}
        categories = {name: ctx.records("inventory.category").create({"name": name})["id"]
                      for name in ("Tea", "Ware")}
        products = {}
        for sku, name, category in (("TEA-1", "Green tea", "Tea"), ("TEA-2", "Black tea", "Tea"),
                                    ("MUG-1", "Mug", "Ware")):
            products[sku] = ctx.records("inventory.product").create(
                {"sku": sku, "name": name, "category_id": categories[category],
                 "list_price": "10"})["id"]
        channels = {code: ctx.records("orders.channel").create(
            {"code": code, "name": code.title(), "kind": "manual", "settings": {},
             "secrets": {}})["id"] for code in ("web", "market")}
        customers = {}
        for name, tier in (("Ada", "gold"), ("Bo", "silver"), ("Cy", "silver")):
            customers[name] = ctx.records("crm.customer").create(
                {"name": name, "kind": "person"})["id"]
            ctx.session.execute(sa.text("UPDATE crm_customer SET tier = :tier WHERE id = :id"),
                                {"tier": tier, "id": customers[name]})
    return Shop(kernel, warehouses, channels, categories, products, customers)


def at(text: str) -> dt.datetime:
    """An aware UTC instant from ``YYYY-MM-DD HH:MM``."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def rows_by(answer: dict[str, Any], *keys: str) -> dict[Any, dict[str, Any]]:
    """A report's rows by the value (or tuple of values) of ``keys``."""
    return {(row[keys[0]] if len(keys) == 1 else tuple(row[k] for k in keys)): row
            for row in answer["rows"]}
