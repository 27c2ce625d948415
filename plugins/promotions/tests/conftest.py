"""Fixtures for the promotions plugin's tests: a kernel with promotions (and so orders,
inventory and crm) enabled on a fresh database (SQLite, or a PostgreSQL schema with
ERP_TEST_DATABASE_URL), a shop with products in two categories, and API helpers."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from erp_core.kernel import Kernel
from erp_inventory.testing import *  # noqa: F403  (system, run, warehouse, make_product, ...)

PROMOTIONS = "/api/v1/promotions/promotions"
PLACE = "/api/v1/orders/place"


@pytest.fixture
def kernel(erp_kernel: Kernel) -> Kernel:
    """The kernel behind ``erp_client``."""
    return erp_kernel


@pytest.fixture
def shop(kernel: Kernel, warehouse: int) -> dict[str, int]:
    """A channel, two customers and four products with 50 units each: TEA (4.20) and
    COFFEE (9.99) in category drinks, MUG (12.50) and PLATE (7.00) in category kitchen."""
    from erp_inventory.catalogue import Category, Product
    from erp_inventory.movements import receive

    with kernel.transaction() as session:
        drinks, kitchen = Category(name="drinks", version=1), Category(name="kitchen", version=1)
        session.add_all([drinks, kitchen])
        session.flush()
        products = {}
        for sku, price, category in (("TEA", "4.20", drinks), ("COFFEE", "9.99", drinks),
                                     ("MUG", "12.50", kitchen), ("PLATE", "7.00", kitchen)):
            product = Product(sku=sku, name=sku.title(), list_price=Decimal(price),
                              category_id=category.id, version=1)
            session.add(product)
            session.flush()
            products[sku.lower()] = product.id
        categories = {"drinks": drinks.id, "kitchen": kitchen.id}
    with kernel.context() as ctx:
        channel = ctx.records("orders.channel").create(
            {"code": "web", "name": "Web shop", "kind": "own_site", "warehouse_id": warehouse,
             "settings": {}, "secrets": {}})
        other = ctx.records("orders.channel").create(
            {"code": "mp", "name": "Marketplace", "kind": "marketplace",
             "warehouse_id": warehouse, "settings": {}, "secrets": {}})
        customers = []
        for name in ("Ada", "Bob"):
            customer = ctx.records("crm.customer").create({"name": name, "kind": "person"})
            address = ctx.records("crm.address").create(
                {"customer_id": customer["id"], "line1": "1 Main St", "city": "Paris",
                 "country": "FR", "postal_code": "75001"})
            ctx.records("crm.customer").update(
                customer["id"], {"default_shipping_address_id": address["id"]})
            customers.append(customer["id"])
        for product in products.values():
            receive(ctx, warehouse, product, Decimal(50), Decimal("1.00"))
        for rule in ("first_order", "address_mismatch"):
            ctx.records("orders.review_policy").create({"rule": rule, "enabled": False})
    return {"channel": channel["id"], "other_channel": other["id"], "customer": customers[0],
            "other_customer": customers[1], "warehouse": warehouse, **products,
            **{f"cat_{k}": v for k, v in categories.items()}}


@pytest.fixture
def promote(erp_client: Any) -> Callable[..., dict[str, Any]]:
    """``promote(name=..., action=..., ...)``: create an active promotion through the API."""

    def create(**fields: Any) -> dict[str, Any]:
        body = {"name": fields.pop("name", "promotion"), "status": "active",
                "automatic": True, **fields}
        response = erp_client.post(PROMOTIONS, json=body)
        assert response.status_code == 201, response.text
        return response.json()

    return create


@pytest.fixture
def place(erp_client: Any, shop: dict[str, int]) -> Callable[..., Any]:
    """``place(("tea", "2"), ..., coupon_codes=[...], expect=201)``: place an order."""

    def order(*lines: tuple[str, str], expect: int | None = 201, **fields: Any) -> Any:
        body = {"channel_id": shop["channel"], "customer_id": shop["customer"],
                "lines": [{"product_id": shop[name], "quantity": qty, "tax_rate": "0.20"}
                          for name, qty in lines], **fields}
        response = erp_client.post(PLACE, json=body)
        if expect is None:
            return response
        assert response.status_code == expect, response.text
        return response.json()

    return order
