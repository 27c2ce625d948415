"""Fixtures for the orders plugin's tests: a kernel with orders (and so inventory and crm)
enabled on a fresh database (SQLite, or a PostgreSQL schema with ERP_TEST_DATABASE_URL)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from erp_core.kernel import Kernel
from erp_inventory.testing import *  # noqa: F403  (system, run, warehouse, make_product, ...)


@pytest.fixture
def kernel(erp_kernel_factory: Callable[..., Kernel]) -> Kernel:
    """A booted kernel with orders (and what it depends on) enabled, from the SDK's kit."""
    return erp_kernel_factory("orders")


@pytest.fixture
def shop(kernel: Kernel, warehouse: int, make_product: Callable[..., int]) -> dict[str, int]:
    """A channel serving the warehouse, a customer with a default address, two products
    with 10 units each (TEA-1 at 4.20, MUG-1 at 12.50)."""
    from erp_inventory.movements import receive

    tea, mug = make_product("TEA-1", price="4.20"), make_product("MUG-1", price="12.50")
    with kernel.context() as ctx:
        channel = ctx.records("orders.channel").create(
            {"code": "web", "name": "Web shop", "kind": "own_site", "warehouse_id": warehouse,
             "settings": {}, "secrets": {}})
        customer = ctx.records("crm.customer").create({"name": "Ada", "kind": "person"})
        address = ctx.records("crm.address").create(
            {"customer_id": customer["id"], "line1": "1 Main St", "city": "Paris",
             "country": "FR", "postal_code": "75001"})
        ctx.records("crm.customer").update(customer["id"],
                                           {"default_shipping_address_id": address["id"]})
        for product in (tea, mug):
            receive(ctx, warehouse, product, Decimal(10), Decimal("1.00"))
        # an earlier completed order would make this customer known; keep review rules
        # quiet by default so tests opt into them
        for rule in ("first_order", "address_mismatch"):
            ctx.records("orders.review_policy").create({"rule": rule, "enabled": False})
    return {"channel": channel["id"], "customer": customer["id"], "tea": tea, "mug": mug,
            "warehouse": warehouse}
